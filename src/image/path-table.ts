/**
 * Every path the merged tree has ever seen, as numbered places ("slots"): a slot is a parent slot
 * and a name, found again by an open-addressing hash of the two. Slot 0 is the root. A place is
 * never forgotten (a path deleted by a whiteout keeps its slot, and its history), so a path has one
 * slot for the life of the tree.
 *
 * Names are kept as bytes in one pool (Latin-1 when every code unit fits a byte; other names as
 * strings beside it): a name costs its length plus a few bytes, not a string object holding on to
 * the whole path it was cut from. Children of a slot are a linked list (first child, next sibling),
 * oldest first.
 */
import { ensure, NumberColumn } from "./columns.ts";
import { ROOT } from "./paths.ts";

export const ROOT_SLOT = 0;
/** No slot. */
export const NONE = -1;
/** `nameStart` of a name kept as a string (in `wide`). */
const WIDE = 0xffffffff;
/**
 * The pool is chunks of CHUNK bytes (a longer name gets a chunk of its own), never copied to grow:
 * a name's start is its chunk times CHUNK plus its offset in it.
 */
const CHUNK_BITS = 20;
const CHUNK = 1 << CHUNK_BITS;

const seed = (parent: number, length: number) => Math.imul(parent ^ 0x9e3779b9, 0x85ebca6b) ^ length;
const mix = (h: number, code: number) => Math.imul(h ^ code, 0x01000193);
const finish = (h: number) => (h ^ (h >>> 15)) >>> 0;

function hashName(parent: number, name: string): number {
  let h = seed(parent, name.length);
  for (let i = 0; i < name.length; i++) h = mix(h, name.charCodeAt(i));
  return finish(h);
}

export class PathTable {
  private n = 1;
  private parent = new Int32Array(64).fill(NONE);
  private nameStart = new Uint32Array(64);
  /** A byte a name while names are short (columns.ts). */
  private nameLength = new NumberColumn();
  private firstChild = new Int32Array(64).fill(NONE);
  private lastChild = new Int32Array(64).fill(NONE);
  private nextSibling = new Int32Array(64).fill(NONE);
  private chunks: Uint8Array[] = [new Uint8Array(1024)];
  /** The chunks as Buffers, for reading names (`latin1`). */
  private readonly views: Buffer[] = [];
  /** Bytes used in the last chunk. */
  private poolUsed = 0;
  private readonly wide = new Map<number, string>();
  /** Slot + 1 per bucket (0 = empty); a power of two, at most half full. Empty when sealed. */
  private buckets = new Int32Array(128);
  /** Without its hash and last children (`seal`). */
  private sealed = false;

  /** Number of slots, the root included. */
  get length(): number {
    return this.n;
  }

  parentOf(slot: number): number {
    return this.parent[slot]!;
  }

  nameOf(slot: number): string {
    if (slot === ROOT_SLOT) return ROOT;
    const start = this.nameStart[slot]!;
    if (start === WIDE) return this.wide.get(slot)!;
    const at = start & (CHUNK - 1);
    return this.latin1(start >>> CHUNK_BITS).toString("latin1", at, at + this.nameLength.get(slot));
  }

  /**
   * Chunk `i` as a Buffer (made once per chunk): a name is then one string made from its bytes,
   * where adding up its characters one at a time made a string per character: `ls -R` of 1,000,000
   * entries from the cache 150-152 → 149 MiB, 2.6-3.3 → 2.0-2.4 s of CPU (binary, load 11).
   */
  private latin1(i: number): Buffer {
    const chunk = this.chunks[i]!;
    let view = this.views[i];
    if (view?.buffer !== chunk.buffer) view = this.views[i] = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    return view;
  }

  /** The clean path of a slot ("." for the root). */
  pathOf(slot: number): string {
    if (slot === ROOT_SLOT) return ROOT;
    const parts: string[] = [];
    for (let s = slot; s !== ROOT_SLOT; s = this.parent[s]!) parts.push(this.nameOf(s));
    return parts.reverse().join("/");
  }

  /**
   * Drops what only finding and adding names needs (the hash, each slot's last child: 12 bytes a
   * slot), for a table that will be walked and asked about a few paths: `child` then reads the
   * parent's children in turn. Adding a name makes them again.
   */
  seal(): void {
    this.sealed = true;
    this.buckets = new Int32Array(0);
    this.lastChild = new Int32Array(0);
  }

  private unseal(): void {
    if (!this.sealed) return;
    this.sealed = false;
    this.lastChild = new Int32Array(this.parent.length).fill(NONE);
    // Slots are made in order, and children are listed oldest first: the last one is the largest.
    for (let s = 1; s < this.n; s++) this.lastChild[this.parent[s]!] = s;
    let size = 128;
    while (this.n * 2 > size) size *= 2;
    this.rehash(size);
  }

  /** Room for `n` slots without growing (a tree that knows how many entries are coming). */
  reserve(n: number): void {
    this.unseal();
    if (n > this.parent.length) this.grow(n);
    if (n * 2 > this.buckets.length) {
      let size = this.buckets.length;
      while (n * 2 > size) size *= 2;
      this.rehash(size);
    }
  }

  /** The slot of `name` in `parent`, or NONE. */
  child(parent: number, name: string): number {
    if (this.sealed) {
      for (let c = this.firstChild[parent]!; c !== NONE; c = this.nextSibling[c]!) if (this.nameIs(c, name)) return c;
      return NONE;
    }
    const mask = this.buckets.length - 1;
    for (let b = hashName(parent, name) & mask; ; b = (b + 1) & mask) {
      const v = this.buckets[b]!;
      if (v === 0) return NONE;
      if (this.parent[v - 1] === parent && this.nameIs(v - 1, name)) return v - 1;
    }
  }

  /** The slot of `name` in `parent`, made when there is none. */
  intern(parent: number, name: string): number {
    this.unseal();
    const found = this.child(parent, name);
    if (found !== NONE) return found;
    const slot = this.n++;
    if (slot >= this.parent.length) this.grow(slot + 1);
    this.parent[slot] = parent;
    this.storeName(slot, name);
    const last = this.lastChild[parent]!;
    if (last === NONE) this.firstChild[parent] = slot;
    else this.nextSibling[last] = slot;
    this.lastChild[parent] = slot;
    if (this.n * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.insert(slot);
    return slot;
  }

  /** The slot of a clean path, or NONE when no such path was ever seen. */
  lookup(path: string): number {
    return this.follow(path, false);
  }

  /** The slot of a clean path, made (with the slots of its parents) when there is none. */
  internPath(path: string): number {
    return this.follow(path, true);
  }

  /** Component by component from the root: found (or, with `make`, made) slots. */
  private follow(path: string, make: boolean): number {
    if (path === ROOT) return ROOT_SLOT;
    let slot = ROOT_SLOT;
    let from = 0;
    for (;;) {
      const cut = path.indexOf("/", from);
      const name = cut < 0 ? path.slice(from) : path.slice(from, cut);
      slot = make ? this.intern(slot, name) : this.child(slot, name);
      if (slot === NONE || cut < 0) return slot;
      from = cut + 1;
    }
  }

  /** The first child slot ever made in `slot` (NONE when none); then `nextSiblingOf`. */
  firstChildOf(slot: number): number {
    return this.firstChild[slot]!;
  }

  nextSiblingOf(slot: number): number {
    return this.nextSibling[slot]!;
  }

  /** Everything the table holds, for storing it (tree-codec.ts); `fromState` makes it again. */
  state() {
    this.unseal();
    const n = this.n;
    return {
      n,
      poolUsed: this.poolUsed,
      wide: [...this.wide],
      parent: this.parent.subarray(0, n),
      nameStart: this.nameStart.subarray(0, n),
      nameLength: this.nameLength.values(n),
      firstChild: this.firstChild.subarray(0, n),
      lastChild: this.lastChild.subarray(0, n),
      nextSibling: this.nextSibling.subarray(0, n),
      chunks: this.chunks.map((c, i) => (i === this.chunks.length - 1 ? c.subarray(0, this.poolUsed) : c)),
      buckets: this.buckets,
    };
  }

  static fromState(s: ReturnType<PathTable["state"]>): PathTable {
    const t = new PathTable();
    t.n = s.n;
    t.poolUsed = s.poolUsed;
    for (const [slot, name] of s.wide) t.wide.set(slot, name);
    t.parent = s.parent;
    t.nameStart = s.nameStart;
    t.nameLength = new NumberColumn(s.nameLength);
    t.firstChild = s.firstChild;
    t.lastChild = s.lastChild;
    t.nextSibling = s.nextSibling;
    t.chunks = s.chunks;
    t.buckets = s.buckets;
    return t;
  }

  private nameIs(slot: number, name: string): boolean {
    const start = this.nameStart[slot]!;
    if (start === WIDE) return this.wide.get(slot) === name;
    const len = this.nameLength.get(slot);
    if (len !== name.length) return false;
    const chunk = this.chunks[start >>> CHUNK_BITS]!;
    const at = start & (CHUNK - 1);
    for (let i = 0; i < len; i++) if (chunk[at + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  private storeName(slot: number, name: string): void {
    for (let i = 0; i < name.length; i++) {
      if (name.charCodeAt(i) > 0xff) {
        this.nameStart[slot] = WIDE;
        this.nameLength.set(slot, name.length);
        this.wide.set(slot, name);
        return;
      }
    }
    let last = this.chunks.length - 1;
    let chunk = this.chunks[last]!;
    if (this.poolUsed + name.length > chunk.length) {
      if (this.poolUsed + name.length <= CHUNK && last === 0) chunk = this.chunks[0] = ensure(chunk, this.poolUsed + name.length);
      else {
        // The next chunk (the first one grows up to CHUNK by doubling, for small trees).
        chunk = new Uint8Array(Math.max(CHUNK, name.length));
        this.chunks.push(chunk);
        this.poolUsed = 0;
        last++;
      }
    }
    for (let i = 0; i < name.length; i++) chunk[this.poolUsed + i] = name.charCodeAt(i);
    this.nameStart[slot] = last * CHUNK + this.poolUsed;
    this.nameLength.set(slot, name.length);
    this.poolUsed += name.length;
  }

  /** hashName of a stored slot, from the pool (no string made). */
  private hashOf(slot: number): number {
    const start = this.nameStart[slot]!;
    if (start === WIDE) return hashName(this.parent[slot]!, this.wide.get(slot)!);
    const len = this.nameLength.get(slot);
    const chunk = this.chunks[start >>> CHUNK_BITS]!;
    const at = start & (CHUNK - 1);
    let h = seed(this.parent[slot]!, len);
    for (let i = at; i < at + len; i++) h = mix(h, chunk[i]!);
    return finish(h);
  }

  private insert(slot: number): void {
    const mask = this.buckets.length - 1;
    let b = this.hashOf(slot) & mask;
    while (this.buckets[b] !== 0) b = (b + 1) & mask;
    this.buckets[b] = slot + 1;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size);
    for (let s = 1; s < this.n; s++) this.insert(s);
  }

  private grow(need: number): void {
    this.parent = ensure(this.parent, need, NONE);
    this.nameStart = ensure(this.nameStart, need);
    this.firstChild = ensure(this.firstChild, need, NONE);
    this.lastChild = ensure(this.lastChild, need, NONE);
    this.nextSibling = ensure(this.nextSibling, need, NONE);
  }
}
