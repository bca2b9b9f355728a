import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { onBrowseTerminal, quitBrowse, screenLines } from "../support/browse.ts";
import type { Terminal } from "../support/tmux.ts";

const root = join(import.meta.dir, "..", "..");
const GOLDEN = join(import.meta.dir, "golden");
const PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nlab:x:1000:1000::/home/lab:/bin/sh\n";
const OS_RELEASE = 'PRETTY_NAME="Lab Linux 1"\nNAME="Lab Linux"\nID=lab\n';
const BINARY = new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff));
/** Longer than the viewer's first part (64 KiB): "load more" is offered. */
const BIG = Array.from({ length: 9000 }, (_, i) => `line ${i + 1} of a large log file`).join("\n");

describe("browse on a real registry, in tmux", () => {
  const reg = useRegistry();
  let cwd: string;
  beforeAll(async () => {
    await pushImage(reg, "lab/debian", "1", {
      layers: [
        {
          bytes: layerFrom([
            { path: "etc/passwd", content: PASSWD },
            { path: "etc/os-release", symlink: "../usr/lib/os-release" },
            { path: "usr/lib/os-release", content: OS_RELEASE },
            { path: "etc/hostname", content: "lab\n" },
            { path: "usr/bin/tool", content: BINARY },
            { path: "tmp/junk.txt", content: "junk\n" },
            { path: "lib", symlink: "usr/lib" },
          ]),
        },
        {
          bytes: layerFrom([
            { path: "var/log/big.log", content: BIG },
            { path: "etc/hostname", content: "lab-2\n" },
          ]),
        },
        {
          bytes: layerFrom([
            { path: "tmp/.wh.junk.txt", content: "" },
            { path: "app/\x1b[31mred", content: "escaped name\n" },
          ]),
        },
      ],
      history: [{ created_by: "ADD rootfs.tar /" }, { created_by: "ENV LAB=1", empty_layer: true }, { created_by: "RUN make-logs" }, { created_by: "RUN rm /tmp/junk.txt" }],
      config: { config: { User: "lab", Env: ["PATH=/usr/bin:/bin", "LAB=1"], Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo hi"], Labels: { "org.example.title": "lab\x1b[2J" } } },
    });
    cwd = mkdtempSync(join(tmpdir(), "ls-browse-"));
  });
  afterAll(async () => {
    rmSync(cwd, { recursive: true, force: true });
  });

  async function onTerminal(body: (t: Terminal) => Promise<void>, opts: { width?: number; height?: number; env?: string; image?: string } = {}) {
    await onBrowseTerminal({ cwd, args: `browse ${opts.image ?? `${reg.host}/lab/debian:1`}`, ...opts }, body);
  }

  const quit = quitBrowse;

  /** Types a filter (replacing the one there) and waits until the tree shows it. */
  async function filterFor(t: Terminal, glob: string): Promise<void> {
    t.type("/");
    await t.waitFor(/Filter \(glob/);
    t.keys("C-u");
    t.type(glob);
    t.keys("Enter");
    await t.waitFor(new RegExp(`filter: ${glob.replace(/[.*]/g, "\\$&")} \\(`));
  }

  const lines = (t: Terminal) => screenLines(t, reg.host);

  test("done-when: find /etc/passwd, see the layer that added it, read it, save it (bytes compared)", async () => {
    await onTerminal(async (t) => {
      // The layer list at once, with build steps and listing states.
      await t.waitFor(/ADD rootfs\.tar/);
      await t.waitFor(/3\/3 layers merged/);
      const first = lines(t);
      expect(first[0]).toBe("layerslayer browse  REGISTRY/lab/debian:1  3 layers");
      expect(first.some((l) => /^.\s+0\s+\S+\s+complete \d+\s+ADD rootfs\.tar \/$/.test(l))).toBe(true);
      expect(first.some((l) => /RUN rm \/tmp\/junk\.txt/.test(l))).toBe(true);
      expect(first.at(-1)).toContain("? help");
      // The help overlay explains the keys; any key closes it.
      t.type("?");
      await t.waitFor(/Press any key to close this help/);
      t.keys("Escape");
      await t.waitFor(/── Layers {2}\d/);
      // Filter for passwd: the tree shows it with its parent.
      t.type("/");
      await t.waitFor(/Filter \(glob/);
      t.type("passwd");
      t.keys("Enter");
      await t.waitFor(/filter: passwd \(2\)/);
      t.keys("Down");
      await t.waitFor(/\/etc\/passwd {2}file 115 {2}from layer 0: ADD rootfs\.tar \//);
      const row = lines(t).find((l) => l.includes("passwd") && l.includes("L0"));
      expect(row).toMatch(/^ ▶ {4}passwd\s+115 L0$/);
      // Read it.
      t.keys("Enter");
      await t.waitFor(/1 │ root:x:0:0:root:\/root:\/bin\/bash/);
      expect(t.screen()).toContain("3 │ lab:x:1000:1000::/home/lab:/bin/sh");
      expect(t.screen()).toMatch(/3 lines, 115 {2}from layer 0/);
      // Save it.
      t.type("s");
      await t.waitFor(/Save \/etc\/passwd to: passwd/);
      t.keys("C-u");
      t.type(join(cwd, "saved-passwd"));
      t.keys("Enter");
      await t.waitFor(/saved \/etc\/passwd \(115\) to /);
      expect(readFileSync(join(cwd, "saved-passwd"), "utf8")).toBe(PASSWD);
      // Never over an existing file: it stays as it was.
      writeFileSync(join(cwd, "mine"), "my own file\n");
      t.type("s");
      await t.waitFor(/Save \/etc\/passwd to: passwd/);
      t.keys("C-u");
      t.type(join(cwd, "mine"));
      t.keys("Enter");
      await t.waitFor(/not saved: .*mine.*(exists|EEXIST)/);
      expect(readFileSync(join(cwd, "mine"), "utf8")).toBe("my own file\n");
      // Back, then quit.
      t.keys("Escape");
      await t.waitFor(/filter: passwd/);
      await quit(t);
    });
  });

  test("a symlink is shown with its target and followed; binary files in hex; large files in parts", async () => {
    await onTerminal(async (t) => {
      await t.waitFor(/3\/3 layers merged/);
      await filterFor(t, "os-release");
      const screen = lines(t);
      expect(screen.some((l) => /os-release → \.\.\/usr\/lib\/os-release/.test(l))).toBe(true);
      // The first match under etc/ is the symlink.
      t.keys("Down");
      await t.waitFor(/\/etc\/os-release {2}symlink/);
      t.keys("Enter");
      await t.waitFor(/── \/etc\/os-release → \/usr\/lib\/os-release/);
      await t.waitFor(/1 │ PRETTY_NAME="Lab Linux 1"/);
      t.type("s");
      await t.waitFor(/Save \/usr\/lib\/os-release to: os-release/);
      t.keys("Enter");
      await t.waitFor(/saved \/usr\/lib\/os-release/);
      expect(readFileSync(join(cwd, "os-release"), "utf8")).toBe(OS_RELEASE);
      t.keys("BSpace");
      // A symlink to a directory: the cursor goes to the directory, its parents opened.
      await t.waitFor(/filter: os-release/);
      await filterFor(t, "lib");
      await t.waitFor(/lib → usr\/lib/);
      t.keys("Enter");
      await t.waitFor(/→ \/usr\/lib$/m);
      expect(lines(t).some((l) => /^ ▶ {2}▾ lib\/\s+\d+ L0$/.test(l))).toBe(true);
      // A binary file in hex.
      await filterFor(t, "tool");
      t.keys("Down", "Down", "Enter");
      await t.waitFor(/00000000 {2}00 25 4a 6f 94 b9 de 03 {2}28 4d 72 97 bc e1 06 2b/);
      expect(t.screen()).toMatch(/binary \(hex\), 300 {2}from layer 0/);
      // (Esc then "/" at once would read as Alt+/: a person is slower than that.)
      t.keys("Escape");
      await t.waitFor(/── Layers {2}\d/);
      // A large file: the first part, then more.
      await filterFor(t, "big.log");
      t.keys("End", "Enter");
      await t.waitFor(/1 │ line 1 of a large log file/);
      t.keys("End");
      await t.waitFor(/first 64K of \S+K shown: press m to load more/);
      t.type("m");
      await t.waitFor(/ lines, first 256K of 263K {2}from layer 1/);
      t.type("m");
      await t.waitFor(/9000 lines, 263K {2}from layer 1/);
      t.keys("End");
      await t.waitFor(/9000 │ line 9000 of a large log file/);
      await quit(t);
    });
  });

  test("the changes of one layer: added, modified and removed, dive's colours, names escaped", async () => {
    await onTerminal(async (t) => {
      await t.waitFor(/3\/3 layers merged/);
      // The top layer is selected: its changes only.
      t.type("c");
      await t.waitFor(/changes in layer 2 only/);
      let screen = lines(t);
      expect(screen.some((l) => /^- {5}junk\.txt\s+5 L2$/.test(l))).toBe(true);
      expect(screen.some((l) => l.includes("+ ") && l.includes("\\x1b[31mred"))).toBe(true);
      // Colours: removed in red (SGR 31), added in green (32).
      const styled = t.screen({ escapes: true }).split("\n");
      expect(styled.find((l) => l.includes("junk.txt") && !l.includes("RUN"))).toMatch(/\x1b\[31m/);
      expect(styled.find((l) => l.includes("red"))).toMatch(/\x1b\[32m/);
      // Layer 1 modified /etc/hostname.
      t.keys("Tab", "Up");
      await t.waitFor(/changes in layer 1 only/);
      screen = lines(t);
      expect(screen.some((l) => /^~ {5}hostname\s+6 L1$/.test(l))).toBe(true);
      expect(screen.some((l) => /^\+ {7}big\.log\s+263K L1$/.test(l))).toBe(true);
      // Back to the merged tree.
      t.type("c");
      await t.waitFor(/merged file system, layer 1's changes coloured/);
      await quit(t);
    });
  });

  test("the image's details (labels escaped, history with layers); go to a typed path; sort by size", async () => {
    await onTerminal(async (t) => {
      await t.waitFor(/3\/3 layers merged/);
      t.type("i");
      await t.waitFor(/History/);
      const screen = lines(t);
      for (const want of [
        "Platform     linux/amd64",
        "User         lab",
        "Entrypoint   /bin/sh -c",
        "Cmd          echo hi",
        "Env          PATH=/usr/bin:/bin",
        "             LAB=1",
        "  org.example.title=lab\\x1b[2J",
        "    0  ADD rootfs.tar /",
        "    -  ENV LAB=1",
        "    2  RUN rm /tmp/junk.txt",
      ])
        expect(screen).toContain(want);
      // dive's score from the analysis module: /etc/hostname (4 bytes, then 6) and /tmp/junk.txt
      // (5 bytes, then deleted) are the waste.
      expect(screen.join("\n")).toMatch(/^Efficiency {3}\d+\.\d %, \d+ wasted/m);
      expect(screen.some((l) => /^ +\d+ {2}\/etc\/hostname {2}\(layers 0, 1\)$/.test(l))).toBe(true);
      t.keys("Escape");
      await t.waitFor(/── Layers {2}\d/);
      // `:` a typed path: the cursor goes there, its directory opened.
      t.type(":");
      await t.waitFor(/Go to path: \//);
      t.type("usr/lib/os-release");
      t.keys("Enter");
      await t.waitFor(/^→ \/usr\/lib\/os-release$/m);
      expect(lines(t).some((l) => /^ ▶ {6}os-release\s+\d+ L0$/.test(l))).toBe(true);
      t.type(":");
      t.type("nowhere");
      t.keys("Enter");
      await t.waitFor(/\/nowhere: no such file or directory/);
      // `o`: by size, the largest first (var/ holds the 263K log).
      t.type("o");
      await t.waitFor(/, by size/);
      const top = lines(t).findIndex((l) => l.startsWith("── Tree"));
      expect(lines(t)[top + 1]).toMatch(/^ {2}▸ var\/\s+263K L1$/);
      await quit(t);
    });
  });

  test("80×24 with NO_COLOR, then a resize: the layout fits the new size", async () => {
    await onTerminal(
      async (t) => {
        await t.waitFor(/3\/3 layers merged/);
        const small = t.screen().split("\n");
        expect(small.filter((l) => l.length > 0).every((l) => Bun.stringWidth(l) <= 80)).toBe(true);
        expect(small[23]).toContain("q quit");
        // NO_COLOR: the added app/ is marked "+" without green; the cursor is still reverse video.
        expect(small.some((l) => /^\+.▸ app\//.test(l))).toBe(true);
        expect(t.screen({ escapes: true })).not.toMatch(/\x1b\[(?:\d+;)*3[1-7]m/);
        expect(t.screen({ escapes: true })).toMatch(/\x1b\[(?:\d+;)*7m/);
        t.resize(120, 40);
        await t.waitFor(/^.{81,}/m);
        const big = t.screen().split("\n");
        expect(big[39]).toContain("q quit");
        await quit(t);
      },
      { width: 80, height: 24, env: "NO_COLOR=1" },
    );
  });

  /**
   * The screen as a golden file has it: the registry's address and the layers' compressed sizes
   * (gzip output varies with the machine's zlib) replaced. BROWSE_GOLDEN=write rewrites the files.
   */
  function golden(t: Terminal, name: string): void {
    const text = `${lines(t)
      .map((l) => l.replace(/^(.\s+\d+)\s+\S+(\s+(?:complete|cache) )/, (_, a: string, b: string) => `${a}${" ".repeat(10 - Bun.stringWidth(a) + 4)}SIZE${b}`))
      .join("\n")}\n`;
    const file = join(GOLDEN, `${name}.txt`);
    if (process.env.BROWSE_GOLDEN === "write") writeFileSync(file, text);
    expect(text).toBe(readFileSync(file, "utf8"));
  }

  test("golden screens at 80×24 without colour: the tree filtered for passwd, the file, the help", async () => {
    await onTerminal(
      async (t) => {
        await t.waitFor(/3\/3 layers merged/);
        await filterFor(t, "passwd");
        t.keys("Down");
        await t.waitFor(/\/etc\/passwd {2}file/);
        golden(t, "tree-80x24");
        t.keys("Enter");
        await t.waitFor(/3 lines/);
        golden(t, "file-80x24");
        t.type("?");
        await t.waitFor(/Press any key/);
        golden(t, "help-80x24");
        await quit(t);
      },
      { width: 80, height: 24, env: "NO_COLOR=1" },
    );
  });

  test("Esc while layers stall stops every download (no request for the layers not started); keys still work; q leaves", async () => {
    // Random bytes: gzip cannot shrink them, so a part of the blob decodes to a part of the tar.
    const layers = Array.from({ length: 6 }, (_, i) => ({ bytes: layerFrom([{ path: `layer${i}/file`, content: crypto.getRandomValues(new Uint8Array(16384)) }]) }));
    const pushed = await pushImage(reg, "lab/slow", "1", { layers });
    const proxy = startFaultProxy(reg.url);
    const stalled = new Set(pushed.layers.slice(0, 3).map((l) => l.digest));
    // The first three blobs send 4 KiB and then nothing: three workers are busy for good.
    proxy.rule = (req) => (stalled.has(new URL(req.url).pathname.split("/").pop()!) ? { kind: "stall", afterBytes: 4096 } : undefined);
    try {
      await onTerminal(
        async (t) => {
          await t.waitFor(/0\/6 layers merged/);
          await t.waitFor(/reading.*\n.*reading.*\n.*reading/);
          expect(lines(t).filter((l) => / waiting /.test(l))).toHaveLength(3);
          // Each stalled layer's gauge: the 4 KiB it got of its ~17 KiB.
          await t.waitFor(/reading 2\d%.*\n.*reading 2\d%.*\n.*reading 2\d%/);
          t.keys("Escape");
          await t.waitFor(/stopped reading layers/);
          // The three stalled downloads stop too (the signal reaches the listing path).
          await t.waitFor(/(?:stopped.*\n.*){5}stopped/);
          expect(lines(t).filter((l) => / stopped /.test(l))).toHaveLength(6);
          // Keys are answered while the three layers stall.
          t.type("?");
          await t.waitFor(/Press any key/);
          await quit(t);
        },
        { image: `${proxy.host}/lab/slow:1`, height: 30 },
      );
      // q while the downloads stall: they are cancelled and the program ends.
      await onTerminal(
        async (t) => {
          await t.waitFor(/reading 2\d%.*\n.*reading 2\d%.*\n.*reading 2\d%/);
          await quit(t);
        },
        { image: `${proxy.host}/lab/slow:1`, height: 30 },
      );
      const blobs = proxy.requests.filter((r) => r.path.includes("/blobs/sha256:")).map((r) => r.path.split("/").pop());
      for (const l of pushed.layers.slice(3)) expect(blobs).not.toContain(l.digest);
      for (const d of stalled) expect(blobs).toContain(d);
    } finally {
      proxy.stop();
    }
  });

  test("refuses without a terminal", async () => {
    const r = await runCli(["browse", `${reg.host}/lab/debian:1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("layerslayer: browse needs a terminal (standard input and output); for scripts see ls, find and cat\n");
    expect(existsSync(join(root, "passwd"))).toBe(false);
  });
});
