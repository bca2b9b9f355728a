import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { decodeLayer, DECODERS } from "../../src/codec/index.ts";
import { gcPeriod, streamLayer, type LayerResult } from "../../src/layer/stream.ts";
import { beginShortRun, countDecoded, SHORT_RUN_DECODED } from "../../src/jit.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import type { Descriptor } from "../../src/oci/manifest.ts";
import type { Entry } from "../../src/types.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { compress, gnuTar, makeTree, type FileSpec, type TarFormat } from "../support/fixtures.ts";
import { estargzLayer } from "../support/estargz.ts";
import { pushBlob } from "../support/push.ts";
import { useRegistry } from "../support/registry.ts";
import { base256, concat, END, header, padBlock } from "../tar/helpers.ts";

const LONG = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(70)}/${"g".repeat(80)}.txt`; // > 255 bytes
const MID = `${"m".repeat(90)}/${"n".repeat(50)}.txt`; // > 100, splittable for ustar

function tree(format: TarFormat): FileSpec[] {
  const files: FileSpec[] = [
    { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
    { path: "bin/tool", content: new Uint8Array(5000).fill(7), mode: 0o4755 },
    { path: "usr/share/doc/ünïcødé-名前.txt", content: "unicode\n" },
    { path: "tmp", dir: true, mode: 0o1777 },
    { path: "empty", content: "" },
    { path: "exact512", content: "x".repeat(512) },
    { path: "just513", content: "y".repeat(513) },
    { path: "bin/link", symlink: "tool" },
    { path: "bin/hard", hardlink: "bin/tool" },
    { path: "run/pipe", fifo: true },
    { path: MID, content: "mid\n" },
  ];
  if (format !== "ustar") {
    files.push({ path: LONG, content: "long\n" });
    files.push({ path: "lib/longlink", symlink: `/${"t".repeat(150)}/target` });
  }
  for (let i = 0; i < 60; i++) files.push({ path: `data/file-${String(i).padStart(3, "0")}.bin`, content: new Uint8Array(700 + i * 300).fill(i) });
  return files;
}

/** GNU tar's own listing of a tar (names only; none of these fixtures has a newline in a name). */
function tarList(tar: Uint8Array): string[] {
  const r = Bun.spawnSync(["tar", "-t", "--quoting-style=literal", "-f", "-"], { stdin: tar, stderr: "pipe" });
  return r.stdout
    .toString()
    .split("\n")
    .filter(Boolean)
    .map((p) => p.replace(/^\.\//, "").replace(/\/$/, "") || ".");
}

function multiMember(tar: Uint8Array, pieces: number): { bytes: Uint8Array; memberStarts: number[] } {
  const parts: Uint8Array[] = [];
  const starts: number[] = [];
  let at = 0;
  const step = Math.ceil(tar.byteLength / pieces);
  for (let i = 0; i < tar.byteLength; i += step) {
    const gz = Bun.gzipSync(tar.subarray(i, i + step) as Uint8Array<ArrayBuffer>);
    starts.push(at);
    at += gz.byteLength;
    parts.push(gz);
  }
  return { bytes: concat(...parts), memberStarts: starts };
}

async function collect(gen: AsyncGenerator<{ kind: string; entry: Entry }, LayerResult>): Promise<{ entries: Entry[]; result: LayerResult }> {
  const entries: Entry[] = [];
  for (;;) {
    const n = await gen.next();
    if (n.done) return { entries, result: n.value };
    if (n.value.kind === "entry") entries.push(n.value.entry);
  }
}

describe("full collections while a layer is decoded", () => {
  test("every 2 MiB where each decoded chunk is garbage (exact decoders, a resumed read); longer for the native ones, at most 3 MiB", () => {
    const MiB = 1024 * 1024;
    expect(gcPeriod(undefined)).toBe(2 * MiB);
    for (const d of DECODERS) {
      if (d.offsets === "exact") expect(gcPeriod(d)).toBe(2 * MiB);
      else expect(gcPeriod(d)).toBeGreaterThan(2 * MiB);
    }
    // 4 MiB put the zstd listing at 64 MiB and a layer of 1,000,000 entries 3 MiB over main's.
    for (const d of DECODERS) expect(gcPeriod(d)).toBeLessThanOrEqual(3 * MiB);
  });

  test("every 256 KiB during a short run (a small budget), whatever the decoder; as before once it ends", () => {
    beginShortRun();
    try {
      expect(gcPeriod(undefined)).toBe(256 * 1024);
      for (const d of DECODERS) expect(gcPeriod(d)).toBe(256 * 1024);
    } finally {
      countDecoded(SHORT_RUN_DECODED);
    }
    expect(gcPeriod(undefined)).toBe(2 * 1024 * 1024);
  });
});

describe("layers on a real registry, every format and codec", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  const client = new RegistryClient({ retries: 1, retryBaseMs: 5 });
  const blobs = new Map<string, { desc: Descriptor; tar: Uint8Array; bytes: Uint8Array; memberStarts?: number[] }>();
  const ref = () => parseReference(`${reg.host}/layers/test`);
  const peek = (name: string, budget?: number, host?: string) => {
    const b = blobs.get(name)!;
    const r = host ? parseReference(`${host}/layers/test`) : ref();
    return collect(streamLayer(new RegistrySource(client, r), b.desc, 0, budget === undefined ? {} : { budget, firstChunk: 8192 }));
  };

  beforeAll(async () => {
    proxy = startFaultProxy(reg.url);
    const add = async (name: string, tar: Uint8Array, bytes: Uint8Array, mediaType: string, memberStarts?: number[]) => {
      const digest = await pushBlob(reg, "layers/test", bytes);
      blobs.set(name, { desc: { mediaType, digest, size: bytes.byteLength }, tar, bytes, ...(memberStarts ? { memberStarts } : {}) });
    };
    for (const format of ["ustar", "gnu", "pax"] as const) {
      const root = makeTree(tree(format));
      const tar = gnuTar(root, format);
      rmSync(root, { recursive: true, force: true });
      await add(`${format}.gz`, tar, compress(tar, "gzip"), "application/vnd.oci.image.layer.v1.tar+gzip");
      if (format === "pax") {
        await add("pax.zst", tar, compress(tar, "zstd"), "application/vnd.oci.image.layer.v1.tar+zstd");
        await add("pax.tar", tar, tar, "application/vnd.oci.image.layer.v1.tar");
        const mm = multiMember(tar, 7);
        await add("pax.multi.gz", tar, mm.bytes, "application/vnd.docker.image.rootfs.diff.tar.gzip", mm.memberStarts);
      }
    }
  });
  afterAll(async () => {
    proxy.stop();
  });

  for (const name of ["ustar.gz", "gnu.gz", "pax.gz", "pax.zst", "pax.tar", "pax.multi.gz"]) {
    test(`${name}: the full listing is GNU tar's, complete, with exact byte counts`, async () => {
      const b = blobs.get(name)!;
      const { entries, result } = await peek(name);
      expect(result.error).toBeUndefined();
      expect(entries.map((e) => e.path)).toEqual(tarList(b.tar));
      expect(result.stats.complete).toBe(true);
      expect(result.stats.bytesDownloaded).toBeLessThanOrEqual(b.bytes.byteLength);
      expect(result.stats.layerSize).toBe(b.bytes.byteLength);
      // GNU tar stores the first of two hard-linked names (sorted: bin/hard) as the file.
      expect(entries.find((e) => e.path === "bin/hard")).toMatchObject({ type: "file", size: 5000, mode: 0o4755 });
      expect(entries.find((e) => e.path === "bin/tool")).toMatchObject({ type: "hardlink", linkname: "bin/hard" });
      expect(entries.find((e) => e.path === "bin/link")).toMatchObject({ type: "symlink", linkname: "tool" });
      expect(entries.find((e) => e.path === "run/pipe")?.type).toBe("fifo");
      expect(entries.find((e) => e.path === "tmp")).toMatchObject({ type: "dir", mode: 0o1777 });
      if (!name.startsWith("ustar")) {
        expect(entries.some((e) => e.path === LONG)).toBe(true);
        expect(entries.find((e) => e.path === "lib/longlink")?.linkname).toBe(`/${"t".repeat(150)}/target`);
      }
      // Offsets only grow, and every header was complete within the bytes downloaded.
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.compressedOffset).toBeGreaterThanOrEqual(entries[i - 1]!.compressedOffset);
      expect(entries.at(-1)!.compressedOffset).toBeLessThanOrEqual(result.stats.bytesDownloaded);
    });
  }

  test("full listings through the native decoders equal the exact ones, on every layer", async () => {
    for (const [name, b] of blobs) {
      const exact = await collect(streamLayer(new RegistrySource(client, ref()), b.desc, 0, { offsets: "exact" }));
      const native = await collect(streamLayer(new RegistrySource(client, ref()), b.desc, 0));
      const strip = (es: Entry[]) => es.map(({ compressedOffset: _c, ...rest }) => rest);
      expect(native.result.stats.offsets).toBe(name.endsWith(".tar") ? "exact" : "bounded");
      expect(exact.result.stats.offsets).toBe("exact");
      expect(strip(native.entries)).toEqual(strip(exact.entries));
      expect({ ...native.result.stats, offsets: "x" }).toEqual({ ...exact.result.stats, offsets: "x" });
      // A bounded offset is an upper bound: that many compressed bytes decode past the entry's header.
      for (const e of [native.entries[0]!, native.entries[native.entries.length >> 1]!, native.entries.at(-1)!]) {
        let decoded = 0;
        for await (const c of decodeLayer(
          (async function* () {
            yield b.bytes.subarray(0, e.compressedOffset);
          })(),
          b.desc.mediaType,
        ))
          decoded += c.data.length;
        expect({ name, path: e.path, ok: decoded >= e.headerOffset + 512 }).toEqual({ name, path: e.path, ok: true });
      }
    }
  });

  for (const name of ["pax.gz", "pax.zst", "pax.multi.gz", "pax.tar", "gnu.gz"]) {
    test(`${name}: budgets that cut anywhere list a prefix, never overspend, never lose an entry whose bytes arrived`, async () => {
      const b = blobs.get(name)!;
      const full = (await peek(name)).entries;
      const cuts = [1, 9, 100, 511, 700, 1500, 3000, Math.floor(b.bytes.byteLength / 2), b.bytes.byteLength - 9];
      // Inside each gzip member header of a multi-member layer, too.
      for (const s of b.memberStarts ?? []) cuts.push(s + 3, s + 10);
      for (const budget of cuts) {
        if (budget <= 0 || budget >= b.bytes.byteLength) continue;
        const { entries, result } = await peek(name, budget);
        expect(result.error).toBeUndefined();
        // Complete only if the end-of-archive arrived within the budget (GNU tar pads the end with
        // zeros, so a cut near the end of the blob can still see it); then it stops early.
        if (result.stats.complete) {
          expect(entries.length).toBe(full.length);
          expect(result.stats.bytesDownloaded).toBeLessThanOrEqual(budget);
        } else {
          expect(result.stats.bytesDownloaded).toBe(budget);
        }
        if (budget < b.bytes.byteLength / 2) expect(result.stats.complete).toBe(false);
        expect(entries.map((e) => e.path)).toEqual(full.slice(0, entries.length).map((e) => e.path));
        for (const e of entries) expect(e.compressedOffset).toBeLessThanOrEqual(budget);
        // Everything whose header the full run saw complete within `budget` bytes is listed.
        const owed = full.filter((e) => e.compressedOffset <= budget).length;
        expect(entries.length).toBeGreaterThanOrEqual(owed);
      }
    });
  }

  test("a budget never lists fewer entries than GNU tar on the same compressed prefix", async () => {
    const b = blobs.get("pax.gz")!;
    for (const budget of [2000, 6000, 20000]) {
      const ours = (await peek("pax.gz", budget)).entries.length;
      const sh = Bun.spawnSync(["sh", "-c", `head -c ${budget} | gzip -dc 2>/dev/null | tar -t 2>/dev/null | wc -l`], { stdin: b.bytes });
      expect(ours).toBeGreaterThanOrEqual(Number(sh.stdout.toString().trim()));
    }
  });

  test("a server that ignores Range gives the same budgeted listing and the same byte count", async () => {
    proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "ignoreRange" } : undefined);
    const direct = await peek("pax.gz", 4000);
    const proxied = await peek("pax.gz", 4000, proxy.host);
    proxy.rule = () => undefined;
    expect(proxied.result.stats.bytesDownloaded).toBe(4000);
    expect(proxied.entries.map((e) => e.path)).toEqual(direct.entries.map((e) => e.path));
  });

  test("a corrupted byte in the middle: CORRUPT, with every entry before it kept", async () => {
    const b = blobs.get("pax.gz")!;
    const bad = b.bytes.slice();
    const at = Math.floor(bad.byteLength * 0.6);
    bad[at] = bad[at]! ^ 0x55;
    const digest = await pushBlob(reg, "layers/test", bad);
    const { entries, result } = await collect(streamLayer(new RegistrySource(client, ref()), { mediaType: b.desc.mediaType, digest, size: bad.byteLength }, 0));
    expect(result.error?.code).toBe("CORRUPT");
    expect(result.stats.complete).toBe(false);
    const full = (await peek("pax.gz")).entries;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThan(full.length + 1);
    expect(entries.map((e) => e.path)).toEqual(full.slice(0, entries.length).map((e) => e.path));
  });

  test("a layer that is neither gzip, zstd nor tar is UNSUPPORTED, naming what it is", async () => {
    const bytes = new Uint8Array([0x42, 0x5a, 0x68, 0x39, 1, 2, 3, 4, 5, 6, 7, 8]);
    const digest = await pushBlob(reg, "layers/test", bytes);
    const run = collect(streamLayer(new RegistrySource(client, ref()), { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: bytes.byteLength }, 0));
    const out = await run.catch((e) => ({ thrown: e }));
    const err = "thrown" in out ? out.thrown : out.result.error;
    expect(err.code).toBe("UNSUPPORTED");
    expect(err.message).toMatch(/bzip2/);
  });

  test("a foreign layer is UNSUPPORTED and never fetched; the message leaves the layer's number to the caller", async () => {
    const desc = {
      mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      digest: `sha256:${"ab".repeat(32)}`,
      size: 10,
      urls: ["https://example.invalid/layer.tar.gz"],
    };
    const err = await collect(streamLayer(new RegistrySource(client, ref()), desc, 3)).then(
      () => undefined,
      (e) => e,
    );
    expect(err.code).toBe("UNSUPPORTED");
    expect(err.message).toBe("a foreign layer hosted at https://example.invalid/layer.tar.gz, not in the registry");
  });

  test("a file over 8 GiB declared in base-256 is listed with its size; the whole layer ends inside it: CORRUPT, entries kept", async () => {
    const size = 9n * 1024n ** 3n;
    const tar = concat(
      header({ name: "small.txt", size: 3 }),
      padBlock(new TextEncoder().encode("abc")),
      header({ name: "huge.img", size: base256(size), magic: "gnu" }),
      new Uint8Array(4096),
    );
    const bytes = compress(tar, "gzip");
    const digest = await pushBlob(reg, "layers/test", bytes);
    const { entries, result } = await collect(
      streamLayer(new RegistrySource(client, ref()), { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: bytes.byteLength }, 0),
    );
    expect(entries.map((e) => [e.path, e.size])).toEqual([
      ["small.txt", 3],
      ["huge.img", Number(size)],
    ]);
    expect(result.stats.complete).toBe(false);
    expect(result.error?.code).toBe("CORRUPT");
    expect(result.error?.message).toContain("truncated");
  });

  test("a whole layer that ends at a member boundary without the end marker is complete (as Go reads it), and says so; a budgeted read of it is not", async () => {
    const tar = concat(header({ name: "a.txt", size: 3 }), padBlock(new TextEncoder().encode("abc")), header({ name: "b" }));
    for (const codec of ["gzip", "zstd"] as const) {
      const bytes = compress(tar, codec);
      const digest = await pushBlob(reg, "layers/test", bytes);
      const desc = { mediaType: `application/vnd.oci.image.layer.v1.tar+${codec}`, digest, size: bytes.byteLength };
      const whole = await collect(streamLayer(new RegistrySource(client, ref()), desc, 0));
      expect(whole.entries.map((e) => e.path)).toEqual(["a.txt", "b"]);
      expect(whole.result.error).toBeUndefined();
      expect([whole.result.stats.complete, whole.result.stats.noEndMarker]).toEqual([true, true]);
      const budgeted = await collect(streamLayer(new RegistrySource(client, ref()), desc, 0, { budget: bytes.byteLength + 100 }));
      expect(budgeted.result.stats.complete).toBe(false);
    }
  });

  test("an empty layer (just the end-of-archive) is complete with zero entries", async () => {
    const bytes = compress(END, "gzip");
    const digest = await pushBlob(reg, "layers/test", bytes);
    const { entries, result } = await collect(
      streamLayer(new RegistrySource(client, ref()), { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size: bytes.byteLength }, 0),
    );
    expect(entries).toEqual([]);
    expect(result.stats.complete).toBe(true);
  });
});

describe("the read's first answer goes out beside the TOC probe", () => {
  const reg = useRegistry();
  const ref = () => parseReference(`${reg.host}/layers/prefetch`);
  const gzip = "application/vnd.oci.image.layer.v1.tar+gzip";

  /**
   * The registry source, with each answer to the tail probe (a range ending at the blob's last byte)
   * held until another request for the blob goes out, or 3 s passed: `overlapped` says whether
   * another one went out before the probe's answer came back.
   */
  function watchedSource(connections: number, size: number) {
    const client = new RegistryClient({ retries: 1, retryBaseMs: 5, connections });
    const inner = new RegistrySource(client, ref());
    const seen: { start: number; end: number | undefined }[] = [];
    let overlapped = false;
    let another: (() => void) | undefined;
    const source = Object.assign(Object.create(Object.getPrototypeOf(inner)) as RegistrySource, inner, {
      async readBlob(digest: string, start: number, end: number | undefined, opts?: Parameters<RegistrySource["readBlob"]>[3]) {
        const earlier = seen.length > 0;
        seen.push({ start, end });
        another?.();
        if (end === size && start > 0 && earlier) overlapped = true;
        else if (end === size && start > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 3000);
            another = () => {
              overlapped = true;
              clearTimeout(timer);
              resolve();
            };
          });
          another = undefined;
        }
        return inner.readBlob(digest, start, end, opts);
      },
    });
    return { source, seen, overlapped: () => overlapped };
  }

  test("a layer without a TOC: the read is asked for while the probe is out, bounded where the tail begins; the listing is the same", async () => {
    const tar = gnuTar(makeTree(tree("pax")), "pax");
    const bytes = compress(tar, "gzip");
    const desc = { mediaType: gzip, digest: await pushBlob(reg, "layers/prefetch", bytes), size: bytes.byteLength };
    const many = watchedSource(4, bytes.byteLength);
    const { entries, result } = await collect(streamLayer(many.source, desc, 0));
    expect(many.overlapped()).toBe(true);
    expect(many.seen).toContainEqual({ start: 0, end: bytes.byteLength - 128 });
    expect(result.stats).toMatchObject({ complete: true, verified: true, bytesDownloaded: bytes.byteLength });
    expect(entries.map((e) => e.path)).toEqual(tarList(tar));
    // One connection at a time: the probe, then the read.
    const one = watchedSource(1, bytes.byteLength);
    const again = await collect(streamLayer(one.source, desc, 0));
    expect(one.overlapped()).toBe(false);
    expect(again.entries).toEqual(entries);
  }, 30_000);

  test("an eStargz layer without its annotation: the TOC is found, the read's answer closed, and only the tail and the TOC count as downloaded", async () => {
    const tar = gnuTar(makeTree(tree("pax")), "pax");
    const layer = estargzLayer(tar);
    const desc = { mediaType: gzip, digest: await pushBlob(reg, "layers/prefetch", layer.bytes), size: layer.bytes.byteLength };
    const w = watchedSource(4, layer.bytes.byteLength);
    const { entries, result } = await collect(streamLayer(w.source, desc, 0));
    expect(w.overlapped()).toBe(true);
    expect(result.toc?.format).toBe("estargz");
    expect(result.stats.bytesDownloaded).toBeLessThan(layer.bytes.byteLength / 2);
    expect(entries.map((e) => e.path).sort()).toEqual(tarList(tar).sort());
  }, 60_000);
});
