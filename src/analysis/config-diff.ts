/**
 * What differs between two image configs: the settings a container starts with (env, entrypoint,
 * cmd, user, workdir, labels, exposed ports, volumes, stop signal, platform) and the build history.
 * Lists are compared as lists (order matters for entrypoint and cmd); env, labels, ports and
 * volumes as maps, one change per key.
 */
import type { HistoryEntry, ImageConfig } from "../oci/config.ts";
import { formatPlatform, platformOf } from "../oci/platform.ts";

export interface ConfigChange {
  /** "Env PATH", "Labels org.opencontainers.image.version", "Entrypoint", "History 3", … */
  key: string;
  a?: string;
  b?: string;
}

function mapOfEnv(env: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of env ?? []) {
    const i = kv.indexOf("=");
    out.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? "" : kv.slice(i + 1));
  }
  return out;
}

function mapOfRecord(r: Record<string, unknown> | null | undefined, values: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(r ?? {})) out.set(k, values ? String(v) : "");
  return out;
}

function compareMaps(key: string, a: Map<string, string>, b: Map<string, string>, out: ConfigChange[]): void {
  for (const k of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(k);
    const y = b.get(k);
    if (x !== y) out.push({ key: `${key} ${k}`, ...(x !== undefined ? { a: x } : {}), ...(y !== undefined ? { b: y } : {}) });
  }
}

function compareValues(key: string, x: string | undefined, y: string | undefined, out: ConfigChange[]): void {
  if ((x ?? "") !== (y ?? "")) out.push({ key, ...(x ? { a: x } : {}), ...(y ? { b: y } : {}) });
}

const list = (v: readonly string[] | null | undefined): string | undefined => (v && v.length ? JSON.stringify(v) : undefined);

function step(h: HistoryEntry): string {
  return `${h.created_by ?? ""}${h.empty_layer ? " (no layer)" : ""}`;
}

/** The changes from config A to config B, settings first, then history steps by position. */
export function diffConfigs(a: ImageConfig, b: ImageConfig): ConfigChange[] {
  const out: ConfigChange[] = [];
  const ca = a.config ?? {};
  const cb = b.config ?? {};
  compareValues("Platform", formatPlatform(platformOf(a)), formatPlatform(platformOf(b)), out);
  compareValues("User", ca.User, cb.User, out);
  compareValues("WorkingDir", ca.WorkingDir, cb.WorkingDir, out);
  compareValues("Entrypoint", list(ca.Entrypoint), list(cb.Entrypoint), out);
  compareValues("Cmd", list(ca.Cmd), list(cb.Cmd), out);
  compareValues("StopSignal", ca.StopSignal, cb.StopSignal, out);
  compareMaps("Env", mapOfEnv(ca.Env), mapOfEnv(cb.Env), out);
  compareMaps("Labels", mapOfRecord(ca.Labels, true), mapOfRecord(cb.Labels, true), out);
  compareMaps("ExposedPorts", mapOfRecord(ca.ExposedPorts, false), mapOfRecord(cb.ExposedPorts, false), out);
  compareMaps("Volumes", mapOfRecord(ca.Volumes, false), mapOfRecord(cb.Volumes, false), out);
  const ha = a.history ?? [];
  const hb = b.history ?? [];
  for (let i = 0; i < Math.max(ha.length, hb.length); i++) {
    compareValues(`History ${i}`, ha[i] ? step(ha[i]!) : undefined, hb[i] ? step(hb[i]!) : undefined, out);
  }
  return out;
}
