/**
 * The image pane's two passes (src/browse/listings.ts, growing-tree.ts): every layer's budgeted
 * listing at once, then the complete one in the background, the tree growing as entries come.
 * The fault proxy holds back or slows the bytes past the first pass's budget (a real registry
 * sends them at once).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { ESTARGZ_TOC } from "../toc/fixture.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIRST_PASS_BUDGET } from "../../src/browse/listings.ts";
import { onBrowseTerminal, quitBrowse } from "../support/browse.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { estargzLayer } from "../support/estargz.ts";
import { gnuTar, layerFrom, makeTree, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

/** Whether a request for one of `layers` asks for bytes past the first pass's budget (or the whole blob). */
function pastBudget(req: Request, layers: Set<string>): boolean {
  if (!layers.has(new URL(req.url).pathname.split("/").pop()!)) return false;
  const m = /bytes=(\d+)-(\d*)/.exec(req.headers.get("range") ?? "");
  return !m || m[2] === "" || Number(m[2]) >= FIRST_PASS_BUDGET;
}

describe("budgeted first pass, then complete listings in the background", () => {
  const reg = useRegistry();
  let cwd: string;
  let layers: Set<string>;
  /** 1,500 files of 1 KiB of random bytes: ~1.6 MB compressed, far more than the budget. */
  const FILES = 1500;
  beforeAll(async () => {
    const files = Array.from({ length: FILES }, (_, i) => ({ path: `data/f${String(i).padStart(5, "0")}`, content: crypto.getRandomValues(new Uint8Array(1024)) }));
    const pushed = await pushImage(reg, "lab/big", "1", { layers: [{ bytes: layerFrom([{ path: "etc/small", content: "small\n" }]) }, { bytes: layerFrom(files) }] });
    layers = new Set(pushed.layers.map((l) => l.digest));
    cwd = mkdtempSync(join(tmpdir(), "ls-browse-passes-"));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  /** Filters the tree for the data files and gives the count the heading shows (files + their directory). */
  async function count(t: { screen(): string }): Promise<number> {
    const m = /filter: f\* \((\d+)\)/.exec(t.screen());
    return m ? Number(m[1]) - 1 : -1;
  }

  test("the budgeted listing of every layer at once while the complete read is held back; the tree grows entry by entry; then complete", async () => {
    const proxy = startFaultProxy(reg.url);
    // Past the budget, 16 KiB every 40 ms (~4 s for the layer); held back entirely at first.
    let hold = true;
    proxy.rule = (req) => (hold && pastBudget(req, layers) ? { kind: "stall", afterBytes: 0 } : undefined);
    try {
      await onBrowseTerminal({ cwd, args: `browse ${proxy.host}/lab/big:1` }, async (t) => {
        // The small layer is complete in the first pass; the big one partial, its complete read stalled.
        await t.waitFor(/1\/2 layers merged, 1 in part/);
        await t.waitFor(/ 0 +\S+ +complete \d+ /);
        t.type("/");
        await t.waitFor(/Filter \(glob/);
        t.type("f*");
        t.keys("Enter");
        await t.waitFor(/filter: f\* \(\d+\)/);
        const first = await count(t);
        // The first 256 KiB of ~1.6 MB: some of the files, not all.
        expect(first).toBeGreaterThan(50);
        expect(first).toBeLessThan(FILES / 2);
        expect(t.screen()).toMatch(/ 1 +\S+ +reading \d+%/);
        await quitBrowse(t);
      });
      // Again, the bytes past the budget now coming slowly: the count grows before the layer is complete.
      hold = false;
      proxy.paceBytes = 16 * 1024;
      proxy.paceMs = 40;
      await onBrowseTerminal({ cwd, args: `browse ${proxy.host}/lab/big:1` }, async (t) => {
        await t.waitFor(/1 in part|2\/2 layers merged/);
        t.type("/");
        await t.waitFor(/Filter \(glob/);
        t.type("f*");
        t.keys("Enter");
        await t.waitFor(/filter: f\* \(\d+\)/);
        const seen = new Set<number>();
        for (let i = 0; i < 200 && !/2\/2 layers merged/.test(t.screen()); i++) {
          seen.add(await count(t));
          await Bun.sleep(50);
        }
        await t.waitFor(/2\/2 layers merged/);
        await t.waitFor(new RegExp(`filter: f\\* \\(${FILES + 1}\\)`));
        // Counts between the first pass's and the whole layer's were on the screen.
        const between = [...seen].filter((n) => n > 0 && n < FILES);
        expect(between.length).toBeGreaterThanOrEqual(3);
        await quitBrowse(t);
      });
    } finally {
      proxy.stop();
    }
  });
});

describe("a layer listed from its TOC", () => {
  const reg = useRegistry();
  let cwd: string;
  let image: string;
  beforeAll(async () => {
    // Larger than the first pass's budget (random bytes do not compress), so the complete read is the TOC's.
    const root = makeTree([
      { path: "etc/hostname", content: "toc\n" },
      { path: "usr/bin/tool", content: crypto.getRandomValues(new Uint8Array(64 * 1024)) },
      ...Array.from({ length: 8 }, (_, i) => ({ path: `data/r${i}`, content: crypto.getRandomValues(new Uint8Array(64 * 1024)) })),
    ]);
    let tar: Uint8Array;
    try {
      tar = gnuTar(root, "pax");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    const esgz = estargzLayer(tar, 64 * 1024);
    expect(esgz.bytes.length).toBeGreaterThan(FIRST_PASS_BUDGET);
    await pushImage(reg, "lab/toc", "1", { layers: [{ bytes: esgz.bytes, annotations: { [ESTARGZ_TOC]: esgz.tocDigest } }] });
    image = `${reg.host}/lab/toc:1`;
    cwd = mkdtempSync(join(tmpdir(), "ls-browse-toc-"));
  }, 120_000);
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  test("shows as TOC, not complete, and the status line says it is what the TOC declares; from the cache as cache TOC", async () => {
    const cache = mkdtempSync(join(cwd, "shared-cache-"));
    for (const state of ["TOC", "cache TOC"]) {
      await onBrowseTerminal({ cwd, args: `browse ${image}`, env: `LAYERSLAYER_CACHE_DIR=${cache}` }, async (t) => {
        await t.waitFor(/1\/1 layers merged/);
        await t.waitFor(new RegExp(`^[ ▶•] +0 +[0-9.]+[KMG]? +${state} \\d+ `, "m"));
        expect(t.screen()).not.toMatch(/complete \d+/);
        // On the layers pane, the status line tells where the selected layer's listing came from.
        t.keys("Tab");
        await t.waitFor(/layer 0 is listed as the layer's eStargz TOC declares it \(TOC of/);
        await quitBrowse(t);
      });
    }
  });
});
