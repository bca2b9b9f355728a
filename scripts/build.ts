/**
 * Compiles layerslayer into self-contained binaries with `bun build --compile`.
 *   bun scripts/build.ts            → dist/layerslayer (this machine)
 *   bun scripts/build.ts --all      → dist/layerslayer-<os>-<arch>[-musl][.exe] for every release target
 *   bun scripts/build.ts --target bun-linux-arm64 [--target …] [--outdir DIR]
 * Every run also writes DIR/SHA256SUMS for the binaries it built (`sha256sum -c SHA256SUMS` checks them),
 * once every one of them is built: a failed run leaves no SHA256SUMS (an older one is removed first).
 * The container image (scripts/image.ts) has a directory of its own, dist/image.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { JIT_POLICY } from "../src/jit.ts";

export const TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-linux-x64-musl", "bun-linux-arm64-musl", "bun-darwin-x64", "bun-darwin-arm64", "bun-windows-x64"] as const;

/** How every binary is compiled (the benchmark's floor programs too, scripts/bench/floors.ts): see build() for why. */
export const COMPILE_FLAGS = ["--compile", "--minify", `--compile-jit-policy=${JIT_POLICY}`, "--sourcemap=none"];

const root = join(import.meta.dir, "..");
export const DIST = join(root, "dist");

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
  // react-devtools-core: ink imports it only with DEV=true, from a chunk of its own (split); left
  // out, that chunk is never loaded and ink runs without it (browse, docs/browse.md).
  const args = [process.execPath, "build", ...COMPILE_FLAGS, "--splitting", "--external", "react-devtools-core", join(root, "src/cli/main.ts"), "--outfile", out];
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
