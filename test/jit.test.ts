import { afterEach, expect, test } from "bun:test";
import { numberOfDFGCompiles } from "bun:jsc";
import { beginShortRun, countDecoded, countEntry, inListingRun, inShortRun, LISTING_ENTRIES, policyForReads, SHORT_RUN_BUDGET, SHORT_RUN_DECODED } from "../src/jit.ts";

afterEach(() => {
  // End any short run a test left on: the policy is the whole process's.
  countDecoded(SHORT_RUN_DECODED);
});

/** A loop hot enough for the optimizing tier within a few calls at the normal policy, as a new function each time (its own code, not yet compiled). */
function freshHot(): (n: number) => number {
  return new Function("n", `let s = 0; for (let i = 0; i < n; i++) s = (s * 31 + i) | 0; return s;`) as (n: number) => number;
}

test("a short run lasts until SHORT_RUN_DECODED bytes are decoded, then ends", () => {
  expect(inShortRun()).toBe(false);
  beginShortRun();
  expect(inShortRun()).toBe(true);
  countDecoded(SHORT_RUN_DECODED - 1);
  expect(inShortRun()).toBe(true);
  countDecoded(0);
  expect(inShortRun()).toBe(true);
  countDecoded(1);
  expect(inShortRun()).toBe(false);
  // Counting outside a run changes nothing.
  countDecoded(123);
  expect(inShortRun()).toBe(false);
});

test("beginning again restarts the count", () => {
  beginShortRun();
  countDecoded(SHORT_RUN_DECODED - 10);
  beginShortRun();
  countDecoded(SHORT_RUN_DECODED - 10);
  expect(inShortRun()).toBe(true);
  countDecoded(10);
  expect(inShortRun()).toBe(false);
});

test("a command's reads are a short run only with a budget of at most SHORT_RUN_BUDGET", () => {
  policyForReads(undefined);
  expect(inShortRun()).toBe(false);
  policyForReads(SHORT_RUN_BUDGET + 1);
  expect(inShortRun()).toBe(false);
  policyForReads(SHORT_RUN_BUDGET);
  expect(inShortRun()).toBe(true);
  // A listing's policy does not end a short run already on.
  policyForReads(undefined);
  expect(inShortRun()).toBe(true);
});

test("during a short run a hot loop is not compiled by the optimizing tier; after it, it is", () => {
  const during = freshHot();
  beginShortRun();
  for (let i = 0; i < 20; i++) during(200_000);
  expect(numberOfDFGCompiles(during)).toBe(0);
  countDecoded(SHORT_RUN_DECODED);
  const after = freshHot();
  for (let i = 0; i < 20 && numberOfDFGCompiles(after) === 0; i++) after(200_000);
  expect(numberOfDFGCompiles(after)).toBeGreaterThan(0);
});

test("a listing's policy lasts LISTING_ENTRIES entries, then gives way", () => {
  countDecoded(SHORT_RUN_DECODED); // no short run on
  policyForReads(undefined);
  expect(inListingRun()).toBe(true);
  for (let i = 0; i < LISTING_ENTRIES - 1; i++) countEntry();
  expect(inListingRun()).toBe(true);
  countEntry();
  expect(inListingRun()).toBe(false);
  // Counting after it changes nothing.
  countEntry();
  expect(inListingRun()).toBe(false);
});
