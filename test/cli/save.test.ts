import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { humanSize } from "../../src/output/format.ts";
import { isolatedHome, MAIN, runCli } from "../support/cli.ts";
import { forwardRequest } from "../support/counting-proxy.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, sha256, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { noise } from "../support/bytes.ts";

/** File contents as a plain Uint8Array, comparable with toEqual. */
const fileBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const fileOf = (l: { digest: string }, ext: string) => `${l.digest.replace(":", "_")}${ext}`;
const EXT = [".tar.gz", ".tar.zst", ".tar"];

describe("save on a real registry", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  let img: PushedImage;
  let work: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    proxy = startFaultProxy(reg.url);
    img = await pushImage(reg, "save/app", "v1", {
      layers: [
        {
          bytes: layerFrom([
            { path: "etc/hostname", content: "box\n" },
            { path: "big.bin", content: noise(400_000, 5) },
          ]),
        },
        { bytes: layerFrom([{ path: "usr/lib/a.so", content: noise(3000, 9) }], { compression: "zstd" }), compression: "zstd" },
        { bytes: layerFrom([{ path: "app/index.js", content: "1" }], { compression: "none" }), compression: "none" },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    proxy.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  beforeEach(() => {
    proxy.rule = () => undefined;
    proxy.requests.length = 0;
    work = mkdtempSync(join(tmpdir(), "ls-save-"));
    dirs.push(work);
  });
  const blobGets = () => proxy.requests.filter((q) => q.method === "GET" && q.path.includes("/blobs/") && !q.path.endsWith(img.configDigest));
  const image = () => `${proxy.host}/save/app:v1`;

  test("all layers: right extensions, the pushed bytes, sha256 = digest, one line each, nothing on stderr", async () => {
    const out = join(work, "out");
    const r = await runCli(["save", image(), "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(img.layers.map((l, i) => `saved ${join(out, fileOf(l, EXT[i]!))} (${humanSize(l.size)})\n`).join(""));
    expect(readdirSync(out).sort()).toEqual(img.layers.map((l, i) => fileOf(l, EXT[i]!)).sort());
    img.layers.forEach((l, i) => {
      const bytes = readFileSync(join(out, fileOf(l, EXT[i]!)));
      expect(fileBytes(bytes)).toEqual(l.bytes);
      expect(sha256(bytes)).toBe(l.digest);
    });
  });

  test("default directory: ./downloads/<repo with _>/<tag>, or /<digest with _> when pinned", async () => {
    const r = await runCli(["save", `${reg.host}/save/app:v1`, "--layer", "2"], { cwd: work });
    expect(r.code).toBe(0);
    const rel = join("downloads", "save_app", "v1", fileOf(img.layers[2]!, ".tar"));
    expect(r.stdout).toBe(`saved ${rel} (${humanSize(img.layers[2]!.size)})\n`);
    expect(fileBytes(readFileSync(join(work, rel)))).toEqual(img.layers[2]!.bytes);
    const pinned = await runCli(["save", `${reg.host}/save/app@${img.digest}`, "-L", "-1"], { cwd: work });
    expect(pinned.code).toBe(0);
    expect(existsSync(join(work, "downloads", "save_app", img.digest.replace(":", "_"), fileOf(img.layers[2]!, ".tar")))).toBe(true);
  });

  test("a second run says present and downloads no blob bytes", async () => {
    const out = join(work, "o");
    expect((await runCli(["save", image(), "-o", out])).code).toBe(0);
    expect(blobGets().length).toBe(3);
    proxy.requests.length = 0;
    const again = await runCli(["save", image(), "-o", out, "--json"]);
    expect(again.code).toBe(0);
    expect(blobGets()).toEqual([]);
    expect(JSON.parse(again.stdout).layers.map((l: { status: string }) => l.status)).toEqual(["present", "present", "present"]);
    const text = await runCli(["save", image(), "-o", out, "-L", "0"]);
    expect(text.stdout).toBe(`present ${join(out, fileOf(img.layers[0]!, ".tar.gz"))} (${humanSize(img.layers[0]!.size)})\n`);
  });

  test("--json: one document with the directory and each layer's index, digest, path, size, status", async () => {
    const out = join(work, "j");
    const r = await runCli(["save", image(), "-o", out, "--json", "--layer", "0,2"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      schema: 1,
      directory: out,
      layers: [0, 2].map((i) => ({ index: i, digest: img.layers[i]!.digest, path: join(out, fileOf(img.layers[i]!, EXT[i]!)), size: img.layers[i]!.size, status: "saved" })),
    });
  });

  test("a partial temp file is resumed with a Range from its length; status resumed", async () => {
    const out = join(work, "r");
    mkdirSync(out);
    const l = img.layers[0]!;
    const n = 123_457;
    writeFileSync(join(out, `.${fileOf(l, ".tar.gz")}.partial`), l.bytes.subarray(0, n));
    const r = await runCli(["save", image(), "-o", out, "-L", "0", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).layers[0].status).toBe("resumed");
    expect(r.stderr).toBe(`layer 0: resumed a partial download at byte ${n}\n`);
    expect(blobGets().map((q) => q.range)).toEqual([`bytes=${n}-`]);
    expect(sha256(readFileSync(join(out, fileOf(l, ".tar.gz"))))).toBe(l.digest);
    expect(readdirSync(out)).toEqual([fileOf(l, ".tar.gz")]);
  });

  // A .partial that is not a private regular file: appending (or truncating) would change bytes
  // elsewhere. Each holds a true prefix of the layer, so only the link itself can stop a resume.
  for (const kind of ["a hard link to a file elsewhere", "a symlink to a file elsewhere", "a symlink to where no file is yet"] as const) {
    test(`a .partial that is ${kind} is never written through: started over, the other file untouched`, async () => {
      const out = join(work, "l");
      mkdirSync(out);
      const l = img.layers[0]!;
      const prefix = l.bytes.subarray(0, 100_000);
      const outside = join(work, "outside.bin");
      const partial = join(out, `.${fileOf(l, ".tar.gz")}.partial`);
      if (kind === "a symlink to where no file is yet") symlinkSync(outside, partial);
      else {
        writeFileSync(outside, prefix);
        if (kind.startsWith("a hard link")) linkSync(outside, partial);
        else symlinkSync(outside, partial);
      }
      const r = await runCli(["save", image(), "-o", out, "-L", "0", "--json"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).layers[0].status).toBe("saved");
      expect(blobGets().map((q) => q.range)).toEqual(["bytes=0-"]);
      expect(sha256(readFileSync(join(out, fileOf(l, ".tar.gz"))))).toBe(l.digest);
      expect(readdirSync(out)).toEqual([fileOf(l, ".tar.gz")]);
      if (kind === "a symlink to where no file is yet") expect(existsSync(outside)).toBe(false);
      else {
        expect(fileBytes(readFileSync(outside))).toEqual(prefix);
        expect(lstatSync(outside).nlink).toBe(1);
      }
    });
  }

  test("bytes that do not match the digest: exit 7, one line naming the layer, no final and no temp file", async () => {
    const out = join(work, "bad");
    const l = img.layers[1]!;
    proxy.rule = (req) =>
      req.url.endsWith(l.digest)
        ? {
            kind: "tamper",
            change: (b) => {
              const c = b.slice();
              c[b.byteLength - 1] = c[b.byteLength - 1]! ^ 0x40;
              return c;
            },
          }
        : undefined;
    const r = await runCli(["save", image(), "-o", out, "-L", "1"]);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(`^layerslayer: layer 1 \\(${l.digest}\\): the downloaded bytes hash to sha256:[0-9a-f]{64}, not the digest ${l.digest}; nothing was saved\\n$`),
    );
    expect(readdirSync(out)).toEqual([]);
  });

  test("a final file that is present but corrupt is replaced", async () => {
    const out = join(work, "c");
    mkdirSync(out);
    const l = img.layers[2]!;
    const path = join(out, fileOf(l, ".tar"));
    writeFileSync(path, "not the layer");
    const r = await runCli(["save", image(), "-o", out, "-L", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`saved ${path} (${humanSize(l.size)})\n`);
    expect(fileBytes(readFileSync(path))).toEqual(l.bytes);
  });

  test("foreign layers are skipped with a notice, never fetched from their URLs", async () => {
    // The test registry refuses manifests with URLs, so the proxy serves this one itself.
    const real = img.layers[2]!;
    const foreignDigest = sha256("a foreign layer");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: img.configDigest, size: new TextEncoder().encode(img.config).byteLength },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", digest: foreignDigest, size: 100, urls: [`${proxy.url}/x\x1b[31m/layer.tar.gz`] },
        { mediaType: real.mediaType, digest: real.digest, size: real.size },
      ],
    });
    proxy.rule = (req) =>
      req.url.endsWith("/save/app/manifests/foreign")
        ? { kind: "status", status: 200, body: manifest, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": sha256(manifest) } }
        : undefined;
    const out = join(work, "f");
    const r = await runCli(["save", `${proxy.host}/save/app:foreign`, "-o", out, "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`layer 0: skipped: a foreign layer hosted at ${proxy.url}/x\\x1b[31m/layer.tar.gz, not in the registry\n`);
    const doc = JSON.parse(r.stdout);
    expect(doc.layers).toEqual([
      { index: 0, digest: foreignDigest, size: 100, status: "skipped", reason: "foreign layer" },
      { index: 1, digest: real.digest, path: join(out, fileOf(real, ".tar")), size: real.size, status: "saved" },
    ]);
    expect(readdirSync(out)).toEqual([fileOf(real, ".tar")]);
    expect(proxy.requests.some((q) => q.path.includes("/x") || q.path.endsWith(foreignDigest))).toBe(false);
  });

  test("a foreign layer whose URL is not http(s): save and peek refuse it, exit 6, one line", async () => {
    const foreignDigest = sha256("a hostile foreign layer");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: img.configDigest, size: new TextEncoder().encode(img.config).byteLength },
      layers: [{ mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", digest: foreignDigest, size: 100, urls: ["file:///etc/passwd"] }],
    });
    proxy.rule = (req) =>
      req.url.endsWith("/save/app/manifests/hostile")
        ? { kind: "status", status: 200, body: manifest, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": sha256(manifest) } }
        : undefined;
    const out = join(work, "hostile");
    const save = await runCli(["save", `${proxy.host}/save/app:hostile`, "-o", out]);
    expect(save.code).toBe(6);
    expect(save.stderr).toBe("layerslayer: layer 0: foreign layer URL: refusing a file: URL (only http and https are fetched)\n");
    const peek = await runCli(["peek", `${proxy.host}/save/app:hostile`]);
    expect(peek.code).toBe(6);
    expect(peek.stderr).toBe("layerslayer: layer 0: foreign layer URL: refusing a file: URL (only http and https are fetched)\n");
    expect(peek.stdout).toMatch(/, 0 entries, partial \(stopped by a network error\)\n$/);
  });

  test("Ctrl-C mid-download with --keep-partial: exit 130, the temp file kept, no final file; the next run resumes", async () => {
    const l = img.layers[0]!;
    // A registry front that sends 100 000 bytes of the big blob, then stalls until stopped.
    const stall = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const { url, upstream: up, headers: out } = await forwardRequest(req, reg.url);
        if (!url.pathname.endsWith(l.digest) || req.method !== "GET") return new Response(up.body, { status: up.status, headers: out });
        const bytes = new Uint8Array(await up.arrayBuffer());
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(bytes.subarray(0, 100_000));
          },
        });
        return new Response(body, { status: up.status, headers: out });
      },
    });
    try {
      const out = join(work, "int");
      const partial = join(out, `.${fileOf(l, ".tar.gz")}.partial`);
      const proc = Bun.spawn([process.execPath, MAIN, "save", `127.0.0.1:${stall.port}/save/app:v1`, "-o", out, "-L", "0", "--keep-partial"], {
        stdout: "pipe",
        stderr: "pipe",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: isolatedHome, XDG_CACHE_HOME: join(isolatedHome, "cache") },
      });
      const deadline = Date.now() + 10_000;
      while (!(existsSync(partial) && statSync(partial).size === 100_000) && Date.now() < deadline) await Bun.sleep(20);
      proc.kill("SIGINT");
      const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      expect(code).toBe(130);
      expect(stdout).toBe("");
      expect(stderr).toBe(`layerslayer: interrupted; the partial download is kept in ${partial}: run the command again to resume\n`);
      expect(readdirSync(out)).toEqual([`.${fileOf(l, ".tar.gz")}.partial`]);
      expect(fileBytes(readFileSync(partial))).toEqual(l.bytes.subarray(0, 100_000));
      const again = await runCli(["save", image(), "-o", out, "-L", "0", "--json", "-q"]);
      expect(again.code).toBe(0);
      expect(again.stderr).toBe("");
      expect(JSON.parse(again.stdout).layers[0].status).toBe("resumed");
      expect(blobGets().map((q) => q.range)).toEqual(["bytes=100000-"]);
      expect(sha256(readFileSync(join(out, fileOf(l, ".tar.gz"))))).toBe(l.digest);
    } finally {
      stall.stop(true);
    }
  });

  test("on a terminal, progress is drawn on stderr and cleared; -q draws none", async () => {
    const out = join(work, "tty");
    const cmd = (extra: string) => `'${process.execPath}' '${MAIN}' save ${image()} -o '${out}' -L 0 ${extra} > '${join(work, "stdout.txt")}'`;
    // Asynchronous: the proxy answering the CLI runs in this process.
    const run = async (extra: string) => {
      const p = Bun.spawn(["script", "-qec", cmd(extra), "/dev/null"], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: isolatedHome, COLUMNS: "100", TERM: "dumb" },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [code, tty] = await Promise.all([p.exited, new Response(p.stdout).text()]);
      return { code, tty };
    };
    // A transfer that takes a while (the line is drawn once the reads took 300 ms): 32 KiB every 50 ms.
    proxy.paceBytes = 32 * 1024;
    proxy.paceMs = 50;
    const r = await run("").finally(() => {
      proxy.paceBytes = 0;
      proxy.paceMs = 0;
    });
    expect(r.code).toBe(0);
    const tty = r.tty;
    // The line every command that reads layers draws, from the same progress events.
    expect(tty).toContain("\r\x1b[Ksaving layers 0/1 [");
    expect(tty).toMatch(/ 100% /);
    expect(tty.replace(/\r?\n$/, "")).toEndWith("\r\x1b[K"); // the line is erased when done
    expect(readFileSync(join(work, "stdout.txt"), "utf8")).toBe(`saved ${join(out, fileOf(img.layers[0]!, ".tar.gz"))} (${humanSize(img.layers[0]!.size)})\n`);
    rmSync(out, { recursive: true });
    const quiet = await run("-q");
    expect(quiet.code).toBe(0);
    expect(quiet.tty).not.toContain("\x1b[K");
  });
});
