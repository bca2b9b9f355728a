/**
 * The link watch (src/blob/link-watch.ts) on a clock of the test's own: when a watched stream is
 * judged to wait on the link, which is when a read goes parallel.
 */
import { describe, expect, test } from "bun:test";
import { LinkWatch } from "../../src/blob/link-watch.ts";

const MiB = 1024 * 1024;

/** A watch and a clock; `window(share)` reads one 1 MiB window of 40 ms in which the consumer waited `share` of the time, and says whether the watch judged the link slow. */
function watched() {
  let t = 1000;
  const w = new LinkWatch(() => t);
  w.read(5, 16 * 1024); // the answer's first bytes start the watch
  return {
    window(share: number): boolean {
      for (let i = 0; i < 16; i++) {
        t += 2.5;
        w.read(2.5 * share, MiB / 16);
      }
      return w.slow();
    },
  };
}

describe("the link watch", () => {
  test("a window in which the consumer waited more than half: slow at once", () => {
    expect(watched().window(0.6)).toBe(true);
  });

  test("more than a quarter once is not enough; twice in a row is", () => {
    const w = watched();
    expect(w.window(0.3)).toBe(false);
    expect(w.window(0.3)).toBe(true);
  });

  test("a quarter-past window between quiet ones never adds up", () => {
    const w = watched();
    for (let i = 0; i < 5; i++) {
      expect(w.window(0.3)).toBe(false);
      expect(w.window(0.05)).toBe(false);
    }
  });

  test("nothing is judged before a window is over (1 MiB or 100 ms)", () => {
    let t = 1000;
    const w = new LinkWatch(() => t);
    w.read(50, 1024);
    t += 50;
    w.read(50, 512 * 1024);
    expect(w.slow()).toBe(false);
    t += 60;
    w.read(10, 1024); // 60 of 110 ms waited
    expect(w.slow()).toBe(true);
  });
});
