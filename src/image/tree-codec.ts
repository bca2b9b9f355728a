/**
 * A merged tree as bytes, to keep in the cache: its state (`MergedTree.state()`) as a JSON header
 * in which every column stands as a reference, followed by the columns' raw bytes (8-byte aligned),
 * zstd-compressed. Decoding gives an equal tree, or undefined for bytes that are not one of this
 * format. A tree is derived from complete, verified listings and the merge rules of this version,
 * so its cache key names both (`treeKey`).
 */
import { digestOf } from "../oci/digest.ts";
import { version } from "../version.ts";
import type { Column } from "./columns.ts";
import { MergedTree, type TreeData } from "./merge.ts";

/** Bumped whenever the stored state changes shape or the merge rules change. */
const FORMAT = 2;
const MAGIC = new TextEncoder().encode(`layerslayer merged tree ${FORMAT}\n`);
const KINDS = { Int32Array, Uint32Array, Uint16Array, Uint8Array, Float64Array } as const;
type Kind = keyof typeof KINDS;

interface ColumnRef {
  $col: number;
}

function kindOf(v: unknown): Kind | undefined {
  for (const k of Object.keys(KINDS) as Kind[]) if (v instanceof KINDS[k]) return k;
  return undefined;
}

const align8 = (n: number) => (n + 7) & ~7;

/** The cache key of the tree of these layers (index and digest, bottom first). */
export function treeKey(layers: ReadonlyArray<readonly [number, string]>): string {
  return digestOf(new TextEncoder().encode(JSON.stringify({ format: FORMAT, version, layers })), "sha256");
}

/**
 * The tree as bytes; undefined when its state has a value JSON cannot carry (NaN in a field kept
 * aside), or when it was built without its history (only whole trees are kept).
 */
export function encodeTree(tree: MergedTree): Uint8Array | undefined {
  if (!tree.hasHistory) return undefined;
  const cols: Column[] = [];
  let lossy = false;
  const state = JSON.stringify(tree.state(), (_key, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) lossy = true;
    if (!kindOf(v)) return v;
    cols.push(v as Column);
    return { $col: cols.length - 1 } satisfies ColumnRef;
  });
  if (lossy) return undefined;
  const header = new TextEncoder().encode(JSON.stringify({ cols: cols.map((c) => [kindOf(c), c.length]), state }));
  let size = align8(MAGIC.length + 4 + header.length);
  const at = cols.map((c) => {
    const start = size;
    size = align8(size + c.byteLength);
    return start;
  });
  const out = new Uint8Array(size);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  out.set(header, MAGIC.length + 4);
  cols.forEach((c, i) => out.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at[i]!));
  return Bun.zstdCompressSync(out, { level: 1 });
}

/**
 * Puts the columns back where the state names them (`{ $col: n }`), in place. A walk rather than
 * a JSON.parse reviver: the reviver is called for every value and took most of a cached `ls`'s
 * decoding time (docs/performance.md).
 */
function restoreColumns(v: unknown, cols: Column[]): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = restoreColumns(v[i], cols);
      if (r !== v[i]) v[i] = r;
    }
    return v;
  }
  if (Object.hasOwn(v, "$col")) {
    const col = cols[(v as ColumnRef).$col];
    if (!col) throw new Error("bad reference");
    return col;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const r = restoreColumns(o[k], cols);
    if (r !== o[k]) Object.defineProperty(o, k, { value: r, writable: true, enumerable: true, configurable: true });
  }
  return o;
}

export function decodeTree(bytes: Uint8Array): MergedTree | undefined {
  try {
    const raw = Bun.zstdDecompressSync(bytes as Uint8Array<ArrayBuffer>);
    if (raw.length < MAGIC.length + 4 || MAGIC.some((b, i) => raw[i] !== b)) return undefined;
    const headerLength = new DataView(raw.buffer, raw.byteOffset).getUint32(MAGIC.length, true);
    const header = JSON.parse(new TextDecoder().decode(raw.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength))) as { cols: [Kind, number][]; state: string };
    let offset = align8(MAGIC.length + 4 + headerLength);
    // Columns are views of the decompressed bytes where they are aligned (they are stored 8-byte
    // aligned; the buffer normally starts at 0), copies otherwise.
    const aligned = raw.byteOffset % 8 === 0;
    const buffer = raw.buffer as ArrayBuffer;
    const cols = header.cols.map(([kind, length]) => {
      const Type = KINDS[kind];
      if (!Type || !Number.isSafeInteger(length) || length < 0) throw new Error("bad column");
      const byteLength = length * Type.BYTES_PER_ELEMENT;
      if (offset + byteLength > raw.length) throw new Error("short");
      const start = raw.byteOffset + offset;
      const col = aligned ? new Type(buffer, start, length) : new Type(buffer.slice(start, start + byteLength));
      offset = align8(offset + byteLength);
      return col;
    });
    const state = restoreColumns(JSON.parse(header.state), cols) as TreeData;
    const tree = MergedTree.fromState(state);
    return tree.hasHistory ? tree : undefined;
  } catch {
    return undefined;
  }
}
