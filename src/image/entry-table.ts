/**
 * Entries in columns: the fields of `Entry` in typed arrays, one row per entry, about 60 bytes a
 * row instead of an object, its path string and its property storage. `get` rebuilds an equal
 * `Entry` (the same fields, absent ones absent). A row's path is not stored: it is the path of the
 * place the tree gave it (`slotOf`), unless the archive spelled it differently ("a//b"), which is
 * kept aside. Values that do not fit their column (a uid above 2^32, a mode above 0o177777, a
 * fractional layer) are kept aside too, so nothing is rounded.
 */
import { ENTRY_TYPE_CODE, ENTRY_TYPES, type Entry, type EntryType } from "../types.ts";
import { ensure } from "./columns.ts";

const TYPES = ENTRY_TYPES;
const TYPE_CODE = ENTRY_TYPE_CODE;

/** Fields of a row that did not fit their columns, or that few entries have. */
type Aside = Partial<Pick<Entry, "path" | "mode" | "uid" | "gid" | "uname" | "gname" | "linkname" | "devmajor" | "devminor" | "layer">>;

/** 0 in a name column: the entry has no such name. */
const NO_NAME = 0;
/** -1 in the layer column: the entry has no `layer`. */
const NO_LAYER = -1;

const fitsU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

export class EntryTable {
  private n = 0;
  private type = new Uint8Array(0);
  private mode = new Uint16Array(0);
  private uid = new Uint32Array(0);
  private gid = new Uint32Array(0);
  private size = new Float64Array(0);
  private mtime = new Float64Array(0);
  private headerOffset = new Float64Array(0);
  private compressedOffset = new Float64Array(0);
  /** The entry's own `layer` field (NO_LAYER when absent). */
  private ownLayer = new Int32Array(0);
  /** The layer the tree applied it from. */
  private appliedLayer = new Int32Array(0);
  private slot = new Int32Array(0);
  private uname = new Uint16Array(0);
  private gname = new Uint16Array(0);
  /** Owner names, interned: index 0 is "no name". */
  private readonly names: string[] = [""];
  private readonly nameIds = new Map<string, number>();
  private readonly aside = new Map<number, Aside>();

  get length(): number {
    return this.n;
  }

  /** Stores `e` (applied from `layer`, at the clean path `path`) and returns its row. */
  add(e: Entry, layer: number, path: string): number {
    const type = TYPE_CODE.get(e.type);
    if (type === undefined) throw new RangeError(`unknown entry type ${String(e.type)}`);
    const i = this.n++;
    if (i >= this.type.length) this.grow(i + 1);
    // Fields few entries have, and values that do not fit their column.
    let extra: Aside | undefined;
    this.type[i] = type;
    if (Number.isInteger(e.mode) && e.mode >= 0 && e.mode <= 0xffff) this.mode[i] = e.mode;
    else (extra ??= {}).mode = e.mode;
    if (fitsU32(e.uid)) this.uid[i] = e.uid;
    else (extra ??= {}).uid = e.uid;
    if (fitsU32(e.gid)) this.gid[i] = e.gid;
    else (extra ??= {}).gid = e.gid;
    this.size[i] = e.size;
    this.mtime[i] = e.mtime;
    this.headerOffset[i] = e.headerOffset;
    this.compressedOffset[i] = e.compressedOffset;
    const own = e.layer;
    const ownFits = own !== undefined && Number.isInteger(own) && own >= 0 && own <= 0x7fffffff;
    this.ownLayer[i] = ownFits ? own : NO_LAYER;
    if (own !== undefined && !ownFits) (extra ??= {}).layer = own;
    this.appliedLayer[i] = layer;
    this.slot[i] = -1;
    this.uname[i] = this.nameId(e.uname);
    if (this.uname[i] === NO_NAME && e.uname !== undefined) (extra ??= {}).uname = e.uname;
    this.gname[i] = this.nameId(e.gname);
    if (this.gname[i] === NO_NAME && e.gname !== undefined) (extra ??= {}).gname = e.gname;
    if (e.path !== path) (extra ??= {}).path = e.path;
    if (e.linkname !== undefined) (extra ??= {}).linkname = e.linkname;
    if (e.devmajor !== undefined) (extra ??= {}).devmajor = e.devmajor;
    if (e.devminor !== undefined) (extra ??= {}).devminor = e.devminor;
    if (extra) this.aside.set(i, extra);
    return i;
  }

  /** Records where the tree placed row `i` (the place whose path is the one given to `add`). */
  setSlot(i: number, slot: number): void {
    this.slot[i] = slot;
  }

  slotOf(i: number): number {
    return this.slot[i]!;
  }

  layerOf(i: number): number {
    return this.appliedLayer[i]!;
  }

  typeOf(i: number): EntryType {
    return TYPES[this.type[i]!]!;
  }

  linknameOf(i: number): string | undefined {
    return this.aside.get(i)?.linkname;
  }

  /** Row `i` as an `Entry`, its path being `path` (the path of its place) unless spelled otherwise. */
  get(i: number, path: string): Entry {
    const e: Entry = {
      path,
      type: TYPES[this.type[i]!]!,
      mode: this.mode[i]!,
      size: this.size[i]!,
      uid: this.uid[i]!,
      gid: this.gid[i]!,
      mtime: this.mtime[i]!,
      headerOffset: this.headerOffset[i]!,
      compressedOffset: this.compressedOffset[i]!,
    };
    if (this.uname[i] !== NO_NAME) e.uname = this.names[this.uname[i]!]!;
    if (this.gname[i] !== NO_NAME) e.gname = this.names[this.gname[i]!]!;
    if (this.ownLayer[i] !== NO_LAYER) e.layer = this.ownLayer[i]!;
    const extra = this.aside.get(i);
    if (extra) Object.assign(e, extra);
    return e;
  }

  /** Everything the table holds, for storing it (tree-codec.ts); `fromState` makes it again. */
  state() {
    const n = this.n;
    return {
      n,
      names: this.names.slice(1),
      aside: [...this.aside],
      type: this.type.subarray(0, n),
      mode: this.mode.subarray(0, n),
      uid: this.uid.subarray(0, n),
      gid: this.gid.subarray(0, n),
      size: this.size.subarray(0, n),
      mtime: this.mtime.subarray(0, n),
      headerOffset: this.headerOffset.subarray(0, n),
      compressedOffset: this.compressedOffset.subarray(0, n),
      ownLayer: this.ownLayer.subarray(0, n),
      appliedLayer: this.appliedLayer.subarray(0, n),
      slot: this.slot.subarray(0, n),
      uname: this.uname.subarray(0, n),
      gname: this.gname.subarray(0, n),
    };
  }

  static fromState(s: ReturnType<EntryTable["state"]>): EntryTable {
    const t = new EntryTable();
    t.n = s.n;
    for (const name of s.names) {
      t.nameIds.set(name, t.names.length);
      t.names.push(name);
    }
    for (const [i, extra] of s.aside) t.aside.set(i, extra);
    t.type = s.type;
    t.mode = s.mode;
    t.uid = s.uid;
    t.gid = s.gid;
    t.size = s.size;
    t.mtime = s.mtime;
    t.headerOffset = s.headerOffset;
    t.compressedOffset = s.compressedOffset;
    t.ownLayer = s.ownLayer;
    t.appliedLayer = s.appliedLayer;
    t.slot = s.slot;
    t.uname = s.uname;
    t.gname = s.gname;
    return t;
  }

  /** The interned id of an owner name; NO_NAME when absent, or when the ids ran out (kept aside then). */
  private nameId(name: string | undefined): number {
    if (name === undefined) return NO_NAME;
    let id = this.nameIds.get(name);
    if (id === undefined) {
      if (this.names.length > 0xffff) return NO_NAME;
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }

  private grow(need: number): void {
    this.type = ensure(this.type, need);
    this.mode = ensure(this.mode, need);
    this.uid = ensure(this.uid, need);
    this.gid = ensure(this.gid, need);
    this.size = ensure(this.size, need);
    this.mtime = ensure(this.mtime, need);
    this.headerOffset = ensure(this.headerOffset, need);
    this.compressedOffset = ensure(this.compressedOffset, need);
    this.ownLayer = ensure(this.ownLayer, need);
    this.appliedLayer = ensure(this.appliedLayer, need);
    this.slot = ensure(this.slot, need);
    this.uname = ensure(this.uname, need);
    this.gname = ensure(this.gname, need);
  }
}
