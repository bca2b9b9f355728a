/**
 * The viewer's search and the image pane's actions (src/browse/viewer.ts, actions.ts): `/` n N in
 * a file; the file in $PAGER / $EDITOR (a script that records what it was given); the selected
 * layer saved, verified; the path copied with OSC 52 (tmux keeps it as a paste buffer).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clipboardSequence, programFor } from "../../src/browse/actions.ts";
import { onBrowseTerminal, quitBrowse } from "../support/browse.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import type { Terminal } from "../support/tmux.ts";

const PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nlab:x:1000:1000::/home/lab:/bin/sh\n";

describe("the viewer's search and the image pane's actions, in tmux", () => {
  const reg = useRegistry();
  let cwd: string;
  let pushed: PushedImage;
  beforeAll(async () => {
    pushed = await pushImage(reg, "lab/act", "1", {
      layers: [{ bytes: layerFrom([{ path: "etc/passwd", content: PASSWD }]) }, { bytes: layerFrom([{ path: "etc/motd", content: "hello\n" }]) }],
    });
    cwd = mkdtempSync(join(tmpdir(), "ls-browse-actions-"));
    // The pager and the editor: record the file's mode, its bytes and its name.
    for (const name of ["pager", "editor"]) {
      const script = join(cwd, `${name}.sh`);
      writeFileSync(script, `#!/bin/sh\nstat -c %a "$1" > ${cwd}/${name}.mode\ncat "$1" > ${cwd}/${name}.bytes\necho "$1" > ${cwd}/${name}.arg\n`);
      chmodSync(script, 0o755);
    }
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  async function openPasswd(t: Terminal): Promise<void> {
    await t.waitFor(/2\/2 layers merged/);
    t.type(":");
    await t.waitFor(/Go to path/);
    t.type("etc/passwd");
    t.keys("Enter");
    await t.waitFor(/^→ \/etc\/passwd$/m);
    t.keys("Enter");
    await t.waitFor(/3 lines, 115/);
  }

  test("/ searches the file (smart case), n and N go round the matches", async () => {
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/act:1` }, async (t) => {
      await openPasswd(t);
      t.type("/");
      await t.waitFor(/Search the file for: /);
      t.type("bin");
      t.keys("Enter");
      await t.waitFor(/\/bin: match 1 of 3 \(line 1\)/);
      t.type("n");
      await t.waitFor(/\/bin: match 2 of 3 \(line 2\)/);
      t.type("n");
      await t.waitFor(/match 3 of 3 \(line 3\)/);
      t.type("n");
      await t.waitFor(/match 1 of 3 \(line 1\)/);
      t.type("N");
      await t.waitFor(/match 3 of 3 \(line 3\)/);
      // A capital: case counts.
      t.type("/");
      await t.waitFor(/Search the file for: bin/);
      t.keys("C-u");
      t.type("Lab");
      t.keys("Enter");
      await t.waitFor(/\/Lab: not found/);
      // The current match is in reverse video.
      t.type("/");
      t.keys("C-u");
      t.type("daemon");
      t.keys("Enter");
      await t.waitFor(/match 1 of 1 \(line 2\)/);
      expect(
        t
          .screen({ escapes: true })
          .split("\n")
          .find((l) => l.includes("daemon:x:1")),
      ).toMatch(/\x1b\[(?:\d+;)*7m/);
      await quitBrowse(t);
    });
  });

  test("p: $PAGER gets a private copy (0600) of the whole file, removed afterwards; e: $EDITOR the same; the screen comes back", async () => {
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/act:1`, env: `PAGER=${cwd}/pager.sh EDITOR=${cwd}/editor.sh` }, async (t) => {
      await openPasswd(t);
      t.type("p");
      await t.waitFor(/paged: \S+pager\.sh/);
      await t.waitFor(/1 │ root:x:0:0/);
      expect(readFileSync(join(cwd, "pager.mode"), "utf8")).toBe("600\n");
      expect(readFileSync(join(cwd, "pager.bytes"), "utf8")).toBe(PASSWD);
      const arg = readFileSync(join(cwd, "pager.arg"), "utf8").trim();
      expect(arg).toEndWith("/passwd");
      expect(existsSync(arg)).toBe(false);
      t.type("e");
      await t.waitFor(/edited \(a copy\): \S+editor\.sh/);
      expect(readFileSync(join(cwd, "editor.bytes"), "utf8")).toBe(PASSWD);
      await quitBrowse(t);
    });
  });

  test("S saves the selected layer's blob, verified (its sha256 is the digest); y copies the path with OSC 52", async () => {
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/act:1` }, async (t) => {
      t.tmux("set-option", "-s", "set-clipboard", "on");
      await t.waitFor(/2\/2 layers merged/);
      // The top layer is selected: layer 1.
      t.type("S");
      await t.waitFor(/Save layer 1 to: sha256_[0-9a-f]{64}\.tar\.gz/);
      t.keys("C-u");
      t.type(join(cwd, "layer1.tgz"));
      t.keys("Enter");
      await t.waitFor(/saved layer 1 \(\d+, sha256:[0-9a-f]{12}\) to /);
      const bytes = readFileSync(join(cwd, "layer1.tgz"));
      expect(`sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`).toBe(pushed.layers[1]!.digest);
      // y on the tree's cursor row (etc/), then in the viewer.
      t.type("y");
      await t.waitFor(/copied \/etc to the clipboard/);
      expect(t.tmux("show-buffer")).toBe("/etc");
      await openPasswd(t);
      t.type("y");
      await t.waitFor(/copied \/etc\/passwd to the clipboard/);
      expect(t.tmux("show-buffer")).toBe("/etc/passwd");
      await quitBrowse(t);
    });
  });

  test("the clipboard sequence carries any name as base64; the programs default to less and vi", () => {
    expect(clipboardSequence("/etc/\x1b[31mred")).toBe(`\x1b]52;c;${Buffer.from("/etc/\x1b[31mred").toString("base64")}\x07`);
    expect(clipboardSequence("/a")).not.toContain("\x1b[");
    expect(programFor("pager", {})).toBe("less");
    expect(programFor("pager", { PAGER: "most -s" })).toBe("most -s");
    expect(programFor("editor", { EDITOR: "nano" })).toBe("nano");
    expect(programFor("editor", { VISUAL: "code -w", EDITOR: "nano" })).toBe("code -w");
    expect(programFor("editor", {})).toBe("vi");
  });
});
