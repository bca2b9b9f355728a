/**
 * Load on `serve` (issue 20): 200 peeks and 50 cats at once against a server in its own process,
 * reading an image on the real registry (docker-registry on loopback). Reports each kind's
 * p50/p99 latency (request sent → body read to its end), errors, and the server's peak RSS (VmHWM)
 * against the 300 MiB target: figures, not assertions.
 *
 *   bun scripts/bench/serve.ts            (alone; `npm run bench` calls serveBench too)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { layerFrom, pushImage } from "../../test/support/fixtures.ts";
import { startRegistry, type TestRegistry } from "../../test/support/registry.ts";
import { mib, Report, secs, table } from "./report.ts";

const PEEKS = 200;
const CATS = 50;
const TARGET_RSS_MIB = 300;

/** A deterministic pseudo-random buffer (gzip cannot shrink it: the layer has a real compressed size). */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** An image of two layers: 3000 small files around 4 MiB of data, then a layer with the files the cats read. */
async function pushBenchImage(reg: TestRegistry): Promise<string> {
  const files = [];
  for (let i = 0; i < 3000; i++) files.push({ path: `usr/share/bench/d${i % 50}/f${i}.txt`, content: `file ${i}\n`.repeat(1 + (i % 20)) });
  files.push({ path: "opt/blob.bin", content: noise(4 * 1024 * 1024, 7) });
  const top = [
    { path: "etc/os-release", content: "ID=bench\nVERSION_ID=1\n" },
    { path: "opt/data/half.bin", content: noise(512 * 1024, 11) },
  ];
  await pushImage(reg, "bench/serve", "v1", { layers: [{ bytes: layerFrom(files) }, { bytes: layerFrom(top) }] });
  return `${reg.host}/bench/serve:v1`;
}

/** Peak resident set of a process so far (VmHWM), in KiB; 0 when /proc cannot tell. */
function peakRssKiB(pid: number): number {
  try {
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Outcome {
  ms: number;
  ok: boolean;
  bytes: number;
  status: number;
}

async function timed(url: string): Promise<Outcome> {
  const t = performance.now();
  try {
    const res = await fetch(url);
    const body = new Uint8Array(await res.arrayBuffer());
    // A peek cut short ends with an error record; a cat with a short body.
    const cut = res.headers.get("content-type") === "application/x-ndjson" && new TextDecoder().decode(body.subarray(Math.max(0, body.byteLength - 300))).includes('"error"');
    return { ms: performance.now() - t, ok: res.ok && !cut, bytes: body.byteLength, status: res.status };
  } catch {
    return { ms: performance.now() - t, ok: false, bytes: 0, status: 0 };
  }
}

async function waitForServer(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/openapi.json`)).ok) return;
    } catch {}
    if (Date.now() > until) throw new Error(`serve did not answer at ${url} within ${deadlineMs} ms`);
    await Bun.sleep(50);
  }
}

/**
 * Runs the load and adds its section to `report`. `cli` is the command that runs layerslayer
 * (the source or the binary); `reg` a running registry (one is started when none is given).
 */
export async function serveBench(report: Report, opts: { cli: string[]; env: Record<string, string>; reg?: TestRegistry }): Promise<void> {
  const reg = opts.reg ?? (await startRegistry());
  const home = mkdtempSync(join(tmpdir(), "ls-bench-serve-"));
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  try {
    const image = await pushBenchImage(reg);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const url = `http://127.0.0.1:${port}`;
    // Every request comes from this one client: its limits are raised so the load is not refused by them.
    const all = String(PEEKS + CATS);
    proc = Bun.spawn(
      [
        ...opts.cli,
        "serve",
        "--listen",
        `127.0.0.1:${port}`,
        "--allow-registry",
        reg.host,
        "--no-access-log",
        "--client-downloads",
        all,
        "--max-downloads",
        all,
        "--client-rate",
        "100000",
      ],
      { env: { ...opts.env, HOME: home, XDG_CACHE_HOME: join(home, "cache") }, stdout: "ignore", stderr: "pipe" },
    );
    await waitForServer(url, 15_000);
    const idleKiB = peakRssKiB(proc.pid);
    const q = (params: Record<string, string>) => new URLSearchParams({ ref: image, ...params }).toString();
    const started = performance.now();
    const [peeks, cats] = await Promise.all([
      Promise.all(Array.from({ length: PEEKS }, () => timed(`${url}/v1/peek?${q({})}`))),
      Promise.all(Array.from({ length: CATS }, (_, i) => timed(`${url}/v1/cat?${q({ path: i % 2 ? "/etc/os-release" : "/opt/data/half.bin" })}`))),
    ]);
    const wallMs = performance.now() - started;
    const peakKiB = peakRssKiB(proc.pid);
    const row = (what: string, runs: Outcome[]) => {
      const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
      const failed = runs.filter((r) => !r.ok);
      const statuses = [...new Set(failed.map((r) => r.status))].join(", ");
      return [what, runs.length, failed.length ? `${failed.length} (status ${statuses})` : "0", secs(percentile(ms, 50)), secs(percentile(ms, 99)), secs(ms.at(-1)!)];
    };
    report.section(`serve under load: ${PEEKS} peeks (default budget) and ${CATS} cats at once, one server process, ${image}`);
    report.add(table(["requests", "count", "errors", "p50", "p99", "slowest"], [row("peek (NDJSON, whole answer)", peeks), row("cat (half 512 KiB file, half small)", cats)]));
    report.add(
      `\nAll ${PEEKS + CATS} answered in ${secs(wallMs)}. Server peak RSS (VmHWM): ${mib(peakKiB)} (target ≤ ${TARGET_RSS_MIB} MiB${
        peakKiB ? (peakKiB <= TARGET_RSS_MIB * 1024 ? ": met" : ": MISSED") : ": not measured"
      }); ${mib(idleKiB)} when ready. Cache on (the server's default), cold at the start.`,
    );
  } finally {
    proc?.kill("SIGTERM");
    await proc?.exited;
    if (!opts.reg) await reg.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1" };
  await serveBench(new Report(), { cli: [process.execPath, join(import.meta.dir, "../../src/cli/main.ts")], env });
}
