/**
 * Benchmark rows through a capped link: the registry behind test/support/capped-proxy.ts, which
 * passes each answer on at 16 MB/s (a cap per connection, as object stores and CDNs apply) after
 * 20 ms of added latency, on loopback. A full listing of the gzip rootfs layer against
 * `curl | tar -tzv`, and `save` of that layer against `curl -o`, both through the same proxy: one
 * connection each waits on the cap; layerslayer's parallel ranged fetches (--connections, default
 * 4) take several connections' worth. Also reports what one connection (--connections 1) does.
 *
 * Part of `npm run bench` (scripts/bench.ts); alone, with a registry and the layer of its own:
 *
 *   bun scripts/bench/capped.ts [--runs N] [--binary]
 *
 * (alone it runs `bun src/cli/main.ts` unless --binary asks for dist/layerslayer).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCappedProxy } from "../../test/support/capped-proxy.ts";
import { startRegistry, type TestRegistry } from "../../test/support/registry.ts";
import { buildRootfs, pickTree, pushLayerImage, type LayerFile } from "./layers.ts";
import { capture, interleaved, q, stopChildren } from "./proc.ts";
import { mb, ratio, Report, secs, table } from "./report.ts";
import type { TargetRow } from "./targets.ts";

/** The link the rows are measured through. */
export const CAP = { bytesPerSecond: 16e6, latencyMs: 20 } as const;
/** Targets: ours ≤ this × the one-stream baseline through the same link. */
const TARGET = 0.3;

export interface CappedInput {
  /** The CLI command (binary or `bun src/cli/main.ts`). */
  cli: string[];
  env: Record<string, string>;
  runs: number;
  reg: TestRegistry;
  /** The gzip rootfs image pushed to `reg` ("host/repo:tag"), and its layer file. */
  image: string;
  layer: LayerFile;
  report: Report;
  fails: string[];
  /** Scratch directory (save writes here). */
  tmp: string;
}

/** Runs the capped-link rows, adds their section to the report, and returns the README target rows. */
export async function cappedRows(input: CappedInput): Promise<TargetRow[]> {
  const { cli, env, runs, reg, layer, report, fails } = input;
  const proxy = startCappedProxy(reg.url, CAP);
  try {
    const image = input.image.replace(reg.host, proxy.host);
    const blobUrl = `${proxy.url}/v2/${input.image.slice(reg.host.length + 1).replace(/:[^:/]+$/, "")}/blobs/${layer.digest}`;
    const peek = (...args: string[]) => [...cli, "peek", image, "--full", "--no-cache", ...args];
    const saveDir = join(input.tmp, "capped-save");
    // A fresh directory each run: a verified blob already there would not be downloaded again.
    const save = (...args: string[]) => ["bash", "-c", `rm -rf ${q(saveDir)} && ${[...cli, "save", image, "-o", saveDir, "--no-cache", "-q", ...args].map(q).join(" ")}`];
    const curlTar = ["bash", "-o", "pipefail", "-c", `curl -sf ${q(blobUrl)} | tar -tzvf - > /dev/null`];
    const curlSave = ["bash", "-c", `rm -f ${q(join(input.tmp, "capped.blob"))} && curl -sf -o ${q(join(input.tmp, "capped.blob"))} ${q(blobUrl)}`];

    // Correctness first, and the connections seen by the proxy.
    proxy.reset();
    const check = await capture([...peek("--json")], { env });
    const last = JSON.parse(check.stdout.trim().split("\n").at(-1) ?? "{}") as { stats?: { complete?: boolean; bytesDownloaded?: number } };
    if (check.code !== 0 || !last.stats?.complete || last.stats.bytesDownloaded !== layer.size) {
      fails.push(`FAIL: capped full listing: exit ${check.code}, stats ${JSON.stringify(last.stats)} ${check.stderr.slice(0, 300)}`);
    }
    const peak = proxy.peak();
    const ranges = proxy.requests.length;
    const saved = await capture(save("--json"), { env });
    const savedFile = join(saveDir, `${layer.digest.replace(":", "_")}.tar.gz`);
    const hash = new Bun.CryptoHasher("sha256");
    try {
      for await (const chunk of Bun.file(savedFile).stream()) hash.update(chunk);
    } catch {}
    if (saved.code !== 0 || `sha256:${hash.digest("hex")}` !== layer.digest) fails.push(`FAIL: capped save: exit ${saved.code}, ${savedFile} does not hash to ${layer.digest}`);

    process.stderr.write(`bench: capped link, full listing and save (${runs} runs each)…\n`);
    const [list4, list1, listBase] = await interleaved(runs, [{ cmd: peek(), opts: { env } }, { cmd: peek("--connections", "1"), opts: { env } }, { cmd: curlTar }]);
    const [save4, save1, saveBase] = await interleaved(runs, [{ cmd: save(), opts: { env } }, { cmd: save("--connections", "1"), opts: { env } }, { cmd: curlSave }]);
    report.section(
      `2b. Through a capped link (${CAP.bytesPerSecond / 1e6} MB/s per connection, ${CAP.latencyMs} ms added latency; gzip rootfs ${mb(layer.size)}; median of ${runs})`,
    );
    report.add(
      table(
        ["", "layerslayer (default connections)", "--connections 1", "one-stream baseline", "ours / baseline"],
        [
          ["full listing vs `curl | tar -tzv`", secs(list4!.medianMs), secs(list1!.medianMs), secs(listBase!.medianMs), ratio(list4!.medianMs, listBase!.medianMs)],
          ["`save` vs `curl -o`", secs(save4!.medianMs), secs(save1!.medianMs), secs(saveBase!.medianMs), ratio(save4!.medianMs, saveBase!.medianMs)],
        ],
      ),
    );
    report.add(
      `\nThe proxy saw ${ranges} blob requests for the listing, at most ${peak} at once; the saved blob ${fails.some((f) => f.includes("capped save")) ? "did NOT verify" : "hashed to its digest"}.`,
    );
    return [
      {
        what: `complete listing, gzip rootfs, capped link (${CAP.bytesPerSecond / 1e6} MB/s a connection, +${CAP.latencyMs} ms), vs \`curl \\| tar -tzv\` through it`,
        ours: secs(list4!.medianMs),
        baseline: secs(listBase!.medianMs),
        value: ratio(list4!.medianMs, listBase!.medianMs),
        target: `≤ ${TARGET}×`,
        met: list4!.medianMs <= TARGET * listBase!.medianMs,
      },
      {
        what: "`save` of that layer, capped link, vs `curl -o` through it",
        ours: secs(save4!.medianMs),
        baseline: secs(saveBase!.medianMs),
        value: ratio(save4!.medianMs, saveBase!.medianMs),
        target: `≤ ${TARGET}×`,
        met: save4!.medianMs <= TARGET * saveBase!.medianMs,
      },
    ];
  } finally {
    proxy.stop();
  }
}

if (import.meta.main) {
  const ROOT = join(import.meta.dir, "..", "..");
  const i = process.argv.indexOf("--runs");
  const runs = i >= 0 ? Number(process.argv[i + 1]) : 3;
  const cli = process.argv.includes("--binary") ? [join(ROOT, "dist/layerslayer")] : [process.execPath, join(ROOT, "src/cli/main.ts")];
  const tmp = mkdtempSync(join(tmpdir(), "ls-bench-capped-"));
  const home = join(tmp, "home");
  mkdirSync(home);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CACHE_HOME: join(home, "cache"), NO_COLOR: "1" };
  let reg: TestRegistry | undefined;
  try {
    reg = await startRegistry();
    process.stderr.write(`bench: building the rootfs layer in ${tmp}…\n`);
    const rootfs = await buildRootfs(await pickTree(), tmp);
    const { image } = await pushLayerImage(reg, "bench/rootfs", "gzip", rootfs.gzip);
    const report = new Report();
    const fails: string[] = [];
    const rows = await cappedRows({ cli, env, runs, reg, image, layer: rootfs.gzip, report, fails, tmp });
    report.add(
      table(
        ["", "ours", "baseline", "ratio", "target", "met"],
        rows.map((r) => [r.what, r.ours, r.baseline, r.value, r.target, r.met ? "yes" : "**no**"]),
      ),
    );
    for (const f of fails) report.add(f);
    if (fails.length) process.exitCode = 1;
  } finally {
    stopChildren();
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
