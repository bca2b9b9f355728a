import { expect, test } from "bun:test";
import { writeInOrder, type Producer } from "../../src/output/ordered.ts";

const later = (ms: number) => Bun.sleep(ms);

test("output comes in producer order though later producers finish first", async () => {
  const started: number[] = [];
  const make =
    (n: number, delay: number): Producer<number> =>
    async (emit) => {
      started.push(n);
      emit(`${n}a `);
      await later(delay);
      emit(`${n}b `);
      return n * 10;
    };
  let out = "";
  const results: [number, number][] = [];
  await writeInOrder(
    [make(0, 60), make(1, 5), make(2, 1), make(3, 1)],
    2,
    (t) => (out += t),
    (r, i) => results.push([r, i]),
  );
  expect(out).toBe("0a 0b 1a 1b 2a 2b 3a 3b ");
  expect(results).toEqual([
    [0, 0],
    [10, 1],
    [20, 2],
    [30, 3],
  ]);
  // At most two at once: the third starts only when the first is done.
  expect(started.slice(0, 2)).toEqual([0, 1]);
});

test("the current producer's output is written live, before it finishes", async () => {
  const seen: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const p = writeInOrder<void>(
    [
      async (emit) => {
        emit("first ");
        await gate;
        emit("second ");
      },
    ],
    3,
    (t) => seen.push(t),
    () => {},
  );
  await later(10);
  expect(seen).toEqual(["first "]);
  release();
  await p;
  expect(seen).toEqual(["first ", "second "]);
});

test("a producer that throws stops the writing after the output before it", async () => {
  let out = "";
  const run = writeInOrder<void>(
    [
      async (emit) => void emit("ok "),
      async () => {
        throw new Error("boom");
      },
      async (emit) => void emit("never "),
    ],
    3,
    (t) => (out += t),
    () => {},
  );
  await expect(run).rejects.toThrow("boom");
  expect(out).toBe("ok ");
});

test("a producer far ahead of a slow writer is paused: at most about HIGH_WATER characters wait", async () => {
  const { HIGH_WATER } = await import("../../src/output/ordered.ts");
  const piece = "x".repeat(256 * 1024);
  let maxWaiting = 0;
  let emitted = 0;
  let written = 0;
  const producer: Producer<number> = async (emit) => {
    for (let i = 0; i < 64; i++) {
      emitted += piece.length;
      maxWaiting = Math.max(maxWaiting, emitted - written);
      await emit(piece);
    }
    return 64;
  };
  await writeInOrder(
    [producer],
    1,
    async (t) => {
      await Bun.sleep(1);
      written += t.length;
    },
    () => {},
  );
  expect(written).toBe(64 * piece.length);
  expect(maxWaiting).toBeLessThanOrEqual(HIGH_WATER + 2 * piece.length);
});
