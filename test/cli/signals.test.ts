/**
 * Real processes against the real registry: several `save`s into one directory at once, and
 * SIGINT/SIGTERM/SIGHUP in the middle of `save` and `cat -o` (the fault proxy stalls the blob so the
 * signal lands mid-transfer).
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PART_ENTRIES } from "../../src/cache/listing-parts.ts";
import { noise } from "../support/bytes.ts";
import { isolatedHome, MAIN, runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, sha256, type FileSpec, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { startTerminal } from "../support/tmux.ts";

const fileOf = (digest: string, ext: string) => `${digest.replace(":", "_")}${ext}`;
const STALL_AT = 100_000;

describe("concurrent saves and stop signals", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  let img: PushedImage;
  let work: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    proxy = startFaultProxy(reg.url);
    img = await pushImage(reg, "sig/app", "v1", {
      layers: [
        { bytes: layerFrom([{ path: "big.bin", content: noise(600_000, 3) }]) },
        {
          bytes: layerFrom(
            [
              { path: "etc/hostname", content: "box\n" },
              { path: "more.bin", content: noise(300_000, 4) },
            ],
            { compression: "zstd" },
          ),
          compression: "zstd",
        },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    proxy.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  beforeEach(() => {
    proxy.rule = () => undefined;
    work = mkdtempSync(join(tmpdir(), "ls-sig-"));
    dirs.push(work);
  });
  const layer0 = () => img.layers[0]!.digest;
  const stallLayer0 = () => {
    proxy.rule = (req) => (req.method === "GET" && new URL(req.url).pathname.endsWith(layer0()) ? { kind: "stall", afterBytes: STALL_AT } : undefined);
  };
  const spawn = (args: string[]) =>
    Bun.spawn([process.execPath, MAIN, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: isolatedHome, XDG_CACHE_HOME: join(work, "cache"), NO_COLOR: "1" },
    });
  /** Waits until a file in `dir` whose name passes `match` holds at least `bytes` bytes. */
  async function waitForFile(dir: string, match: (name: string) => boolean, bytes: number): Promise<string> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const name = existsSync(dir) ? readdirSync(dir).find(match) : undefined;
      if (name && statSync(join(dir, name)).size >= bytes) return name;
      await Bun.sleep(20);
    }
    throw new Error(`no file in ${dir} reached ${bytes} bytes`);
  }
  /** The process's exit code, or a failure when it does not exit within 10 s of the signal. */
  async function exitWithin(proc: ReturnType<typeof spawn>): Promise<number> {
    const timeout = Bun.sleep(10_000).then(() => "hung" as const);
    const code = await Promise.race([proc.exited, timeout]);
    if (code === "hung") {
      proc.kill("SIGKILL");
      throw new Error("the process did not exit within 10 s of the signal");
    }
    return code;
  }

  test("four saves of the same image into one directory at once: all succeed, one verified file per layer, no temp file", async () => {
    // A registry that sends slowly, so the four transfers overlap.
    let inFlight = 0;
    let overlap = 0;
    const slow = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        const up = await fetch(`${reg.url}${url.pathname}${url.search}`, { method: req.method, headers: req.headers });
        const headers = new Headers(up.headers);
        headers.delete("content-encoding");
        headers.delete("transfer-encoding");
        if (req.method !== "GET" || !url.pathname.includes("/blobs/")) return new Response(up.body, { status: up.status, headers });
        const bytes = new Uint8Array(await up.arrayBuffer());
        inFlight++;
        overlap = Math.max(overlap, inFlight);
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            const at = (body as unknown as { at?: number }).at ?? 0;
            if (at >= bytes.length) {
              inFlight--;
              c.close();
              return;
            }
            await Bun.sleep(5);
            c.enqueue(bytes.subarray(at, at + 32 * 1024));
            (body as unknown as { at?: number }).at = at + 32 * 1024;
          },
        });
        return new Response(body, { status: up.status, headers });
      },
    });
    try {
      const out = join(work, "same");
      const procs = Array.from({ length: 4 }, () => spawn(["save", `127.0.0.1:${slow.port}/sig/app:v1`, "-o", out]));
      const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, stderr: await new Response(p.stderr).text() })));
      for (const r of results) expect(r).toEqual({ code: 0, stderr: "" });
      expect(overlap).toBeGreaterThan(1);
      const want = [fileOf(img.layers[0]!.digest, ".tar.gz"), fileOf(img.layers[1]!.digest, ".tar.zst")].sort();
      expect(readdirSync(out).sort()).toEqual(want);
      for (const l of img.layers) expect(sha256(readFileSync(join(out, fileOf(l.digest, l === img.layers[0] ? ".tar.gz" : ".tar.zst"))))).toBe(l.digest);
    } finally {
      slow.stop(true);
    }
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    test(`save stopped by ${signal} mid-transfer: exit ${code}, no temp file and no partial left`, async () => {
      stallLayer0();
      const out = join(work, `out-${signal}`);
      const proc = spawn(["save", `${proxy.host}/sig/app:v1`, "-o", out, "-L", "0"]);
      await waitForFile(out, (n) => n.endsWith(".tmp"), STALL_AT);
      proc.kill(signal);
      expect(await exitWithin(proc)).toBe(code);
      expect(await new Response(proc.stderr).text()).toBe("layerslayer: interrupted; the partial download was removed (--keep-partial keeps it for a resume)\n");
      expect(readdirSync(out)).toEqual([]);
    });
  }

  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    test(`save --keep-partial stopped by ${signal} mid-transfer: exit ${code}, its temp file handed back as the resumable partial, then resumed`, async () => {
      stallLayer0();
      const out = join(work, "out");
      const proc = spawn(["save", `${proxy.host}/sig/app:v1`, "-o", out, "-L", "0", "--keep-partial"]);
      await waitForFile(out, (n) => n.endsWith(".tmp"), STALL_AT);
      proc.kill(signal);
      expect(await exitWithin(proc)).toBe(code);
      const partial = `.${fileOf(layer0(), ".tar.gz")}.partial`;
      expect(await new Response(proc.stderr).text()).toBe(`layerslayer: interrupted; the partial download is kept in ${join(out, partial)}: run the command again to resume\n`);
      expect(readdirSync(out)).toEqual([partial]);
      proxy.rule = () => undefined;
      const again = await runCli(["save", `${proxy.host}/sig/app:v1`, "-o", out, "-L", "0", "--json", "-q"]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).layers[0].status).toBe("resumed");
      expect(readdirSync(out)).toEqual([fileOf(layer0(), ".tar.gz")]);
    });
  }

  test("a save killed outright (SIGKILL) leaves a temp file the next save removes", async () => {
    stallLayer0();
    const out = join(work, "killed");
    const proc = spawn(["save", `${proxy.host}/sig/app:v1`, "-o", out, "-L", "0"]);
    const tmp = await waitForFile(out, (n) => n.endsWith(".tmp"), STALL_AT);
    proc.kill("SIGKILL");
    await proc.exited;
    expect(readdirSync(out)).toEqual([tmp]);
    proxy.rule = () => undefined;
    const again = await runCli(["save", `${proxy.host}/sig/app:v1`, "-o", out, "-L", "0"]);
    expect(again.code).toBe(0);
    expect(readdirSync(out)).toEqual([fileOf(layer0(), ".tar.gz")]);
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    test(`cat -o stopped by ${signal} mid-transfer: exit ${code}, neither the temp file nor the target is left`, async () => {
      stallLayer0();
      const out = join(work, "cat");
      const target = join(out, "big.bin");
      const { mkdirSync } = await import("node:fs");
      mkdirSync(out);
      const proc = spawn(["cat", `${proxy.host}/sig/app:v1`, "/big.bin", "-o", target]);
      await waitForFile(out, (n) => n.startsWith(".big.bin."), 1);
      proc.kill(signal);
      expect(await exitWithin(proc)).toBe(code);
      expect(readdirSync(out)).toEqual([]);
    });
  }
});

/**
 * Ctrl-C on a real terminal (tmux) while a listing streams a big layer that is not in the cache:
 * the command run's signal stops the read, the cache writer is aborted (no rows of the layer, not
 * even the part already written), the process says one line and exits 130, and no blob request
 * follows. The fault proxy stalls the layer's body past its entries, inside a big last file.
 */
describe("Ctrl-C during a listing", () => {
  const FILES = PART_ENTRIES + 500;
  let proxy: FaultProxy;
  let img: PushedImage;
  let work: string;
  useRegistry({}, async (r) => {
    const files: FileSpec[] = Array.from({ length: FILES }, (_, i) => ({ path: `a/f${i}` }));
    files.push({ path: "z/big.bin", content: noise(1_500_000, 11) });
    img = await pushImage(r, "int/app", "v1", { layers: [{ bytes: layerFrom(files) }] });
    proxy = startFaultProxy(r.url);
  });
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "ls-int-"));
  });
  afterAll(() => {
    proxy?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The command in a tmux terminal, its output to a file, then its exit code on the screen. */
  const inTerminal = (cache: string, args: string[]) => {
    const line = ["env", `HOME=${isolatedHome}`, `XDG_CACHE_HOME=${cache}`, "NO_COLOR=1", process.execPath, MAIN, ...args].map((w) => `'${w}'`).join(" ");
    return startTerminal(`${line} > '${join(work, "out")}'; echo "exit=$?"; sleep 30`, { width: 120, height: 20 });
  };

  test("a manifest that arrives slowly: its progress line is drawn, Ctrl-C ends the read with exit 130 and one line", async () => {
    proxy.rule = () => undefined;
    proxy.requests.length = 0;
    // 16 bytes every 100 ms: the manifest takes seconds.
    proxy.paceBytes = 16;
    proxy.paceMs = 100;
    const term = inTerminal(join(work, "slow-manifest"), ["ls", `${proxy.host}/int/app:v1`, "/"]);
    try {
      await term.waitFor(/reading image manifest \[#*-*\]/);
      term.keys("C-c");
      await term.waitFor(/exit=\d+/);
      const said = term
        .screen()
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && l !== "^C");
      expect(said).toEqual(["layerslayer: interrupted", "exit=130"]);
      // Nothing but the manifest was asked for.
      expect(proxy.requests.filter((q) => q.path.includes("/blobs/"))).toEqual([]);
    } finally {
      term.kill();
      proxy.paceBytes = 0;
      proxy.paceMs = 0;
    }
  });

  test("scan stopped by SIGINT mid-layer: exit 130, one line, nothing recorded for the image (not even a failure)", async () => {
    const layer = img.layers[0]!;
    proxy.rule = (req) => (req.method === "GET" && new URL(req.url).pathname.endsWith(layer.digest) ? { kind: "stall", afterBytes: 100_000 } : undefined);
    proxy.requests.length = 0;
    const db = join(work, "scan.sqlite");
    const proc = Bun.spawn([process.execPath, MAIN, "scan", `${proxy.host}/int/app:v1`, "--full", "--db", db], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: isolatedHome, XDG_CACHE_HOME: join(work, "scan-cache"), NO_COLOR: "1" },
    });
    for (let i = 0; i < 400 && !proxy.requests.some((q) => q.method === "GET" && q.path.endsWith(layer.digest)); i++) await Bun.sleep(25);
    await Bun.sleep(200);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    // The line is printed only when the command stopped on the signal; a command ended by the
    // grace (one that did not listen) exits 130 without it. No timing: the machine may be busy.
    expect(await new Response(proc.stderr).text()).toBe("layerslayer: interrupted\n");
    const d = new Database(db, { readonly: true });
    try {
      // A failure would be a row of images with its error_code; a layer read in part, a row of layers.
      expect(d.query("SELECT COUNT(*) AS n FROM images").get()).toEqual({ n: 0 });
      expect(d.query("SELECT COUNT(*) AS n FROM layers").get()).toEqual({ n: 0 });
    } finally {
      d.close();
    }
  });

  for (const command of [
    ["ls", "-R", "/"],
    ["peek", "--full"],
  ]) {
    test(`${command.join(" ")}: exit 130, one line, no rows of the layer in the cache, no more blob requests`, async () => {
      const layer = img.layers[0]!;
      // Stalled inside big.bin: every entry before it was read, and its first part written.
      proxy.rule = (req) => (req.method === "GET" && new URL(req.url).pathname.endsWith(layer.digest) ? { kind: "stall", afterBytes: layer.size - 200_000 } : undefined);
      proxy.requests.length = 0;
      const cache = join(work, command[0]!);
      const term = inTerminal(cache, [command[0]!, `${proxy.host}/int/app:v1`, ...command.slice(1)]);
      try {
        const blobGets = () => proxy.requests.filter((q) => q.method === "GET" && q.path.endsWith(layer.digest)).length;
        for (let i = 0; i < 400 && blobGets() === 0; i++) await Bun.sleep(25);
        expect(blobGets()).toBeGreaterThan(0);
        // The entries before the stall are read and a part of the listing is in the cache.
        const parts = () => {
          const db = new Database(join(cache, "layerslayer", "cache.sqlite"), { readonly: true });
          try {
            return (db.query("SELECT COUNT(*) AS n FROM listing_parts WHERE digest = ?").get(layer.digest) as { n: number }).n;
          } catch {
            return 0;
          } finally {
            db.close();
          }
        };
        for (let i = 0; i < 400 && parts() === 0; i++) await Bun.sleep(25);
        expect(parts()).toBe(1);
        // The tail probe for a TOC, then the stream: every request the read makes before it stalls.
        const before = blobGets();
        term.keys("C-c");
        await term.waitFor(/exit=\d+/);
        const screen = term.screen();
        expect(screen).toContain("exit=130");
        // One line said it, nothing else on stderr (the progress line, if drawn, is erased).
        const said = screen
          .split("\n")
          // The terminal echoes ^C where the cursor is: on a line of its own, or before ours.
          .map((l) => l.trim().replace(/^\^C/, ""))
          .filter((l) => l && !l.startsWith("exit="));
        expect(said).toEqual(["layerslayer: interrupted"]);
        const db = new Database(join(cache, "layerslayer", "cache.sqlite"), { readonly: true });
        try {
          expect(db.query("SELECT COUNT(*) AS n FROM listing_parts WHERE digest = ?").get(layer.digest)).toEqual({ n: 0 });
          expect(db.query("SELECT COUNT(*) AS n FROM listings WHERE digest = ?").get(layer.digest)).toEqual({ n: 0 });
        } finally {
          db.close();
        }
        await Bun.sleep(300);
        expect(blobGets()).toBe(before);
      } finally {
        term.kill();
      }
    });
  }
});

/**
 * The command run's signal (src/cli/signals.ts) in a process of its own that never stops by itself
 * (a read that does not take the signal): the first SIGINT aborts the signal, a second one exits
 * at once, and without one the process is ended after a short grace, 130 either way.
 */
describe("the command run's signal", () => {
  const SIGNALS = join(import.meta.dir, "../../src/cli/signals.ts");
  const start = () =>
    Bun.spawn(
      [
        process.execPath,
        "-e",
        `const { commandSignal } = await import(${JSON.stringify(SIGNALS)});
         const signal = commandSignal();
         signal.addEventListener("abort", () => console.log("aborted"));
         console.log(commandSignal() === signal ? "ready" : "two signals");
         setInterval(() => {}, 1000);`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
  /** Waits until the process has printed `word` on stdout. */
  const listen = (proc: ReturnType<typeof start>) => {
    const reader = proc.stdout.getReader();
    let text = "";
    return async (word: string): Promise<void> => {
      while (!text.includes(word)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the process ended before saying ${word}: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
  };

  test("a second Ctrl-C exits at once with 130", async () => {
    const proc = start();
    const said = listen(proc);
    await said("ready");
    proc.kill("SIGINT");
    await said("aborted");
    const t0 = performance.now();
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    // Before the grace (1.5 s) would have ended it: the second signal did.
    expect(performance.now() - t0).toBeLessThan(1400);
  });

  test("a command that does not stop after the first one is ended after its grace, with 130", async () => {
    const proc = start();
    const said = listen(proc);
    await said("ready");
    const t0 = performance.now();
    proc.kill("SIGINT");
    await said("aborted");
    expect(await proc.exited).toBe(130);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThan(1000);
    expect(ms).toBeLessThan(10_000);
  });
});
