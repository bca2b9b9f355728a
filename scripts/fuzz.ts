/**
 * Fuzz harness for the decode and tar path: mutated gzip, zstd and tar inputs (bit flips,
 * truncation, splices of real layers built from fixtures, junk header fields) run through the
 * decoders (the exact ones, fflate and fzstd, and the native ones, zlib and libzstd) and the tar
 * reader. A case passes when the path ends normally or with our own typed
 * error (LayerslayerError) whose message is one printable line; any other exception, a broken
 * offset invariant, or a case slower than its limit is a failure. Deterministic: case i of seed S
 * is always the same input, so `--case i` replays one.
 *
 *   bun scripts/fuzz.ts [--seed 1] [--time 60] [--min-cases 0] [--case-ms 2000] [--case I]
 *
 * Runs until `--time` seconds have passed AND `--min-cases` cases were run. The cases run in a
 * child process; this one watches it and kills it when a case hangs (no progress for longer than
 * the per-case limit), which no in-process timer could catch in a synchronous loop. Failing inputs
 * are written to .fuzz/. Exit 0 when every case passed, 1 otherwise. The last line is
 * "fuzz: N cases in T s (R/s), F failed".
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildCorpus } from "./fuzz/corpus.ts";
import { prng } from "../test/support/bytes.ts";
import { caseSeed } from "./fuzz/mutate.ts";
import { runCase, type FuzzCase } from "./fuzz/target.ts";

interface Options {
  seed: number;
  time: number;
  minCases: number;
  caseMs: number;
  only?: number;
  worker: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: 1, time: 60, minCases: 0, caseMs: 2000, worker: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a}: expected a number`);
      return v;
    };
    if (a === "--seed") o.seed = num();
    else if (a === "--time") o.time = num();
    else if (a === "--min-cases") o.minCases = num();
    else if (a === "--case-ms") o.caseMs = num();
    else if (a === "--case") o.only = num();
    else if (a === "--worker") o.worker = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const OUT_DIR = join(import.meta.dir, "..", ".fuzz");

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}

function saveInput(i: number, fuzz: FuzzCase | undefined): string {
  if (!fuzz) return "";
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `case-${i}.bin`);
  writeFileSync(file, fuzz.input);
  return ` (${fuzz.label}; input saved to ${file})`;
}

/** The child: runs cases and reports "P i" (progress), "F i text" (a failure), "D n" (done). */
async function worker(o: Options): Promise<void> {
  const seeds = buildCorpus();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const start = performance.now();
  let lastReport = start;
  const first = o.only ?? 0;
  let i = first;
  for (; ; i++) {
    if (o.only !== undefined && i > o.only) break;
    const now = performance.now();
    if (o.only === undefined && now - start >= o.time * 1000 && i - first >= o.minCases) break;
    if (now - lastReport >= 100) {
      say(`P ${i}`);
      lastReport = now;
    }
    const t0 = performance.now();
    let fuzz: FuzzCase | undefined;
    try {
      fuzz = await runCase(prng(caseSeed(o.seed, i)), seeds);
    } catch (e) {
      const where = saveInput(i, (e as { fuzzCase?: FuzzCase }).fuzzCase);
      say(`F ${i} ${JSON.stringify(`case ${i}${where}: ${describe(e)}`)}`);
      continue;
    }
    const ms = performance.now() - t0;
    if (ms > o.caseMs) say(`F ${i} ${JSON.stringify(`case ${i} took ${ms.toFixed(0)} ms, over the ${o.caseMs} ms limit${saveInput(i, fuzz)}`)}`);
  }
  say(`D ${i - first}`);
}

async function main(o: Options): Promise<number> {
  const args = ["--seed", String(o.seed), "--time", String(o.time), "--min-cases", String(o.minCases), "--case-ms", String(o.caseMs)];
  if (o.only !== undefined) args.push("--case", String(o.only));
  const child = Bun.spawn([process.execPath, import.meta.path, "--worker", ...args], { stdout: "pipe", stderr: "inherit" });
  const start = performance.now();
  let lastProgress = performance.now();
  let lastCase = o.only ?? 0;
  let done: number | undefined;
  const failures: string[] = [];
  // Corpus building (tar, gzip, zstd processes) happens before the first progress line.
  const graceMs = o.caseMs + 10_000;
  let hung = false;
  const watchdog = setInterval(() => {
    if (performance.now() - lastProgress > graceMs) {
      hung = true;
      failures.push(
        `a case at or after ${lastCase} ran for over ${((performance.now() - lastProgress) / 1000).toFixed(1)} s without finishing (replay: bun scripts/fuzz.ts --seed ${o.seed} --case N for N from ${lastCase})`,
      );
      child.kill("SIGKILL");
    }
  }, 250);
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      lastProgress = performance.now();
      const [kind, n, ...rest] = line.split(" ");
      if (kind === "P") lastCase = Number(n);
      else if (kind === "F") {
        const text = JSON.parse(rest.join(" ")) as string;
        failures.push(text);
        console.error(`fuzz: ${text}\n`);
      } else if (kind === "D") done = Number(n);
    }
  }
  const code = await child.exited;
  clearInterval(watchdog);
  if (!hung && (code !== 0 || done === undefined)) failures.push(`the fuzz worker exited with ${code} before it finished`);
  const secs = (performance.now() - start) / 1000;
  const cases = done ?? lastCase - (o.only ?? 0);
  if (done !== undefined && done < o.minCases) failures.push(`only ${done} cases ran, fewer than --min-cases ${o.minCases}`);
  for (const f of failures.slice(-5)) if (!f.startsWith("case ")) console.error(`fuzz: ${f}`);
  console.log(`fuzz: ${cases} cases in ${secs.toFixed(1)} s (${(cases / secs).toFixed(0)}/s), seed ${o.seed}, ${failures.length} failed`);
  return failures.length === 0 ? 0 : 1;
}

const opts = parseArgs(process.argv.slice(2));
if (opts.worker) await worker(opts);
else process.exit(await main(opts));
