/**
 * Records the bytecode order files scripts/build.ts lays the binary out by (`--bytecode-order`):
 * which functions a run of the commands that start most often uses, so their bytecode sits
 * together at the front of the binary and a short run touches fewer of its pages
 * (docs/performance.md: a cached `ls` 1.2-1.5 MiB and ~2 ms less, a budgeted peek 1.3 MiB).
 *
 *   bun scripts/bytecode-order.ts        (npm run bytecode-order; then npm run build)
 *
 * It compiles the CLI as the build does, starts Debian's docker-registry on loopback with a
 * one-layer image of this machine's /etc, and runs with BUN_BYTECODE_ORDER_OUT, most important
 * first (the order the build passes them in): a cached `ls IMAGE /etc`, a `peek --budget 256K
 * --no-cache`, `--help`. A profile recorded from an older build still applies to the functions
 * that did not change; record again after larger changes to what these commands run.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRegistry } from "../test/support/registry.ts";
import { buildTreeLayer, pushLayerImage } from "./bench/layers.ts";
import { capture } from "./bench/proc.ts";
import { buildBinaries, ORDER_DIR, ORDER_RUNS } from "./build.ts";

if (import.meta.main) {
  const tmp = mkdtempSync(join(tmpdir(), "ls-bytecode-order-"));
  const reg = await startRegistry();
  try {
    const [bin] = await buildBinaries([undefined], join(tmp, "dist"));
    const layer = await buildTreeLayer(["etc"], join(tmp, "etc.tar.gz"));
    const { image } = await pushLayerImage(reg, "order/etc", "v1", layer);
    const zstd = await pushLayerImage(reg, "order/etc", "zstd", await buildTreeLayer(["etc"], join(tmp, "etc.tar.zst"), "zstd"));
    const home = join(tmp, "home");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CACHE_HOME: join(home, "cache"), NO_COLOR: "1" };
    const runs: Record<(typeof ORDER_RUNS)[number], string[]> = {
      "ls-cached": ["ls", image, "/etc"],
      "peek-budget": ["peek", image, "--budget", "256K", "--no-cache"],
      help: ["--help"],
      "peek-full": ["peek", image, "--full", "--no-cache"],
      "peek-full-zstd": ["peek", zstd.image, "--full", "--no-cache"],
    };
    // The first ls fills the cache (not recorded): the recorded one is answered from it.
    const fill = await capture([bin!, ...runs["ls-cached"]], { env });
    if (fill.code !== 0) throw new Error(`ls to fill the cache exited ${fill.code}: ${fill.stderr.slice(0, 300)}`);
    mkdirSync(ORDER_DIR, { recursive: true });
    for (const name of ORDER_RUNS) {
      const out = join(tmp, `${name}.txt`);
      const r = await capture([bin!, ...runs[name]], { env: { ...env, BUN_BYTECODE_ORDER_OUT: out } });
      if (r.code !== 0 || !existsSync(out)) throw new Error(`${runs[name].join(" ")} exited ${r.code} without an order file: ${r.stderr.slice(0, 300)}`);
      copyFileSync(out, join(ORDER_DIR, `${name}.txt`));
      console.log(`wrote ${join(ORDER_DIR, `${name}.txt`)}`);
    }
  } finally {
    await reg.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
