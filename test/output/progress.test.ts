import { describe, expect, test } from "bun:test";
import { bar, formatProgress, percent, ProgressBar, progressEnabled } from "../../src/output/progress.ts";

const K = 1024;
const M = 1024 * 1024;

describe("progress formatting", () => {
  test("percent rounds down and reaches 100 only when complete", () => {
    expect(percent(0, 1000)).toBe(0);
    expect(percent(999, 1000)).toBe(99);
    expect(percent(1000, 1000)).toBe(100);
    expect(percent(1, 3)).toBe(33);
    expect(percent(0, 0)).toBe(100);
    expect(percent(5000, 1000)).toBe(100);
  });

  test("bar fills in proportion", () => {
    expect(bar(0, 100, 10)).toBe("[----------]");
    expect(bar(50, 100, 10)).toBe("[#####-----]");
    expect(bar(99, 100, 10)).toBe("[#########-]");
    expect(bar(100, 100, 10)).toBe("[##########]");
    expect(bar(200, 100, 4)).toBe("[####]");
    expect(bar(0, 0, 4)).toBe("[####]");
  });

  test("a full line: label, bar, bytes/total, percent, rate", () => {
    const line = formatProgress({ label: "layer 1/3 sha256:0123abcd", done: 1.25 * M, total: 4 * M, rate: 850 * K }, 100);
    expect(line).toBe("layer 1/3 sha256:0123abcd [#########---------------------]  1.3M/4.0M   31%  850K/s");
    expect(line.length).toBeLessThan(100);
  });

  test("unknown rate and the verify phase", () => {
    expect(formatProgress({ label: "x", done: 0, total: 2048 }, 60)).toBe("x [------------------------------]  0/2.0K    0%  --/s");
    expect(formatProgress({ label: "x", done: 1024, total: 2048, rate: 5, phase: "verify" }, 60)).toBe("x [#############--------------]  1.0K/2.0K   50%  verifying");
  });

  test("narrow terminals: the bar shrinks, then goes, then the line is cut; it never wraps", () => {
    const s = { label: "layer 12/40 sha256:0123abcd", done: 3 * M, total: 10 * M, rate: 2 * M };
    const tail = "3.0M/10M   30%  2.0M/s";
    const at70 = formatProgress(s, 70);
    expect(at70).toBe(`layer 12/40 sha256:0123abcd [####-----------]  ${tail}`);
    expect(at70.length).toBe(69);
    expect(formatProgress(s, 64)).toBe(`layer 12/40 sha256:0123abcd  ${tail}`);
    const at20 = formatProgress(s, 20);
    expect(at20).toBe("layer 12/40 sha256:");
    for (const cols of [1, 2, 10, 30, 45, 80, 200]) expect(formatProgress(s, cols).length).toBeLessThanOrEqual(Math.max(1, cols - 1));
  });

  test("progress only on a TTY and never with -q or --json", () => {
    expect(progressEnabled({ isTTY: true })).toBe(true);
    expect(progressEnabled({ isTTY: false })).toBe(false);
    expect(progressEnabled({ isTTY: undefined })).toBe(false);
    expect(progressEnabled({ isTTY: true, quiet: true })).toBe(false);
    expect(progressEnabled({ isTTY: true, json: true })).toBe(false);
  });
});

describe("ProgressBar writer", () => {
  function fake() {
    let now = 0;
    const writes: string[] = [];
    const out = { write: (s: string) => writes.push(s), columns: 70 };
    const pb = new ProgressBar(out, { intervalMs: 100, now: () => now });
    return { pb, writes, out, tick: (ms: number) => (now += ms) };
  }

  test("throttles redraws, always draws the first and the final update, computes the rate", () => {
    const { pb, writes, tick } = fake();
    pb.start("layer 0/1 sha256:aa", 1000 * K);
    pb.update(10 * K, 10 * K); // first: drawn
    tick(30);
    pb.update(20 * K, 20 * K); // throttled
    tick(30);
    pb.update(30 * K, 30 * K); // throttled
    tick(50);
    pb.update(500 * K, 500 * K); // 110 ms after the first draw: drawn
    tick(10);
    pb.update(1000 * K, 1000 * K); // final: drawn despite the throttle
    expect(writes.length).toBe(3);
    for (const w of writes) expect(w.startsWith("\r\x1b[K")).toBe(true);
    expect(writes[0]).toContain("10K/1000K");
    expect(writes[0]).toContain("--/s"); // no time has passed yet
    expect(writes[1]).toContain("500K/1000K   50%");
    expect(writes[1]).toContain("4.5M/s"); // 500 KiB in 0.11 s
    expect(writes[2]).toContain("1000K/1000K  100%");
    for (const w of writes) expect(w.length - 4).toBeLessThanOrEqual(69);
  });

  test("the rate counts only bytes downloaded now, not resumed ones", () => {
    const { pb, writes, tick } = fake();
    pb.start("l", 100 * M);
    tick(1000);
    pb.update(60 * M, 1 * M);
    expect(writes[0]).toContain("60M/100M   60%  1.0M/s");
  });

  test("clear erases the line once, and only when something was drawn", () => {
    const { pb, writes } = fake();
    pb.clear();
    expect(writes).toEqual([]);
    pb.start("l", 10);
    pb.update(5, 5);
    pb.clear();
    pb.clear();
    expect(writes.length).toBe(2);
    expect(writes[1]).toBe("\r\x1b[K");
  });

  test("a terminal of unknown width (0 columns) is taken as 80 wide", () => {
    const writes: string[] = [];
    const pb = new ProgressBar({ write: (s: string) => writes.push(s), columns: 0 });
    pb.start("layer 0/0 sha256:abcdef", 100);
    pb.update(100, 100);
    expect(writes[0]).toMatch(/^\r\x1b\[Klayer 0\/0 sha256:abcdef \[#+\]  100\/100  100%  /);
    expect(writes[0]!.length - 4).toBeLessThanOrEqual(79);
  });

  test("start resets the throttle for the next item", () => {
    const { pb, writes } = fake();
    pb.start("a", 100);
    pb.update(1, 1);
    pb.start("b", 100);
    pb.update(1, 1);
    expect(writes.length).toBe(2);
    expect(writes[1]).toContain("b [");
  });
});
