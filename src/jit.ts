/**
 * How readily JavaScriptCore compiles hot code, for runs known to be short.
 *
 * The binary starts with the tier-up thresholds scaled by `JIT_POLICY` (scripts/build.ts compiles
 * it with `--compile-jit-policy`), so start-up code stays in the interpreter. A small budget's
 * exact decoding (fflate's inflate loop, a few hundred thousand iterations per MB) still crosses
 * those thresholds within its first KiB, and the optimizing tiers (DFG, then FTL) then cost more
 * memory than the run has left to save: measured on `peek --budget` of the benchmark's gzip rootfs
 * (compiled binary, peak RSS / CPU seconds), 64K 52.3 → 46.9 MiB at the same 0.04-0.06 s, 256K
 * 58.1 → 49.8 MiB at 0.08 → 0.13 s, 512K 66 → 52 MiB at 0.10 → 0.21 s, with the thresholds scaled
 * by `SHORT_RUN_POLICY` instead (5,000 left the 256K peek's inflate loop in DFG, 50,000 saved
 * nothing more). A short run is therefore a budgeted read of at most `SHORT_RUN_BUDGET` per layer;
 * it ends (the start-up policy again) once `SHORT_RUN_DECODED` bytes have been decoded, so a layer
 * that decodes 1000:1 (a file of zeros) is not read slowly for long.
 *
 * A command that reads whole layers (or large budgets) and ends gains nothing from the optimizing
 * tiers either: a complete listing of the zstd rootfs layer ran as fast without DFG at all (an
 * experiment with JavaScriptCore's own switch, 0.67 against 0.75 CPU s) and 6 MiB lower. Scaled by
 * `LISTING_POLICY` instead of 50 (binary, 9 interleaved runs, `--connections 1`): zstd 62.3 → 61.3 MiB
 * (largest 63.6 → 61.7) at 0.56 → 0.60 CPU s, gzip 60.6 → 58.8 MiB at 0.55 CPU s both, the layer
 * of 1,000,000 entries 75.0 → 72.8 MiB at 3.9 → 4.1 CPU s; 400 saved 0.7 MiB more on the zstd
 * layer for 0.1 CPU s more, 2,000 was 7 MiB lower but a third slower.
 */

/** The compiled binary's start-up policy (scripts/build.ts: `--compile-jit-policy`). */
export const JIT_POLICY = 50;
/** The thresholds' scale during a short run: no optimizing tier for what a small budget decodes. */
const SHORT_RUN_POLICY = 10_000;
/** Budgets (compressed bytes per layer) up to this make a short run. */
export const SHORT_RUN_BUDGET = 512 * 1024;
/** Decoded bytes after which a short run is over whatever the budget. */
export const SHORT_RUN_DECODED = 4 * 1024 * 1024;

/** The thresholds' scale for a command reading whole layers or budgets over `SHORT_RUN_BUDGET`. */
const LISTING_POLICY = 200;

/** Decoded bytes left before the short run ends; 0 when none is running. */
let left = 0;

/** The policy the process started with: the binary's, or the runtime's normal one from source. */
function startupPolicy(): number {
  return Bun.isStandaloneExecutable ? JIT_POLICY : 1;
}

/** Entries left before the listing policy ends; 0 when it is not on. */
let listingEntries = 0;
/**
 * Entries after which the listing policy gives way to the start-up one: a layer of very many small
 * entries is per-entry work, which the optimizing tiers do pay for. Measured on the layer of
 * 1,000,000 entries (binary, 3 interleaved runs, load ~1): policy 50 throughout 2.74-2.89 s and
 * 77.2-77.8 MiB, 200 throughout 3.08-3.25 s and 73.9-75.7 MiB, 200 for the first 65,536 entries
 * 2.75-3.08 s and 76.2-79.7 MiB (the rootfs layers, 13,685 entries, stay at 200 to their end).
 */
export const LISTING_ENTRIES = 65_536;

/** Starts a short run: call before the reads of a command whose budget is at most `SHORT_RUN_BUDGET`. */
export function beginShortRun(): void {
  if (left === 0) Bun.unsafe.setJITPolicy(SHORT_RUN_POLICY);
  left = SHORT_RUN_DECODED;
}

/**
 * Sets the policy for the rest of a command that reads layers with `budget` compressed bytes each
 * (undefined: whole layers) and then ends: a short run, or the listing policy.
 */
export function policyForReads(budget: number | undefined): void {
  if (budget !== undefined && budget <= SHORT_RUN_BUDGET) beginShortRun();
  else if (left === 0) {
    Bun.unsafe.setJITPolicy(LISTING_POLICY);
    listingEntries = LISTING_ENTRIES;
  }
}

/** Whether the listing policy is on. */
export function inListingRun(): boolean {
  return listingEntries > 0;
}

/** Counts an entry listed by any read; past LISTING_ENTRIES the listing policy gives way to the start-up one. */
export function countEntry(): void {
  if (listingEntries === 0 || --listingEntries > 0) return;
  Bun.unsafe.setJITPolicy(startupPolicy());
}

/** Counts bytes decoded by any read; ends the short run, if one is running, past `SHORT_RUN_DECODED`. */
export function countDecoded(bytes: number): void {
  if (left === 0) return;
  left = Math.max(0, left - bytes);
  if (left === 0) Bun.unsafe.setJITPolicy(startupPolicy());
}

/** Whether a short run is on. */
export function inShortRun(): boolean {
  return left > 0;
}
