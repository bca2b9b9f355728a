/**
 * Compiles layerslayer into self-contained binaries with `bun build --compile`.
 *   bun scripts/build.ts            → dist/layerslayer (this machine)
 *   bun scripts/build.ts --all      → dist/layerslayer-<os>-<arch>[-musl][.exe] for every release target
 *   bun scripts/build.ts --target bun-linux-arm64 [--target …] [--outdir DIR]
 * Every run also writes DIR/SHA256SUMS for the binaries it built (`sha256sum -c SHA256SUMS` checks them),
 * once every one of them is built: a failed run leaves no SHA256SUMS (an older one is removed first).
 * The container image (scripts/image.ts) has a directory of its own, dist/image.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { JIT_POLICY } from "../src/jit.ts";

export const TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-linux-x64-musl", "bun-linux-arm64-musl", "bun-darwin-x64", "bun-darwin-arm64", "bun-windows-x64"] as const;

/** How every binary is compiled (the benchmark's floor programs too, scripts/bench/floors.ts): see build() for why. */
export const COMPILE_FLAGS = ["--compile", "--bytecode", "--format=esm", "--minify", `--compile-jit-policy=${JIT_POLICY}`, "--sourcemap=none"];

const root = join(import.meta.dir, "..");
export const DIST = join(root, "dist");

/**
 * The bytecode order files (scripts/bytecode-order.ts records them), most important first: the
 * binary's bytecode is laid out by what runs of the commands that start most often used.
 */
export const ORDER_DIR = join(import.meta.dir, "bytecode-order");
export const ORDER_RUNS = ["ls-cached", "peek-budget", "help", "peek-full", "peek-full-zstd"] as const;

function orderFiles(): string[] {
  return ORDER_RUNS.map((r) => join(ORDER_DIR, `${r}.txt`)).filter((f) => existsSync(f));
}

function outName(target: string | undefined): string {
  if (!target) return "layerslayer";
  const name = `layerslayer-${target.replace(/^bun-/, "")}`;
  return target.includes("windows") ? `${name}.exe` : name;
}

async function build(target: string | undefined, dist: string): Promise<string> {
  const out = join(dist, outName(target));
  let existing: ReturnType<typeof statSync> | undefined;
  try {
    existing = statSync(out);
  } catch {}
  if (existing?.isDirectory()) throw new Error(`${out} is a directory (an OCI layout an older \`npm run image\` wrote there?); remove it (the image now goes to dist/image)`);
  // --splitting: each command, decoder and the cache stay separate modules inside the binary, loaded
  // on first use. Without it the one bundle costs every command the start-up of all of them
  // (measured: `--version` 0.2-0.3 s and 38-41 MiB; split, 0.03 s and 30 MiB).
  // --compile-jit-policy=50: JavaScriptCore tiers code up after 50 times the usual number of runs,
  // so code that runs a few thousand times (start-up, a budgeted peek) stays out of the optimizing
  // compilers, whose own code and output add to memory. Measured (peak RSS, compiled binary):
  // gzip rootfs listing 68-69 → 62 MiB, zstd 71 → 64-65 MiB, peek --budget 256K 60-64 → 57-58 MiB,
  // --help 32.0 → 31.2 MiB; a listing of 1,000,000 entries within noise (4.7-5.7 s), a cached ls
  // 0.08 → 0.09-0.11 s (200 saved 2 MiB more but made that ls 60 % slower). A small budget's
  // decoding still reaches the optimizing tiers at 50: `peek` raises the scale for it (src/jit.ts).
  // --bytecode (with --format=esm, which it needs beside --splitting): every chunk carries
  // JavaScriptCore's bytecode, so loading a module skips parsing and compiling it. Measured
  // (compiled binary, medians of 7-11 interleaved runs): a cached `ls IMAGE /etc` 46-51 → 27-33 ms,
  // `--version` 14.5 → 10.3 ms, peek --budget 256K 98-129 → 73-95 ms, a full gzip listing 618 →
  // 555 ms; the binary 110.3 → 115.6 MB; peak RSS of a cached ls +0.3 MiB, but of commands that
  // load more code +2-3 MiB (peek --budget 256K 54 → 57, peek --full 60.5 → 62.7), the bytecode
  // of what they load (docs/performance.md).
  // --bytecode-order: the bytecode that a cached `ls`, a budgeted peek, `--help` and complete
  // listings (gzip, zstd) used (the order files above) sits together at the front, so a run touches
  // fewer of the binary's pages: a cached ls 47.8 → 46.3 MiB and ~2 ms less, peek --budget 256K
  // 56.8 → 55.5 MiB, measured with the first three files; complete listings back within 0.5 MiB of
  // a build without --bytecode with the last two (docs/performance.md). Not among COMPILE_FLAGS: the floor programs have no order.
  // react-devtools-core: ink imports it only with DEV=true, from a chunk of its own (split); left
  // out, that chunk is never loaded and ink runs without it (browse, docs/browse.md).
  const order = orderFiles();
  const args = [
    process.execPath,
    "build",
    ...COMPILE_FLAGS,
    ...(order.length ? [`--bytecode-order=${order.join(",")}`] : []),
    "--splitting",
    "--external",
    "react-devtools-core",
    join(root, "src/cli/main.ts"),
    "--outfile",
    out,
  ];
  if (target) args.push(`--target=${target}`);
  const proc = Bun.spawn(args, { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`build for ${target ?? "this machine"} failed:\n${stderr}`);
  return out;
}

/** The `sha256sum` line of one file (two spaces: text mode, as sha256sum writes it). */
async function checksumLine(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return `${hasher.digest("hex")}  ${basename(path)}\n`;
}

/** Builds the binaries for `targets` (this machine for undefined) into `dist`, then their SHA256SUMS. */
export async function buildBinaries(targets: (string | undefined)[], dist: string, log: (line: string) => void = () => {}): Promise<string[]> {
  mkdirSync(dist, { recursive: true });
  const sumsFile = join(dist, "SHA256SUMS");
  rmSync(sumsFile, { force: true });
  const sums: string[] = [];
  const built: string[] = [];
  for (const t of targets) {
    const out = await build(t, dist);
    sums.push(await checksumLine(out));
    built.push(out);
    log(`built ${out}`);
  }
  writeFileSync(sumsFile, sums.join(""));
  log(`wrote ${sumsFile}`);
  return built;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  let dist = DIST;
  const targets: (string | undefined)[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--all") targets.push(...TARGETS);
    else if (argv[i] === "--target" && argv[i + 1]) targets.push(argv[++i]);
    else if (argv[i] === "--outdir" && argv[i + 1]) dist = argv[++i]!;
    else {
      console.error(`build: unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (targets.length === 0) targets.push(undefined);
  try {
    await buildBinaries(targets, dist, (line) => console.log(line));
  } catch (e) {
    console.error(`build: ${(e as Error).message}`);
    process.exit(1);
  }
}
