/**
 * The diff view (src/browse/diff-view.ts, diff-screen.ts): two layers of the image, or the image
 * and another one, by the `diff` command's analysis, as a tree marked + ~ - in dive's colours.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onBrowseTerminal, quitBrowse, screenLines } from "../support/browse.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

describe("the diff view, in tmux", () => {
  const reg = useRegistry();
  let cwd: string;
  beforeAll(async () => {
    const base = layerFrom([
      { path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
      { path: "etc/hostname", content: "lab\n" },
    ]);
    await pushImage(reg, "lab/diff", "a", {
      layers: [
        { bytes: base },
        {
          bytes: layerFrom([
            { path: "etc/hostname", content: "lab-2\n" },
            { path: "var/log/app.log", content: "one\n" },
          ]),
        },
      ],
    });
    await pushImage(reg, "lab/diff", "b", {
      // The fixture's config with a user set: one config change.
      config: {
        config: {
          User: "app",
          Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
          Cmd: ["/bin/sh"],
          WorkingDir: "/",
          Labels: { "org.example.fixture": "lab/diff" },
        },
      },
      layers: [
        { bytes: base },
        {
          bytes: layerFrom([
            { path: "etc/hostname", content: "lab-two\n" },
            { path: "usr/bin/new", content: "#!/bin/sh\n" },
          ]),
        },
      ],
    });
    cwd = mkdtempSync(join(tmpdir(), "ls-browse-diff-"));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  test("d with a layer number: that layer against the selected one, each layer's own changes, + ~ - in colour; Esc back", async () => {
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/diff:a` }, async (t) => {
      await t.waitFor(/2\/2 layers merged/);
      t.type("d");
      await t.waitFor(/Diff layer 1 against \(a layer number, or an image\): 0█/);
      t.keys("Enter");
      await t.waitFor(/── Diff {2}layer 0 → layer 1 {2}\d+ paths/);
      const screen = screenLines(t, reg.host);
      const body = screen.slice(screen.findIndex((l) => l.startsWith("── Diff")) + 1);
      // etc/ itself differs (its mtime), hostname changed, passwd only in layer 0, var/ only in layer 1.
      expect(body.slice(0, 4)).toEqual(["~▶etc/", "~   hostname", "-   passwd", "+ var/  (2 paths below)"]);
      // Colours: removed red, modified yellow, added green.
      const styled = t.screen({ escapes: true }).split("\n");
      expect(styled.find((l) => l.includes("passwd"))).toMatch(/\x1b\[31m/);
      expect(styled.find((l) => l.includes("hostname"))).toMatch(/\x1b\[33m/);
      expect(styled.find((l) => /var\//.test(l) && !l.includes("Diff"))).toMatch(/\x1b\[32m/);
      // The status line says what changed, as `diff` prints it.
      t.keys("Down");
      await t.waitFor(/^Changed: \/etc\/hostname: size 4 → 6/m);
      t.keys("Down");
      await t.waitFor(/^Only in A: \/etc\/passwd \(file, 26 bytes\)$/m);
      t.keys("Escape");
      await t.waitFor(/── Layers/);
      await quitBrowse(t);
    });
  });

  test("d with a reference: this image against another, the shared layer named, config changes listed", async () => {
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/diff:a`, width: 140 }, async (t) => {
      await t.waitFor(/2\/2 layers merged/);
      t.type("d");
      await t.waitFor(/Diff layer 1 against/);
      t.keys("C-u");
      t.type(`${reg.host}/lab/diff:b`);
      t.keys("Enter");
      await t.waitFor(/── Diff {2}\S+\/lab\/diff:a → \S+\/lab\/diff:b {2}\d+ paths, 1 config changes; 1 shared layer \(from the cache\)/);
      const screen = screenLines(t, reg.host);
      const body = screen.slice(screen.findIndex((l) => l.startsWith("── Diff")) + 1);
      expect(body.slice(0, 5)).toEqual(["~▶etc/", "~   hostname", "+ usr/  (2 paths below)", "- var/  (2 paths below)", "+ Config: User: (none) → app"]);
      t.keys("Down");
      await t.waitFor(/^Changed: \/etc\/hostname: size 6 → 8/m);
      await quitBrowse(t);
    });
  });
});
