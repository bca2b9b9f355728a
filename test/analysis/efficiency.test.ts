import { describe, expect, test } from "bun:test";
import { evaluateRules, parseDiveCi, parseRules } from "../../src/analysis/ci-rules.ts";
import { analyzeEfficiency } from "../../src/analysis/efficiency.ts";
import { dir, file, opq, wh } from "../image/helpers.ts";

describe("efficiency, counted as dive counts it", () => {
  test("a file replaced and a file deleted by a later layer are wasted; their sizes set the score", () => {
    const l0 = [dir("etc"), file("etc/a", { size: 100 }), file("big", { size: 1000 }), dir("var/cache"), file("var/cache/x", { size: 50 })];
    const l1 = [file("etc/a", { size: 120 }), wh("big"), wh("var/cache")];
    const r = analyzeEfficiency([l0, l1]);
    // etc/a: 100 + 120 (min 100); big: 1000 + 0 (a whiteout of a file sizes 0); var/cache/x: 50 once;
    // var/cache: its whiteout sizes the deleted directory (50), seen once (not a leaf of layer 0).
    expect(r.wastedBytes).toBe(220 + 1000);
    expect(r.efficiency).toBeCloseTo((100 + 0 + 50 + 50) / (220 + 1000 + 50 + 50), 12);
    expect(r.sizeBytes).toBe(1150 + 120);
    expect(r.userSizeBytes).toBe(120);
    expect(r.wastedUserPercent).toBeCloseTo(1220 / 120, 12);
    expect(r.inefficiencies.map((w) => [w.path, w.cumulativeSize, w.layers])).toEqual([
      ["/big", 1000, [0, 1]],
      ["/etc/a", 220, [0, 1]],
    ]);
  });

  test("an image without repeated paths scores 1 and wastes nothing; an empty one too", () => {
    expect(analyzeEfficiency([[file("a", { size: 5 })], [file("b", { size: 7 })]])).toMatchObject({ efficiency: 1, wastedBytes: 0, sizeBytes: 12, userSizeBytes: 7 });
    expect(analyzeEfficiency([])).toMatchObject({ efficiency: 1, wastedBytes: 0, wastedUserPercent: 0 });
  });

  test("a directory member with members below it in its own layer is no leaf; an empty one is", () => {
    const r = analyzeEfficiency([
      [dir("d"), file("d/f", { size: 10 }), dir("e")],
      [dir("d"), dir("e")],
    ]);
    // d is a leaf of layer 1 only (once: no waste); e is a leaf of both (twice, 0 bytes).
    expect(r.inefficiencies.map((w) => w.path)).toEqual(["/e"]);
    expect(r.wastedBytes).toBe(0);
    expect(r.efficiency).toBe(1);
  });

  test("an opaque directory wastes what it hides (dive ignores it): each hidden child counts as deleted", () => {
    const l0 = [dir("opt"), file("opt/one", { size: 30 }), dir("opt/sub"), file("opt/sub/two", { size: 20 })];
    const l1 = [dir("opt"), opq("opt"), file("opt/new", { size: 5 })];
    const r = analyzeEfficiency([l0, l1]);
    // opt/one: 30 then 0; opt/sub: a directory of 20 bytes deleted (seen once: it was no leaf below).
    expect(r.inefficiencies.map((w) => [w.path, w.cumulativeSize])).toEqual([["/opt/one", 30]]);
    expect(r.wastedBytes).toBe(30);
    expect(r.efficiency).toBeCloseTo((0 + 20 + 20 + 5) / (30 + 20 + 20 + 5), 12);
  });
});

describe("dive's CI rules", () => {
  const report = { efficiency: 0.8, sizeBytes: 1000, userSizeBytes: 500, wastedBytes: 100, wastedUserPercent: 0.2, inefficiencies: [] };

  test("each rule passes and fails on either side of its threshold", () => {
    const at = (rules: Record<string, string>) => evaluateRules(report, parseRules(rules)).map((r) => r.status);
    expect(at({ lowestEfficiency: "0.8", highestWastedBytes: "100", highestUserWastedPercent: "0.2" })).toEqual(["pass", "pass", "pass"]);
    expect(at({ lowestEfficiency: "0.81", highestWastedBytes: "99", highestUserWastedPercent: "0.19" })).toEqual(["fail", "fail", "fail"]);
    expect(at({})).toEqual(["fail", "disabled", "fail"]);
    expect(at({ lowestEfficiency: "disabled", highestUserWastedPercent: "off" })).toEqual(["disabled", "disabled", "disabled"]);
  });

  test("bad values are usage errors before anything is read", () => {
    expect(() => parseRules({ lowestEfficiency: "1.5" })).toThrow(/0 to 1/);
    expect(() => parseRules({ highestWastedBytes: "lots" })).toThrow(/highestWastedBytes/);
  });

  test("a .dive-ci file gives the rules; unknown rules are refused", () => {
    expect(parseDiveCi("rules:\n  lowestEfficiency: 0.95  # strict\n  highestWastedBytes: 20M\n  highestUserWastedPercent: disabled\n")).toEqual({
      lowestEfficiency: "0.95",
      highestWastedBytes: "20M",
      highestUserWastedPercent: "disabled",
    });
    expect(() => parseDiveCi("rules:\n  lowestEfficency: 0.9\n")).toThrow(/unknown rule/);
  });
});
