/**
 * The merged tree's history in columns: one row per event (the slot of its path, its layer, what
 * happened, the entry it concerns, what caused it), chained per slot so that one path's history is
 * found without an index. An entry reference is a row of the EntryTable (≥ 0) or, below zero, a
 * synthesised parent directory of a layer (`impliedRef`).
 */
import type { HistoryAction } from "./model.ts";
import { ensure } from "./columns.ts";
import { NONE } from "./path-table.ts";

export const ACTIONS: readonly HistoryAction[] = ["added", "modified", "deleted", "hidden"];
const ACTION_CODE = new Map<HistoryAction, number>(ACTIONS.map((a, i) => [a, i]));

/** The reference of a directory synthesised in `layer` (always < 0). */
export const impliedRef = (layer: number): number => -layer - 2;
export const isImplied = (ref: number): boolean => ref < 0;
/** The layer of an implied reference. */
export const impliedLayer = (ref: number): number => -ref - 2;

export interface EventRow {
  slot: number;
  layer: number;
  action: HistoryAction;
  ref: number;
  by?: string;
}

export class HistoryLog {
  private n = 0;
  private slot = new Int32Array(0);
  private layer = new Int32Array(0);
  private action = new Uint8Array(0);
  private ref = new Int32Array(0);
  private by = new Int32Array(0);
  private next = new Int32Array(0);
  /** Per slot: first and last event (NONE when none). */
  private first = new Int32Array(0);
  private last = new Int32Array(0);
  private readonly causes: string[] = [];

  get length(): number {
    return this.n;
  }

  /** The index of a cause (`by`) for `add`. */
  cause(by: string): number {
    this.causes.push(by);
    return this.causes.length - 1;
  }

  /** Room for `events` events in all, of slots below `slots`, without growing. */
  reserve(events: number, slots: number): void {
    if (events > this.slot.length) this.grow(events);
    this.first = ensure(this.first, slots, NONE);
    this.last = ensure(this.last, slots, NONE);
  }

  add(slot: number, layer: number, action: HistoryAction, ref: number, cause = NONE): void {
    const i = this.n++;
    if (i >= this.slot.length) this.grow(i + 1);
    this.slot[i] = slot;
    this.layer[i] = layer;
    this.action[i] = ACTION_CODE.get(action)!;
    this.ref[i] = ref;
    this.by[i] = cause;
    this.next[i] = NONE;
    this.first = ensure(this.first, slot + 1, NONE);
    this.last = ensure(this.last, slot + 1, NONE);
    const prev = this.last[slot]!;
    if (prev === NONE) this.first[slot] = i;
    else this.next[prev] = i;
    this.last[slot] = i;
  }

  /**
   * Folds an added/modified event into the slot's last one when that is an addition or modification
   * of the same layer (a path given twice in one layer is one change). True when folded.
   */
  fold(slot: number, layer: number, ref: number): boolean {
    const i = slot < this.last.length ? this.last[slot]! : NONE;
    if (i === NONE || this.layer[i] !== layer || this.action[i]! > 1) return false;
    this.ref[i] = ref;
    return true;
  }

  hasEvents(slot: number): boolean {
    return slot < this.first.length && this.first[slot] !== NONE;
  }

  row(i: number): EventRow {
    const by = this.by[i]!;
    const r: EventRow = { slot: this.slot[i]!, layer: this.layer[i]!, action: ACTIONS[this.action[i]!]!, ref: this.ref[i]! };
    if (by !== NONE) r.by = this.causes[by]!;
    return r;
  }

  /** Events of one slot, oldest first. */
  *ofSlot(slot: number): Generator<EventRow> {
    for (let i = slot < this.first.length ? this.first[slot]! : NONE; i !== NONE; i = this.next[i]!) yield this.row(i);
  }

  /** Every event, in the order they happened. */
  *all(): Generator<EventRow> {
    for (let i = 0; i < this.n; i++) yield this.row(i);
  }

  /** Everything the log holds, for storing it (tree-codec.ts); `fromState` makes it again. */
  state() {
    const n = this.n;
    return {
      n,
      causes: this.causes.slice(),
      slot: this.slot.subarray(0, n),
      layer: this.layer.subarray(0, n),
      action: this.action.subarray(0, n),
      ref: this.ref.subarray(0, n),
      by: this.by.subarray(0, n),
      next: this.next.subarray(0, n),
      first: this.first,
      last: this.last,
    };
  }

  static fromState(s: ReturnType<HistoryLog["state"]>): HistoryLog {
    const log = new HistoryLog();
    log.n = s.n;
    log.causes.push(...s.causes);
    log.slot = s.slot;
    log.layer = s.layer;
    log.action = s.action;
    log.ref = s.ref;
    log.by = s.by;
    log.next = s.next;
    log.first = s.first;
    log.last = s.last;
    return log;
  }

  private grow(need: number): void {
    this.slot = ensure(this.slot, need);
    this.layer = ensure(this.layer, need);
    this.action = ensure(this.action, need);
    this.ref = ensure(this.ref, need);
    this.by = ensure(this.by, need);
    this.next = ensure(this.next, need);
  }
}
