import { expect, test } from "bun:test";
import { parseList, parseShard, selectShard, shardOf } from "../../src/scan/targets.ts";

test("a reference list: one per line, blanks and comments ignored", () => {
  expect(parseList("# mine\nalpine:3.20\r\n\n  busybox  \n#x\n")).toEqual(["alpine:3.20", "busybox"]);
});

test("--shard I/N counts from 1; N with the index from JOB_COMPLETION_INDEX or another variable counts from 0", () => {
  expect(parseShard(undefined, undefined)).toBeUndefined();
  expect(parseShard("1/4", undefined)).toEqual({ index: 0, count: 4 });
  expect(parseShard("4/4", undefined)).toEqual({ index: 3, count: 4 });
  expect(parseShard("1/1", undefined)).toEqual({ index: 0, count: 1 });
  expect(() => parseShard("0/4", undefined)).toThrow("shards count from 1");
  expect(parseShard("4", undefined, { JOB_COMPLETION_INDEX: "0" })).toEqual({ index: 0, count: 4 });
  expect(parseShard("4", undefined, { JOB_COMPLETION_INDEX: "3" })).toEqual({ index: 3, count: 4 });
  expect(parseShard("4", "SLURM_ARRAY_TASK_ID", { SLURM_ARRAY_TASK_ID: "2", JOB_COMPLETION_INDEX: "0" })).toEqual({ index: 2, count: 4 });
  for (const [flag, env, vars] of [
    ["5/4", undefined, {}],
    ["0/4", undefined, {}],
    ["x", undefined, {}],
    ["0/0", undefined, {}],
    ["4", undefined, {}],
    ["4", "IDX", { IDX: "two" }],
    ["1/4", "IDX", { IDX: "1" }],
  ] as const) {
    expect(() => parseShard(flag, env, vars)).toThrow();
  }
  expect(() => parseShard(undefined, "IDX", { IDX: "1" })).toThrow(/--shard N/);
});

test("shards are stable, cover every reference once, and use the canonical reference", () => {
  const refs = Array.from({ length: 200 }, (_, i) => `registry.example/team/app${i}:v1`);
  const parts = [0, 1, 2].map((index) => selectShard(refs, { index, count: 3 }));
  expect(parts.flat().sort()).toEqual([...refs].sort());
  for (const p of parts) expect(p.length).toBeGreaterThan(40);
  // The same image, written two ways, goes to the same shard.
  expect(shardOf("alpine", 7)).toBe(shardOf("docker.io/library/alpine:latest", 7));
  // Fixed by sha256, not by process: a known value.
  expect(shardOf("docker.io/library/alpine:latest", 1000)).toBe(876);
  expect(selectShard(["a", "a", "b"], undefined)).toEqual(["a", "b"]);
});
