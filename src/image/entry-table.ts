/**
 * Entries in columns: the fields of `Entry` in typed arrays, one row per entry, instead of an
 * object, its path string and its property storage. Each number column is as narrow as its values
 * allow (columns.ts NumberColumn: a byte for a uid 0 or a layer index, 64-bit floats only once a
 * value needs them), so a row of a typical layer costs about 27 bytes. `get` rebuilds an equal
 * `Entry` (the same fields, absent ones absent). A row's path is not stored: it is the path of the
 * place the tree gave it (`slotOf`), with a leading "./" or a trailing "/" when the archive spelled
 * it so (two bits beside the type); any other spelling ("a//b") is kept aside, as are fields few
 * entries have (a link target, device numbers).
 */
import { ENTRY_TYPE_CODE, ENTRY_TYPES, type Entry, type EntryType } from "../types.ts";
import { ensure, NumberColumn } from "./columns.ts";

const TYPES = ENTRY_TYPES;
const TYPE_CODE = ENTRY_TYPE_CODE;
/** Bits of the type byte above the type code: the archive wrote the path with "./" before it, "/" after it. */
const TYPE_MASK = 0x3f;
const DOT_SLASH = 0x40;
const TRAILING_SLASH = 0x80;

/** Fields of a row that few entries have, or that the columns do not say. */
type Aside = Partial<Pick<Entry, "path" | "linkname" | "devmajor" | "devminor" | "layer">>;

/** 0 in a name column: the entry has no such name. */
const NO_NAME = 0;

/** The spelling bits that make `clean` into `spelled`, or -1 when none do. */
function spellingOf(spelled: string, clean: string): number {
  if (spelled === clean) return 0;
  const dot = spelled.startsWith("./") ? 2 : 0;
  const slash = spelled.endsWith("/") ? 1 : 0;
  if (spelled.length !== clean.length + dot + slash || !spelled.startsWith(clean, dot)) return -1;
  return (dot ? DOT_SLASH : 0) | (slash ? TRAILING_SLASH : 0);
}

export class EntryTable {
  private n = 0;
  /** Type code, and the spelling bits. */
  private type = new Uint8Array(0);
  private mode = new NumberColumn();
  private uid = new NumberColumn();
  private gid = new NumberColumn();
  private size = new NumberColumn();
  private mtime = new NumberColumn();
  private headerOffset = new NumberColumn();
  private compressedOffset = new NumberColumn();
  /** The entry's own `layer` field plus one (0 when absent; kept aside when not a whole number ≥ 0). */
  private ownLayer = new NumberColumn();
  /** The layer the tree applied it from. */
  private appliedLayer = new NumberColumn();
  private slot = new Int32Array(0);
  private uname = new NumberColumn();
  private gname = new NumberColumn();
  /** Owner names, interned: index 0 is "no name". */
  private readonly names: string[] = [""];
  private readonly nameIds = new Map<string, number>();
  private readonly aside = new Map<number, Aside>();

  get length(): number {
    return this.n;
  }

  /** Room for `n` rows in all without growing. */
  reserve(n: number): void {
    this.type = ensure(this.type, n);
    this.slot = ensure(this.slot, n);
    for (const c of [this.mode, this.uid, this.gid, this.size, this.mtime, this.headerOffset, this.compressedOffset, this.ownLayer, this.appliedLayer, this.uname, this.gname])
      c.reserve(n);
  }

  /** Stores `e` (applied from `layer`, at the clean path `path`) and returns its row. */
  add(e: Entry, layer: number, path: string): number {
    const type = TYPE_CODE.get(e.type);
    if (type === undefined) throw new RangeError(`unknown entry type ${String(e.type)}`);
    const i = this.n++;
    if (i >= this.type.length) {
      this.type = ensure(this.type, i + 1);
      this.slot = ensure(this.slot, i + 1);
    }
    // Fields few entries have, and spellings two bits do not say.
    let extra: Aside | undefined;
    const spelling = spellingOf(e.path, path);
    if (spelling < 0) (extra ??= {}).path = e.path;
    this.type[i] = type | Math.max(spelling, 0);
    this.mode.set(i, e.mode);
    this.uid.set(i, e.uid);
    this.gid.set(i, e.gid);
    this.size.set(i, e.size);
    this.mtime.set(i, e.mtime);
    this.headerOffset.set(i, e.headerOffset);
    this.compressedOffset.set(i, e.compressedOffset);
    const own = e.layer;
    const ownFits = own !== undefined && Number.isInteger(own) && own >= 0;
    this.ownLayer.set(i, ownFits ? own + 1 : 0);
    if (own !== undefined && !ownFits) (extra ??= {}).layer = own;
    this.appliedLayer.set(i, layer);
    this.slot[i] = -1;
    this.uname.set(i, this.nameId(e.uname));
    this.gname.set(i, this.nameId(e.gname));
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
    return this.appliedLayer.get(i);
  }

  typeOf(i: number): EntryType {
    return TYPES[this.type[i]! & TYPE_MASK]!;
  }

  linknameOf(i: number): string | undefined {
    return this.aside.get(i)?.linkname;
  }

  /** Row `i` as an `Entry`, its path being `path` (the path of its place) unless spelled otherwise. */
  get(i: number, path: string): Entry {
    const t = this.type[i]!;
    const e: Entry = {
      path: t & (DOT_SLASH | TRAILING_SLASH) ? `${t & DOT_SLASH ? "./" : ""}${path}${t & TRAILING_SLASH ? "/" : ""}` : path,
      type: TYPES[t & TYPE_MASK]!,
      mode: this.mode.get(i),
      size: this.size.get(i),
      uid: this.uid.get(i),
      gid: this.gid.get(i),
      mtime: this.mtime.get(i),
      headerOffset: this.headerOffset.get(i),
      compressedOffset: this.compressedOffset.get(i),
    };
    const uname = this.uname.get(i);
    const gname = this.gname.get(i);
    const own = this.ownLayer.get(i);
    if (uname !== NO_NAME) e.uname = this.names[uname]!;
    if (gname !== NO_NAME) e.gname = this.names[gname]!;
    if (own !== 0) e.layer = own - 1;
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
      mode: this.mode.values(n),
      uid: this.uid.values(n),
      gid: this.gid.values(n),
      size: this.size.values(n),
      mtime: this.mtime.values(n),
      headerOffset: this.headerOffset.values(n),
      compressedOffset: this.compressedOffset.values(n),
      ownLayer: this.ownLayer.values(n),
      appliedLayer: this.appliedLayer.values(n),
      slot: this.slot.subarray(0, n),
      uname: this.uname.values(n),
      gname: this.gname.values(n),
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
    t.mode = new NumberColumn(s.mode);
    t.uid = new NumberColumn(s.uid);
    t.gid = new NumberColumn(s.gid);
    t.size = new NumberColumn(s.size);
    t.mtime = new NumberColumn(s.mtime);
    t.headerOffset = new NumberColumn(s.headerOffset);
    t.compressedOffset = new NumberColumn(s.compressedOffset);
    t.ownLayer = new NumberColumn(s.ownLayer);
    t.appliedLayer = new NumberColumn(s.appliedLayer);
    t.slot = s.slot;
    t.uname = new NumberColumn(s.uname);
    t.gname = new NumberColumn(s.gname);
    return t;
  }

  /** The interned id of an owner name; NO_NAME when absent. */
  private nameId(name: string | undefined): number {
    if (name === undefined) return NO_NAME;
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }
}
