/**
 * The CLI's progress line for layer reads: the arithmetic on synthetic events (a fake clock and
 * stream), then a cold `ls` on a real terminal (tmux) against the registry behind a throttled
 * proxy: the line is drawn while the layer streams and erased when the listing is done, and a
 * second `ls` answered from the cache draws nothing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerProgress } from "../../src/cli/layer-progress.ts";
import { downloadProgress, type Progress } from "../../src/layer/progress.ts";
import { MAIN } from "../support/cli.ts";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.ts";
import { pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { syntheticLayer } from "../support/synthetic-tar.ts";
import { startTerminal } from "../support/tmux.ts";

const event = (layer: number, size: number, downloaded: number, done = false, cached = false): Progress => ({
  layer,
  digest: `sha256:${layer}`,
  size,
  downloaded,
  decoded: downloaded * 3,
  entries: downloaded,
  cached,
  done,
});

describe("LayerProgress", () => {
  function harness(layers: { index: number; size: number }[] | undefined, budget?: number, verb?: string) {
    let t = 0;
    const out: string[] = [];
    const progress = new LayerProgress(layers, budget, { write: (s) => out.push(s), columns: 100 }, () => t, verb);
    return { progress, out, at: (ms: number) => (t = ms), last: () => out.at(-1) ?? "" };
  }

  test("nothing is drawn in the first moments, so a quick read never flashes a line", () => {
    const h = harness([{ index: 0, size: 1000 }]);
    h.at(100);
    h.progress.listener(event(0, 1000, 500));
    h.progress.listener(event(0, 1000, 1000, true));
    expect(h.out).toEqual([]);
    h.progress.clear();
    expect(h.out).toEqual([]);
  });

  test("layers planned: done counts a finished layer whole (budget or cache), bytes come from the events", () => {
    const h = harness([
      { index: 0, size: 1000 },
      { index: 1, size: 3000 },
    ]);
    h.at(1000);
    h.progress.listener(event(0, 1000, 0, true, true)); // from the cache
    expect(h.last()).toContain("reading layers 1/2");
    expect(h.last()).toContain("1000/4.0K");
    h.at(2000);
    h.progress.listener(event(1, 3000, 1500));
    expect(h.last()).toContain("2.5K/4.0K");
    expect(h.last()).toContain(" 62%");
    h.at(3000);
    h.progress.listener(event(1, 3000, 3000, true));
    expect(h.last()).toContain("reading layers 2/2");
    expect(h.last()).toContain("100%");
    h.progress.clear();
    expect(h.last()).toBe("\r\x1b[K");
  });

  test("a budget caps what each layer is expected to take", () => {
    const h = harness([{ index: 0, size: 10_000 }], 1000);
    h.at(1000);
    h.progress.listener(event(0, 10_000, 500));
    expect(h.last()).toContain("500/1000");
    expect(h.last()).toContain(" 50%");
  });

  test("without a plan (cat) the total grows with the layers read", () => {
    const h = harness(undefined);
    h.at(1000);
    h.progress.listener(event(3, 2000, 1000));
    expect(h.last()).toContain("reading layer 3");
    expect(h.last()).toContain("1000/2.0K");
    h.at(2000);
    h.progress.listener(event(3, 2000, 2000, true));
    h.at(3000);
    h.progress.listener(event(2, 2000, 0));
    expect(h.last()).toContain("reading layer 2");
    expect(h.last()).toContain("2.0K/4.0K");
  });

  test("save's downloads, as the same events: bytes already on disk count as read and say 'verifying', not a rate", () => {
    const h = harness(
      [
        { index: 0, size: 4000 },
        { index: 2, size: 4000 },
      ],
      undefined,
      "saving",
    );
    const desc = (i: number) => ({ digest: `sha256:${i}`, size: 4000 });
    h.at(1000);
    // A partial file of 3000 bytes re-hashed before the resume.
    h.progress.listener(downloadProgress(0, desc(0), { done: 3000, downloaded: 0 }));
    expect(h.last()).toContain("saving layers 0/2");
    expect(h.last()).toContain("3.0K/7.9K");
    expect(h.last()).toEndWith("verifying");
    h.at(2000);
    h.progress.listener(downloadProgress(0, desc(0), { done: 4000, downloaded: 1000 }));
    expect(h.last()).toContain("4.0K/7.9K");
    expect(h.last()).toEndWith("500/s"); // since the start: 1000 bytes in 2 s
    h.at(3000);
    h.progress.listener(downloadProgress(0, desc(0), { done: 4000, downloaded: 1000 }, true));
    h.progress.listener(downloadProgress(2, desc(2), { done: 4000, downloaded: 4000 }, true));
    expect(h.last()).toContain("saving layers 2/2");
    expect(h.last()).toContain(" 100% ");
  });
});

describe("a cold ls on a terminal (tmux)", () => {
  let proxy: CountingProxy;
  const work = mkdtempSync(join(tmpdir(), "ls-progress-"));
  const reg = useRegistry({}, async () => {
    const big = await syntheticLayer(Array.from({ length: 30_000 }, (_, i) => ({ path: `data/d${i % 50}/f${i}`, size: 1200 + (i % 900) })));
    await pushImage(reg, "progress/big", "v1", { layers: [{ bytes: big }] });
    // About 800 KB/s: the layer takes a second or two to arrive.
    proxy = startCountingProxy(reg.url, { chunk: 16 * 1024, everyMs: 20 });
  });
  afterAll(() => {
    proxy?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs `ls` of the image with stdout to a file and stderr on the terminal; returns the screens seen. */
  async function lsOnTerminal(run: string): Promise<{ during: string[]; final: string }> {
    const out = join(work, `${run}.out`);
    const cmd = `HOME=${work} XDG_CACHE_HOME=${work}/cache ${process.execPath} ${MAIN} ls ${proxy.host}/progress/big:v1 /data/d7 > ${out}; echo EXIT=$?; sleep 30`;
    const term = startTerminal(["sh", "-c", cmd], { width: 120, height: 20 });
    const during: string[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        const s = term.screen();
        if (/EXIT=\d+/.test(s)) return { during, final: s };
        if (/reading layers/.test(s)) during.push(s);
        await Bun.sleep(25);
      }
      throw new Error(`ls never finished:\n${term.screen()}`);
    } finally {
      term.kill();
      expect(readFileSync(out, "utf8").split("\n").filter(Boolean).length).toBe(600);
    }
  }

  test("the progress line is drawn while the layer streams, then erased; from the cache nothing is drawn", async () => {
    const cold = await lsOnTerminal("cold");
    expect(cold.final).toContain("EXIT=0");
    expect(cold.during.length).toBeGreaterThan(0);
    const line = cold.during.map((s) => s.split("\n").find((l) => l.startsWith("reading layers"))!).at(-1)!;
    expect(line).toMatch(/^reading layers [01]\/1 \[[#-]+\]\s+\S+\/\S+\s+\d+%\s+\S+\/s$/);
    // Erased once the listing is done: only the exit line is left on the screen.
    expect(cold.final).not.toContain("reading layers");
    expect(cold.final.trim()).toBe("EXIT=0");

    const warm = await lsOnTerminal("warm");
    expect(warm.final.trim()).toBe("EXIT=0");
    expect(warm.during).toEqual([]);
  });
});
