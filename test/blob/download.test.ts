import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobFileName, downloadBlob, extensionFor, partialPathFor, type DownloadProgress } from "../../src/blob/download.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { pushBlob, sha256 } from "../support/push.ts";
import { useRegistry } from "../support/registry.ts";
import { noise } from "../support/bytes.ts";

/** File contents as a plain Uint8Array, comparable with toEqual. */
const fileBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

describe("file names for blobs", () => {
  test("extensions by media type", () => {
    expect(extensionFor("application/vnd.oci.image.layer.v1.tar+gzip")).toBe(".tar.gz");
    expect(extensionFor("application/vnd.docker.image.rootfs.diff.tar.gzip")).toBe(".tar.gz");
    expect(extensionFor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")).toBe(".tar.gz");
    expect(extensionFor("application/vnd.oci.image.layer.v1.tar+zstd")).toBe(".tar.zst");
    expect(extensionFor("application/vnd.oci.image.layer.v1.tar")).toBe(".tar");
    expect(extensionFor("application/vnd.docker.image.rootfs.diff.tar")).toBe(".tar");
    expect(extensionFor("application/vnd.in-toto+json")).toBe(".bin");
    expect(extensionFor("application/vnd.example.tarball")).toBe(".bin");
    expect(extensionFor(undefined)).toBe(".bin");
  });

  test("<algo>_<hex><ext>; digests that could escape the directory are refused", () => {
    const hex = "ab".repeat(32);
    expect(blobFileName({ digest: `sha256:${hex}`, mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" })).toBe(`sha256_${hex}.tar.zst`);
    for (const digest of [`sha256:${hex}/../x`, "sha256:../../etc/passwd", `sha256:${hex.toUpperCase()}`, `md5:${hex}`, `sha256:${hex}0`, "", `sha512:${hex}`]) {
      const err = (() => {
        try {
          blobFileName({ digest, mediaType: "application/vnd.oci.image.layer.v1.tar" });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(LayerslayerError);
    }
  });

  test("the temp file sits beside the target, hidden", () => {
    expect(partialPathFor("/a/b/sha256_ff.tar.gz")).toBe("/a/b/.sha256_ff.tar.gz.partial");
  });
});

describe("downloadBlob on a real registry", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  let dir: string;
  const dirs: string[] = [];
  const blob = noise(700_001);
  let digest: string;
  beforeAll(async () => {
    digest = await pushBlob(reg, "dl/test", blob);
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });
  beforeEach(() => {
    proxy.rule = () => undefined;
    proxy.requests.length = 0;
    dir = mkdtempSync(join(tmpdir(), "ls-dl-"));
    dirs.push(dir);
  });

  const client = new RegistryClient({ retries: 1, retryBaseMs: 5 });
  const src = (over: { size?: number; digest?: string } = {}) => ({
    source: new RegistrySource(client, parseReference(`${proxy.host}/dl/test`)),
    digest: over.digest ?? digest,
    size: over.size ?? blob.byteLength,
    label: "layer 3",
  });
  const target = () => join(dir, "sub", "dir", `${digest.replace(":", "_")}.bin`);
  const blobGets = () => proxy.requests.filter((q) => q.method === "GET" && q.path.includes("/blobs/"));
  const flip = (at: number) => (b: Uint8Array) => {
    const c = b.slice();
    c[at] = c[at]! ^ 1;
    return c;
  };

  test("saves the exact bytes, makes the directory, leaves no temp file, reports progress", async () => {
    const seen: DownloadProgress[] = [];
    const r = await downloadBlob(src(), target(), { onProgress: (p) => seen.push(p) });
    expect(r).toEqual({ status: "saved", path: target(), size: blob.byteLength, bytesDownloaded: blob.byteLength });
    expect(fileBytes(readFileSync(target()))).toEqual(blob);
    expect(readdirSync(join(dir, "sub", "dir"))).toEqual([`${digest.replace(":", "_")}.bin`]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ phase: "download", done: blob.byteLength, total: blob.byteLength, downloaded: blob.byteLength });
    expect(blobGets().map((q) => q.range)).toEqual(["bytes=0-"]);
  });

  test("a verified file already there is present: re-hashed, nothing downloaded, stale temp file removed", async () => {
    await downloadBlob(src(), target());
    writeFileSync(partialPathFor(target()), blob.subarray(0, 10));
    proxy.requests.length = 0;
    const seen: DownloadProgress[] = [];
    const r = await downloadBlob(src(), target(), { onProgress: (p) => seen.push(p) });
    expect(r.status).toBe("present");
    expect(r.bytesDownloaded).toBe(0);
    expect(blobGets().length).toBe(0);
    expect(existsSync(partialPathFor(target()))).toBe(false);
    expect(seen.at(-1)).toEqual({ phase: "verify", done: blob.byteLength, total: blob.byteLength, downloaded: 0 });
  });

  test("a file there that does not verify is replaced (same size, one byte changed)", async () => {
    mkdirSync(join(dir, "sub", "dir"), { recursive: true });
    writeFileSync(target(), flip(123)(blob));
    const r = await downloadBlob(src(), target());
    expect(r.status).toBe("saved");
    expect(fileBytes(readFileSync(target()))).toEqual(blob);
  });

  test("a corrupt file under the final name is gone even when its replacement fails", async () => {
    mkdirSync(join(dir, "sub", "dir"), { recursive: true });
    writeFileSync(target(), "stale");
    proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "tamper", change: flip(10) } : undefined);
    const err = await downloadBlob(src(), target()).catch((e) => e);
    expect((err as LayerslayerError).code).toBe("CORRUPT");
    expect(readdirSync(join(dir, "sub", "dir"))).toEqual([]);
  });

  test("a partial temp file is resumed from its length with a Range", async () => {
    const n = 250_000;
    mkdirSync(join(dir, "sub", "dir"), { recursive: true });
    writeFileSync(partialPathFor(target()), blob.subarray(0, n));
    const r = await downloadBlob(src(), target());
    expect(r).toEqual({ status: "resumed", path: target(), size: blob.byteLength, bytesDownloaded: blob.byteLength - n, resumedFrom: n });
    expect(blobGets().map((q) => q.range)).toEqual([`bytes=${n}-`]);
    expect(sha256(readFileSync(target()))).toBe(digest);
    expect(existsSync(partialPathFor(target()))).toBe(false);
  });

  test("a partial file with bad bytes fails verification and is retried once from byte 0", async () => {
    mkdirSync(join(dir, "sub", "dir"), { recursive: true });
    writeFileSync(partialPathFor(target()), flip(7)(blob.subarray(0, 100_000)));
    const r = await downloadBlob(src(), target());
    expect(r.status).toBe("saved");
    expect(r.bytesDownloaded).toBe(blob.byteLength - 100_000 + blob.byteLength); // both attempts
    expect(blobGets().map((q) => q.range)).toEqual(["bytes=100000-", "bytes=0-"]);
    expect(fileBytes(readFileSync(target()))).toEqual(blob);
  });

  test("...or, without the retry, deleted with a CORRUPT error", async () => {
    mkdirSync(join(dir, "sub", "dir"), { recursive: true });
    writeFileSync(partialPathFor(target()), flip(7)(blob.subarray(0, 100_000)));
    const err = await downloadBlob(src(), target(), { retryFromScratch: false }).catch((e) => e);
    expect((err as LayerslayerError).code).toBe("CORRUPT");
    expect(existsSync(partialPathFor(target()))).toBe(false);
    expect(existsSync(target())).toBe(false);
  });

  test("a partial file longer than the blob is discarded and the blob fetched whole", async () => {
    mkdirSync(join(dir, "sub", "dir"), { recursive: true });
    writeFileSync(partialPathFor(target()), new Uint8Array(blob.byteLength + 5));
    const r = await downloadBlob(src(), target());
    expect(r.status).toBe("saved");
    expect(blobGets().map((q) => q.range)).toEqual(["bytes=0-"]);
  });

  test("tampered bytes: CORRUPT naming the blob, no final file, no temp file", async () => {
    proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "tamper", change: flip(600_000) } : undefined);
    const err = await downloadBlob(src(), target()).catch((e) => e);
    expect(err).toBeInstanceOf(LayerslayerError);
    expect((err as LayerslayerError).code).toBe("CORRUPT");
    expect((err as Error).message).toStartWith("layer 3: the downloaded bytes hash to sha256:");
    expect(readdirSync(join(dir, "sub", "dir"))).toEqual([]);
  });

  test("a descriptor size that disagrees with the blob is CORRUPT either way, nothing left behind", async () => {
    for (const size of [blob.byteLength - 1, blob.byteLength + 1]) {
      const err = await downloadBlob(src({ size }), target()).catch((e) => e);
      expect((err as LayerslayerError).code).toBe("CORRUPT");
      expect((err as Error).message).toBe(
        `layer 3: the registry gives the blob's size as ${blob.byteLength} bytes, the descriptor ${size} (6 bad answers, giving up); nothing was saved`,
      );
      expect(readdirSync(join(dir, "sub", "dir"))).toEqual([]);
    }
  });

  test("a transfer cut mid-way resumes inside the call and verifies", async () => {
    let cuts = 0;
    proxy.rule = (req) => (req.url.includes("/blobs/") && cuts++ < 1 ? { kind: "cut", afterBytes: 300_000 } : undefined);
    const r = await downloadBlob(src(), target());
    expect(r.status).toBe("saved");
    const ranges = blobGets().map((q) => q.range);
    expect(ranges.length).toBe(2);
    expect(Number(/^bytes=(\d+)-$/.exec(ranges[1]!)?.[1])).toBeGreaterThan(0);
    expect(fileBytes(readFileSync(target()))).toEqual(blob);
  });

  test("an abort keeps the temp file (a prefix of the blob) and no final file; the next call resumes", async () => {
    const ac = new AbortController();
    const err = await downloadBlob(src(), target(), {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.done > 0 && p.done < blob.byteLength) ac.abort();
      },
    }).catch((e) => e);
    expect((err as Error).name).toBe("AbortError");
    expect(existsSync(target())).toBe(false);
    const kept = fileBytes(readFileSync(partialPathFor(target())));
    expect(kept.byteLength).toBeGreaterThan(0);
    expect(kept.byteLength).toBeLessThan(blob.byteLength);
    expect(kept).toEqual(blob.subarray(0, kept.byteLength));
    proxy.requests.length = 0;
    const r = await downloadBlob(src(), target());
    expect(r.status).toBe("resumed");
    expect(r.resumedFrom).toBe(kept.byteLength);
    expect(blobGets().map((q) => q.range)).toEqual([`bytes=${kept.byteLength}-`]);
    expect(sha256(readFileSync(target()))).toBe(digest);
  });

  test("a symlink planted as the temp file is not written through", async () => {
    mkdirSync(join(dir, "sub", "dir"), { recursive: true });
    const outside = join(dir, "outside");
    writeFileSync(outside, "keep me");
    symlinkSync(outside, partialPathFor(target()));
    const r = await downloadBlob(src(), target());
    expect(r.status).toBe("saved");
    expect(readFileSync(outside, "utf8")).toBe("keep me");
  });

  test("an empty blob is saved without a request beyond the manifest's word", async () => {
    const empty = await pushBlob(reg, "dl/test", new Uint8Array(0));
    const path = join(dir, "empty.tar");
    const r = await downloadBlob(src({ digest: empty, size: 0 }), path);
    expect(r.status).toBe("saved");
    expect(readFileSync(path).byteLength).toBe(0);
    expect(blobGets().length).toBe(0);
  });

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
});
