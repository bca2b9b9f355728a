/**
 * The merged tree's storage and the operations its rules are made of (merge.ts has the rules):
 * per place ("slot", path-table.ts) a few typed-array cells saying whether the path exists now,
 * whether it is a directory, which entry it holds (a row of entry-table.ts, or a synthesised parent
 * directory) and from which layer; the history of every change (history-log.ts). Nodes, entries
 * and events are built from these when asked for.
 */
import type { Entry } from "../types.ts";
import { BUILD_PACE, FULL_WALK_ROUNDS, PacedCollector, WALK_PACE } from "./collect.ts";
import { ensure, NumberColumn } from "./columns.ts";
import { EntryTable } from "./entry-table.ts";
import { HistoryLog, impliedLayer, impliedRef, isImplied, type EventRow } from "./history-log.ts";
import type { HistoryAction, HistoryEvent, MergedNode } from "./model.ts";
import { NONE, PathTable, ROOT_SLOT } from "./path-table.ts";
import { baseName, compareNames, ROOT } from "./paths.ts";

/** Slot flags: the path exists now; it is a directory; its creation in its layer replaced something lower. */
export const PRESENT = 1;
export const DIR = 2;
export const OVER_LOWER = 4;

function impliedEntry(path: string, layer: number): Entry {
  return { path, type: "dir", mode: 0o755, size: 0, uid: 0, gid: 0, mtime: 0, layer, headerOffset: -1, compressedOffset: -1 };
}

/** Entries a tree makes room for ahead at most (more grow as usual). */
const MAX_RESERVED = 1 << 22;

type MutableEvent = { -readonly [K in keyof HistoryEvent]: HistoryEvent[K] };

export class TreeState {
  protected paths = new PathTable();
  protected table = new EntryTable();
  /** The history of every change; absent in a tree built without it (`{ history: false }`). */
  protected log: HistoryLog | undefined;
  /** Collections while the tree is built (full ones: see collect.ts) and while it is walked. */
  protected readonly gc = new PacedCollector(BUILD_PACE, 1);
  protected readonly walkGc = new PacedCollector(WALK_PACE, FULL_WALK_ROUNDS);
  /** Per slot: PRESENT | DIR | OVER_LOWER. */
  protected flags = new Uint8Array(64);
  /** Per slot: the layer that gave (or implied) its entry. */
  protected layerAt = new NumberColumn();
  /** Per slot: its entry, a table row or an implied reference (history-log.ts). */
  protected ref = new Int32Array(64);
  /** Rows a slot's entry overrode, oldest first (few slots have any). */
  protected readonly replaced = new Map<number, number[]>();
  /** Hardlink slots: the row holding the data. */
  protected readonly targets = new Map<number, number>();
  /** Number of present slots, the root included. */
  protected present = 1;

  constructor(opts: { history?: boolean } = {}) {
    if (opts.history !== false) this.log = new HistoryLog();
    this.flags[ROOT_SLOT] = PRESENT | DIR;
    this.ref[ROOT_SLOT] = impliedRef(0);
  }

  /** Everything this part of the tree holds, for storing it (tree-codec.ts). */
  protected baseState() {
    const n = this.paths.length;
    return {
      paths: this.paths.state(),
      table: this.table.state(),
      log: this.log?.state(),
      present: this.present,
      flags: this.flags.subarray(0, n),
      layerAt: this.layerAt.values(n),
      ref: this.ref.subarray(0, n),
      replaced: [...this.replaced],
      targets: [...this.targets],
    };
  }

  protected restoreBase(s: ReturnType<TreeState["baseState"]>): void {
    this.paths = PathTable.fromState(s.paths);
    this.table = EntryTable.fromState(s.table);
    this.log = s.log ? HistoryLog.fromState(s.log) : undefined;
    this.present = s.present;
    this.flags = s.flags;
    this.layerAt = new NumberColumn(s.layerAt);
    this.ref = s.ref;
    for (const [slot, rows] of s.replaced) this.replaced.set(slot, rows);
    for (const [slot, row] of s.targets) this.targets.set(slot, row);
  }

  protected node(slot: number, path: string, name = slot === ROOT_SLOT ? ROOT : baseName(path)): MergedNode {
    const ref = this.ref[slot]!;
    const replaced = this.replaced.get(slot);
    const target = this.targets.get(slot);
    return {
      path,
      name,
      entry: this.entryOf(ref, path),
      layer: this.layerAt.get(slot),
      implied: isImplied(ref),
      replaced: replaced ? replaced.map((r) => this.table.get(r, path)) : [],
      ...(target !== undefined ? { target: { entry: this.table.get(target, this.paths.pathOf(this.table.slotOf(target))), layer: this.table.layerOf(target) } } : {}),
    };
  }

  protected entryOf(ref: number, path: string): Entry {
    return isImplied(ref) ? impliedEntry(path, impliedLayer(ref)) : this.table.get(ref, path);
  }

  protected event(row: EventRow, path: string): HistoryEvent {
    const ev: MutableEvent = { path, layer: row.layer, action: row.action, entry: this.entryOf(row.ref, path) };
    if (row.by !== undefined) ev.by = row.by;
    if (isImplied(row.ref)) ev.implied = true;
    return ev;
  }

  /** The slot of a path that exists now (a clean path), else NONE. */
  protected presentAt(path: string): number {
    const slot = this.paths.lookup(path);
    return slot !== NONE && this.flags[slot]! & PRESENT ? slot : NONE;
  }

  protected isPresentDir(slot: number): boolean {
    return (this.flags[slot]! & (PRESENT | DIR)) === (PRESENT | DIR);
  }

  /** The slot of a present directory at a clean path, else NONE. */
  protected presentDir(dir: string): number {
    const slot = this.presentAt(dir);
    return slot !== NONE && this.isPresentDir(slot) ? slot : NONE;
  }

  /** Whether the tree keeps its history (every tree does unless built with `{ history: false }`). */
  get hasHistory(): boolean {
    return this.log !== undefined;
  }

  /** The history log; asking a tree built without one is a mistake of the caller. */
  protected history(): HistoryLog {
    if (!this.log) throw new Error("this merged tree was built without its history");
    return this.log;
  }

  /** The events of one slot, oldest first, its path being `path`. */
  protected eventsOf(slot: number, path: string): HistoryEvent[] {
    return Array.from(this.history().ofSlot(slot), (r) => this.event(r, path));
  }

  /** The present children of a slot with their names, sorted by name. */
  protected sortedChildren(slot: number): Array<{ slot: number; name: string }> {
    const kids: Array<{ slot: number; name: string }> = [];
    for (let c = this.paths.firstChildOf(slot); c !== NONE; c = this.paths.nextSiblingOf(c)) {
      if (this.flags[c]! & PRESENT) kids.push({ slot: c, name: this.paths.nameOf(c) });
    }
    return kids.sort((a, b) => compareNames(a.name, b.name));
  }

  /**
   * Room for `entries` more entries (and as many paths) without growing: the columns are then made
   * once at their size instead of doubling, which leaves no freed copies behind.
   */
  reserve(count: number): void {
    // A count read back from a cache is trusted only so far.
    const entries = Math.min(Math.max(0, Math.floor(count)) || 0, MAX_RESERVED);
    const rows = this.table.length + entries;
    const slots = this.paths.length + entries;
    this.table.reserve(rows);
    this.paths.reserve(slots);
    this.log?.reserve(this.log.length + entries, slots);
    this.fitSlots(slots);
  }

  /**
   * Drops the path hash for a tree only walked and asked about a few paths from now on (path-table.ts
   * `seal`), and collects it there and then: left to the walk's paced collections, the 12 bytes a
   * path it frees were still there under the walk's first 65,536 paths (`ls -R` of 1,000,000
   * entries: 170-175 → 161-162 MiB without the cache, 164-165 → 150-152 from it; binary, load 4-10).
   */
  seal(): void {
    this.paths.seal();
    Bun.gc(true);
  }

  /** Room in the per-slot columns for every slot the path table has made (or `n`). */
  protected fitSlots(n = this.paths.length): void {
    if (n <= this.flags.length) return;
    this.flags = ensure(this.flags, n);
    this.ref = ensure(this.ref, n);
    this.layerAt.reserve(n);
  }

  protected addReplaced(slot: number, ref: number): void {
    const list = this.replaced.get(slot);
    if (list) list.push(ref);
    else this.replaced.set(slot, [ref]);
  }

  /** A slot (re)appears: nothing it had in an earlier life stays. */
  protected create(slot: number, flags: number, ref: number, layer: number): void {
    this.flags[slot] = flags | PRESENT;
    this.ref[slot] = ref;
    this.layerAt.set(slot, layer);
    this.replaced.delete(slot);
    this.targets.delete(slot);
    this.present++;
  }

  /**
   * An existing slot takes a new entry (a table row or an implied directory) in `layer`, recorded
   * as a change (the root has no history: its replacement is not one).
   */
  protected replace(slot: number, ref: number, layer: number, dir: boolean): void {
    const f = this.flags[slot]!;
    const overLower = this.layerAt.get(slot) < layer || (f & OVER_LOWER) !== 0;
    if (!isImplied(this.ref[slot]!)) this.addReplaced(slot, this.ref[slot]!);
    this.ref[slot] = ref;
    this.layerAt.set(slot, layer);
    this.flags[slot] = PRESENT | (dir ? DIR : 0) | (overLower ? OVER_LOWER : 0);
    this.targets.delete(slot);
    if (slot !== ROOT_SLOT) this.change(slot, layer, overLower ? "modified" : "added", ref);
  }

  protected pushPresentChildren(stack: number[], slot: number): void {
    for (let c = this.paths.firstChildOf(slot); c !== NONE; c = this.paths.nextSiblingOf(c)) {
      if (this.flags[c]! & PRESENT) stack.push(c);
    }
  }

  /** Remove `slot` (when includeSelf) and everything below it, recording one event per path. */
  protected removeSubtree(slot: number, includeSelf: boolean, action: "deleted" | "hidden", layer: number, by: string): number {
    const stack: number[] = [];
    if (includeSelf) stack.push(slot);
    else this.pushPresentChildren(stack, slot);
    let count = 0;
    let cause = NONE;
    while (stack.length > 0) {
      const s = stack.pop()!;
      count++;
      if (this.log) {
        if (cause === NONE) cause = this.log.cause(by);
        this.log.add(s, layer, action, this.ref[s]!, cause);
      }
      const wasDir = (this.flags[s]! & DIR) !== 0;
      this.flags[s] = 0;
      this.present--;
      if (wasDir) this.pushPresentChildren(stack, s);
    }
    return count;
  }

  /** Record an added/modified event, folding same-layer duplicates into one event. */
  protected change(slot: number, layer: number, action: HistoryAction, ref: number): void {
    if (this.log && !this.log.fold(slot, layer, ref)) this.log.add(slot, layer, action, ref);
  }
}
