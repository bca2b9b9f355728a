/**
 * The app on a terminal (src/browse/app.ts): what the library logs while the screen is ours goes
 * to the title line, not over the screen; a key pressed while layers stall is answered at once.
 * The fault proxy makes the registry ignore ranges or stall (a real registry does neither).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onBrowseTerminal, quitBrowse, screenLines } from "../support/browse.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

describe("the browser app on a terminal", () => {
  const reg = useRegistry();
  let cwd: string;
  let pushed: PushedImage;
  beforeAll(async () => {
    pushed = await pushImage(reg, "lab/app", "1", {
      layers: [
        { bytes: layerFrom([{ path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" }]) },
        { bytes: layerFrom([{ path: "var/big", content: crypto.getRandomValues(new Uint8Array(400 * 1024)) }]) },
      ],
    });
    cwd = mkdtempSync(join(tmpdir(), "ls-browse-app-"));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  test("a warning of the registry client (it ignores ranges) is on the title line; nothing is written over the screen", async () => {
    const proxy = startFaultProxy(reg.url);
    proxy.rule = (req) => (new URL(req.url).pathname.includes("/blobs/") ? { kind: "ignoreRange" } : undefined);
    try {
      await onBrowseTerminal({ cwd, args: `browse ${proxy.host}/lab/app:1` }, async (t) => {
        await t.waitFor(/2\/2 layers merged/);
        await t.waitFor(/⚠ .*ignores Range requests/);
        const screen = screenLines(t, proxy.host);
        expect(screen[0]).toMatch(/^layerslayer browse {2}REGISTRY\/lab\/app:1 {2}2 layers {2}⚠ (\d+ warnings, the last: )?REGISTRY ignores Range requests/);
        // No stderr line on the screen, and the frame is intact: the footer is the last line, the layers where they belong.
        expect(screen.some((l) => l.includes("layerslayer: warning:"))).toBe(false);
        expect(screen.filter((l) => l.includes("ignores Range"))).toHaveLength(1);
        expect(screen[1]).toMatch(/^── Layers {2}2\/2 layers merged/);
        expect(screen.at(-1)).toContain("q quit");
        await quitBrowse(t);
        // Once the program has left the screen, stderr is its own again (nothing held back is lost: the shell's line follows).
        expect(t.screen()).toContain("EXIT=0");
      });
    } finally {
      proxy.stop();
    }
  });

  test("a key pressed while a layer's blob stalls is answered at once (the redraw does not wait for the network)", async () => {
    const proxy = startFaultProxy(reg.url);
    const stalled = pushed.layers[1]!.digest;
    proxy.rule = (req) => (new URL(req.url).pathname.endsWith(stalled) ? { kind: "stall", afterBytes: 1024 } : undefined);
    try {
      await onBrowseTerminal({ cwd, args: `browse ${proxy.host}/lab/app:1` }, async (t) => {
        await t.waitFor(/ 1 +\S+ +reading \d+%/);
        await t.waitFor(/1\/2 layers merged/);
        // The layer still stalls (for ever): each key on the screen after a short wait proves the
        // redraw does not wait for the network. 100 ms on a quiet machine; 400 here, as the machine
        // running the tests may be busy (the figure itself is bench's, not a test's).
        for (const [key, want] of [
          ["?", /Press any key to close this help/],
          ["x", /── Layers/],
          ["i", /^History/m],
          ["i", /── Tree/],
        ] as const) {
          t.type(key);
          await Bun.sleep(400);
          expect(t.screen()).toMatch(want);
        }
        t.keys("Tab", "Up");
        await Bun.sleep(400);
        expect(t.screen()).toMatch(/^▶ +0 /m);
        expect(t.screen()).toMatch(/ 1 +\S+ +reading \d+%/);
        await quitBrowse(t);
      });
    } finally {
      proxy.stop();
    }
  });

  test("keys are answered while a layer streams at full speed (the read gives way to them, not only when it waits for the network)", async () => {
    // Many small files of random bytes: seconds of decoding here, all of it bytes already received.
    const files = Array.from({ length: 20_000 }, (_, i) => ({ path: `data/d${i % 50}/f${i}`, content: crypto.getRandomValues(new Uint8Array(200)) }));
    await pushImage(reg, "lab/stream", "1", { layers: [{ bytes: layerFrom(files) }] });
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/stream:1` }, async (t) => {
      await t.waitFor(/ 0 +\S+ +reading \d+%/);
      // Help on and off while the layer is read: each key on the screen within a second (the
      // machine is shared), and the layer still being read when the help has gone again.
      const within = async (re: RegExp) => {
        const t0 = performance.now();
        while (!re.test(t.screen())) {
          if (performance.now() - t0 > 1000) throw new Error(`not on the screen after 1 s: ${re}\n${t.screen()}`);
          await Bun.sleep(20);
        }
      };
      let answered = 0;
      for (let i = 0; i < 3 && / 0 +\S+ +reading /.test(t.screen()); i++) {
        t.type("?");
        await within(/Press any key to close this help/);
        t.type("x");
        await within(/── Layers/);
        if (/ 0 +\S+ +reading /.test(t.screen())) answered++;
      }
      expect(answered).toBeGreaterThanOrEqual(2);
      await t.waitFor(/1\/1 layers merged/);
      await quitBrowse(t);
    });
  });
});
