import { describe, expect, test } from "bun:test";
import { HistoryLog, impliedLayer, impliedRef, isImplied } from "../../src/image/history-log.ts";

describe("HistoryLog", () => {
  test("events chain per slot, oldest first; all of them in the order they happened", () => {
    const log = new HistoryLog();
    const by = log.cause("a/.wh.b");
    log.add(5, 0, "added", 10);
    log.add(7, 0, "added", 11);
    log.add(5, 1, "deleted", 10, by);
    log.add(5, 2, "added", 12);
    expect([...log.ofSlot(5)]).toEqual([
      { slot: 5, layer: 0, action: "added", ref: 10 },
      { slot: 5, layer: 1, action: "deleted", ref: 10, by: "a/.wh.b" },
      { slot: 5, layer: 2, action: "added", ref: 12 },
    ]);
    expect([...log.all()].map((r) => `${r.slot}:${r.layer}:${r.action}`)).toEqual(["5:0:added", "7:0:added", "5:1:deleted", "5:2:added"]);
    expect(log.hasEvents(7)).toBe(true);
    expect(log.hasEvents(6)).toBe(false);
    expect(log.hasEvents(1_000_000)).toBe(false);
    expect([...log.ofSlot(6)]).toEqual([]);
  });

  test("a path given twice in one layer folds into one change; not across layers or after a deletion", () => {
    const log = new HistoryLog();
    log.add(1, 3, "modified", 20);
    expect(log.fold(1, 3, 21)).toBe(true);
    expect([...log.ofSlot(1)]).toEqual([{ slot: 1, layer: 3, action: "modified", ref: 21 }]);
    expect(log.fold(1, 4, 22)).toBe(false);
    log.add(1, 4, "deleted", 21);
    expect(log.fold(1, 4, 23)).toBe(false);
    expect(log.fold(2, 4, 23)).toBe(false);
  });

  test("implied references carry their layer and never collide with table rows", () => {
    for (const layer of [0, 1, 127, 70_000]) {
      const ref = impliedRef(layer);
      expect(isImplied(ref)).toBe(true);
      expect(impliedLayer(ref)).toBe(layer);
    }
    expect(isImplied(0)).toBe(false);
  });
});
