/**
 * A layer's random-access index in the cache: its gzip checkpoints (see src/codec/checkpoint.ts)
 * and, when the layer was read only up to some point, the entries before that point. Stored as one
 * zstd-compressed record per layer: a JSON head (checkpoint fields, window lengths) followed by the
 * windows. Checkpoints are thinned (every other one dropped) until the record is at most
 * MAX_SHARE of the layer's size.
 */
import type { Checkpoint } from "../codec/checkpoint.ts";
import type { LayerIndex } from "./cache.ts";
import { decodeEntries, encodeEntries, entriesLookValid } from "./listing-codec.ts";
import { now, type Rows } from "./rows.ts";

export const LAYER_INDEX_TABLES = `
CREATE TABLE layer_index (
  digest TEXT PRIMARY KEY,
  checkpoints BLOB NOT NULL,
  prefix BLOB,
  mac BLOB NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Checkpoints may take at most this share of the layer's size in the cache. */
export const MAX_SHARE = 0.03;

const FORMAT = 1;

interface Head {
  v: number;
  cps: [bit: number, out: number, member: number, crc: number, size: number, windowLength: number][];
}

export function encodeCheckpoints(cps: readonly Checkpoint[]): Uint8Array {
  const head: Head = { v: FORMAT, cps: cps.map((c) => [c.bit, c.out, c.member, c.crc, c.size, c.window.length]) };
  const json = new TextEncoder().encode(JSON.stringify(head));
  const raw = new Uint8Array(4 + json.length + cps.reduce((n, c) => n + c.window.length, 0));
  new DataView(raw.buffer).setUint32(0, json.length, true);
  raw.set(json, 4);
  let at = 4 + json.length;
  for (const c of cps) {
    raw.set(c.window, at);
    at += c.window.length;
  }
  return Bun.zstdCompressSync(raw, { level: 3 });
}

const safe = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

export function decodeCheckpoints(data: Uint8Array): Checkpoint[] | undefined {
  try {
    const raw = Bun.zstdDecompressSync(data as Uint8Array<ArrayBuffer>);
    const n = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(raw.subarray(4, 4 + n))) as Head;
    if (head?.v !== FORMAT || !Array.isArray(head.cps)) return undefined;
    let at = 4 + n;
    const out: Checkpoint[] = [];
    for (const c of head.cps) {
      if (!Array.isArray(c) || c.length !== 6 || !c.every(safe) || c[5] > 32768 || at + c[5] > raw.length) return undefined;
      out.push({ bit: c[0], out: c[1], member: c[2], crc: c[3], size: c[4], window: raw.slice(at, at + c[5]) });
      at += c[5];
    }
    for (let i = 1; i < out.length; i++) if (out[i]!.out <= out[i - 1]!.out) return undefined;
    return out;
  } catch {
    return undefined;
  }
}

/** The encoded checkpoints, thinned until they fit in MAX_SHARE of `layerSize`. */
export function fittedCheckpoints(cps: readonly Checkpoint[], layerSize: number): Uint8Array {
  let list = [...cps];
  for (;;) {
    const data = encodeCheckpoints(list);
    if (data.length <= MAX_SHARE * layerSize || list.length === 0) return data;
    list = list.filter((_, i) => i % 2 === 1);
  }
}

/** The MAC binds the checkpoints and the partial listing to the layer (a changed window would make `cat` write wrong bytes). */
const indexFields = (digest: string, checkpoints: Uint8Array, prefix: Uint8Array | null) => ["layer index", digest, checkpoints, prefix] as const;

export function readLayerIndex(rows: Rows, digest: string): LayerIndex | undefined {
  return rows.use(undefined, (db) => {
    const row = db.query("SELECT checkpoints, prefix, mac FROM layer_index WHERE digest = ?").get(digest) as {
      checkpoints: Uint8Array;
      prefix: Uint8Array | null;
      mac: Uint8Array;
    } | null;
    if (!row) return undefined;
    const sealed = rows.seal.check(row.mac, ...indexFields(digest, row.checkpoints, row.prefix));
    const checkpoints = sealed ? decodeCheckpoints(row.checkpoints) : undefined;
    const prefix = sealed && row.prefix ? decodeEntries(row.prefix) : undefined;
    if (!checkpoints || (row.prefix && !prefix)) {
      db.query("DELETE FROM layer_index WHERE digest = ?").run(digest);
      rows.dropped(`the checkpoints of ${digest}`);
      return undefined;
    }
    return { checkpoints, ...(prefix ? { prefix } : {}) };
  });
}

export function writeLayerIndex(rows: Rows, digest: string, index: LayerIndex, layerSize: number): boolean {
  if (index.prefix && !entriesLookValid(index.prefix)) return false;
  const cps = fittedCheckpoints(index.checkpoints, layerSize);
  const prefix = index.prefix ? encodeEntries(index.prefix) : null;
  const mac = rows.seal.mac(...indexFields(digest, cps, prefix));
  return rows.use(false, (db) => {
    db.query("INSERT OR REPLACE INTO layer_index (digest, checkpoints, prefix, mac, created) VALUES (?, ?, ?, ?, ?)").run(digest, cps, prefix, mac, now());
    return true;
  });
}
