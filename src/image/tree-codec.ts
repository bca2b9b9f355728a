/**
 * A merged tree as bytes, to keep in the cache: a JSON header holding the tree's state
 * (`MergedTree.state()`) with every column left out (null where it stood) and, per column, its
 * type, length and where in the state it goes; then the columns' raw bytes (8-byte aligned); all
 * zstd-compressed. Decoding gives an equal tree, or undefined for bytes that are not one of this
 * format. A tree is derived from complete, verified listings and the merge rules of this version,
 * so its cache key names both (`treeKey`).
 */
import { digestOf } from "../oci/digest.ts";
import { version } from "../version.ts";
import type { Column } from "./columns.ts";
import { MergedTree, type TreeData } from "./merge.ts";

/**
 * Bumped whenever the stored state changes shape or the merge rules change. 3: the state is part
 * of the header (2 kept it as a JSON string inside it) and columns are placed by their path (2
 * marked them `{ $col: n }` and walked the whole state to find them).
 */
const FORMAT = 3;
const MAGIC = new TextEncoder().encode(`layerslayer merged tree ${FORMAT}\n`);
const KINDS = { Int32Array, Uint32Array, Uint16Array, Uint8Array, Float64Array } as const;
type Kind = keyof typeof KINDS;

/** Where a column goes in the state: the keys (and array indexes) from the top. */
type Place = (string | number)[];

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
  const places: Place[] = [];
  // Each object's place, learnt as the replacer meets it (before it descends into it).
  const placeOf = new Map<object, Place>();
  let top = true;
  let lossy = false;
  const state = JSON.stringify(tree.state(), function (this: object, key: string, v: unknown) {
    if (typeof v === "number" && !Number.isFinite(v)) lossy = true;
    const place: Place = top ? [] : [...placeOf.get(this)!, Array.isArray(this) ? Number(key) : key];
    top = false;
    if (kindOf(v)) {
      cols.push(v as Column);
      places.push(place);
      return null;
    }
    if (v !== null && typeof v === "object") placeOf.set(v, place);
    return v;
  });
  if (lossy) return undefined;
  const header = new TextEncoder().encode(`{"cols":${JSON.stringify(cols.map((c, i) => [kindOf(c), c.length, places[i]]))},"state":${state}}`);
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
 * Puts a column where `place` says, in place: only where the state holds the null it was left as
 * (an own property of an object or array made by JSON.parse), so no other value is replaced and
 * no prototype is reached, whatever the bytes say.
 */
function putColumn(state: unknown, place: unknown, col: Column): void {
  if (!Array.isArray(place) || place.length === 0) throw new Error("bad place");
  let holder = state;
  for (let i = 0; i < place.length; i++) {
    const key = place[i];
    if (holder === null || typeof holder !== "object") throw new Error("bad place");
    if (Array.isArray(holder) ? !Number.isSafeInteger(key) || key < 0 || key >= holder.length : typeof key !== "string" || !Object.hasOwn(holder, key)) {
      throw new Error("bad place");
    }
    const value = (holder as Record<string | number, unknown>)[key];
    if (i < place.length - 1) {
      holder = value;
      continue;
    }
    if (value !== null) throw new Error("bad place");
    Object.defineProperty(holder, key, { value: col, writable: true, enumerable: true, configurable: true });
  }
}

export function decodeTree(bytes: Uint8Array): MergedTree | undefined {
  try {
    const raw = Bun.zstdDecompressSync(bytes as Uint8Array<ArrayBuffer>);
    if (raw.length < MAGIC.length + 4 || MAGIC.some((b, i) => raw[i] !== b)) return undefined;
    const headerLength = new DataView(raw.buffer, raw.byteOffset).getUint32(MAGIC.length, true);
    const header = JSON.parse(new TextDecoder().decode(raw.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength))) as { cols: [Kind, number, Place][]; state: unknown };
    let offset = align8(MAGIC.length + 4 + headerLength);
    // Columns are views of the decompressed bytes where they are aligned (they are stored 8-byte
    // aligned; the buffer normally starts at 0), copies otherwise.
    const aligned = raw.byteOffset % 8 === 0;
    const buffer = raw.buffer as ArrayBuffer;
    for (const [kind, length, place] of header.cols) {
      const Type = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
      if (!Type || !Number.isSafeInteger(length) || length < 0) throw new Error("bad column");
      const byteLength = length * Type.BYTES_PER_ELEMENT;
      if (offset + byteLength > raw.length) throw new Error("short");
      const start = raw.byteOffset + offset;
      putColumn(header.state, place, aligned ? new Type(buffer, start, length) : new Type(buffer.slice(start, start + byteLength)));
      offset = align8(offset + byteLength);
    }
    const tree = MergedTree.fromState(header.state as TreeData);
    return tree.hasHistory ? tree : undefined;
  } catch {
    return undefined;
  }
}
