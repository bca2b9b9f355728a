/**
 * One suite, every image source: the registry, an OCI layout, an oci-archive, a docker-archive
 * (the local ones made by skopeo from the registry image) and the in-memory source of
 * test/support. Each must give the same manifest, config, blob and range behaviour through the
 * ImageSource interface (src/source/source.ts), and the same listing through the listing path, so
 * nothing above the interface needs to know which one it has.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerslayerError } from "../../src/errors.ts";
import { listLayer } from "../../src/image/listing.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { openSource } from "../../src/source/open.ts";
import type { ImageSource } from "../../src/source/source.ts";
import { layerFrom, pushImage, type FileSpec } from "../support/fixtures.ts";
import { MemorySource } from "../support/memory-source.ts";
import { sha256 } from "../support/push.ts";
import { useRegistry } from "../support/registry.ts";
import { skopeo } from "../support/skopeo.ts";

const BASE: FileSpec[] = [
  { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
  { path: "bin/sh", content: "#!/bin/sh\n", mode: 0o755 },
  { path: "bin/ls", hardlink: "bin/sh" },
  { path: "lib", symlink: "usr/lib" },
  { path: "usr/share/blob.bin", content: crypto.getRandomValues(new Uint8Array(100_000)) },
];
const TOP: FileSpec[] = [
  { path: "etc/.wh.passwd", content: "" },
  { path: "app/run.sh", content: "#!/bin/sh\necho run\n", mode: 0o755 },
];
/** gzip layers: skopeo's docker-archive refuses zstd (test/layer/stream.test.ts reads zstd from the registry). */
const LAYERS: { bytes: Uint8Array; compression: "gzip" }[] = [
  { bytes: layerFrom(BASE), compression: "gzip" },
  { bytes: layerFrom(TOP), compression: "gzip" },
];

/** What every source lists, layer by layer (whatever its compression). */
let expected: string[][] = [];
const work = mkdtempSync(join(tmpdir(), "ls-conformance-"));
const reg = useRegistry({}, async () => {
  await pushImage(reg, "conf/app", "v1", { layers: LAYERS, realDiffIds: true });
  const from = `docker://${reg.host}/conf/app:v1`;
  skopeo([from, `oci:${join(work, "layout")}:v1`]);
  skopeo([from, `oci-archive:${join(work, "oci.tar")}:v1`]);
  skopeo([from, `docker-archive:${join(work, "docker.tar")}:conf/app:v1`]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SOURCES: Record<string, () => Promise<ImageSource>> = {
  registry: () => openSource(`${reg.host}/conf/app:v1`, () => new RegistryClient({})),
  "oci layout": () => openSource(`oci:${join(work, "layout")}:v1`, () => new RegistryClient({})),
  "oci-archive": () => openSource(`oci-archive:${join(work, "oci.tar")}`, () => new RegistryClient({})),
  "docker-archive": () => openSource(`docker-archive:${join(work, "docker.tar")}`, () => new RegistryClient({})),
  "in-memory": async () => new MemorySource(LAYERS),
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LayerslayerError) return e.code;
    return `not a LayerslayerError: ${String(e)}`;
  }
  return "no error";
}

async function bytesOf(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  return body ? new Uint8Array(await new Response(body).arrayBuffer()) : new Uint8Array(0);
}

beforeAll(async () => {
  const src = new MemorySource(LAYERS);
  const img = await resolveImage(src);
  expected = [];
  for (const [i, l] of img.manifest.image.layers.entries()) {
    const paths: string[] = [];
    await listLayer(src, l, i).finish((e) => void paths.push(e.path));
    expected.push(paths);
  }
});

for (const [kind, open] of Object.entries(SOURCES)) {
  describe(`image source: ${kind}`, () => {
    test("the manifest is the bytes of its digest, and resolves to the image with its config", async () => {
      const source = await open();
      const top = await source.manifest();
      expect(sha256(top.bytes)).toBe(top.digest);
      const again = await source.manifest(top.digest);
      expect(again.bytes).toEqual(top.bytes);
      const img = await resolveImage(source);
      expect(img.manifest.image.layers.length).toBe(2);
      const config = await source.blobBytes(img.manifest.image.config.digest, 1 << 20, "config");
      expect(sha256(config)).toBe(img.manifest.image.config.digest);
      expect(img.configBytes).toEqual(config);
      expect(JSON.parse(new TextDecoder().decode(config)).rootfs.diff_ids.length).toBe(2);
    });

    test("small blobs are bounded and a missing one is NOT_FOUND", async () => {
      const source = await open();
      const img = await resolveImage(source);
      expect(await codeOf(source.blobBytes(img.manifest.image.config.digest, 10, "config"))).toBe("CORRUPT");
      expect(await codeOf(source.blobBytes(`sha256:${"0".repeat(64)}`, 1 << 20))).toBe("NOT_FOUND");
      expect(await codeOf(source.readBlob(`sha256:${"0".repeat(64)}`, 0, 10))).toBe("NOT_FOUND");
    });

    test("a blob reads whole, by any range, and with nothing past its end", async () => {
      const source = await open();
      const img = await resolveImage(source);
      const layer = img.manifest.image.layers[0]!;
      const whole = await source.readBlob(layer.digest, 0, undefined);
      expect(whole.start).toBe(0);
      expect(whole.size).toBe(layer.size);
      const all = await bytesOf(whole.body);
      expect(all.byteLength).toBe(layer.size);
      expect(sha256(all)).toBe(layer.digest);
      const mid = await source.readBlob(layer.digest, 100, 300);
      expect([mid.start, mid.end]).toEqual([100, 300]);
      expect(await bytesOf(mid.body)).toEqual(all.slice(100, 300));
      const tail = await source.readBlob(layer.digest, layer.size - 10, layer.size + 100);
      expect([tail.start, tail.end]).toEqual([layer.size - 10, layer.size]);
      expect(await bytesOf(tail.body)).toEqual(all.slice(layer.size - 10));
      const past = await source.readBlob(layer.digest, layer.size, undefined);
      expect(past.body).toBeNull();
    });

    test("a cancelled read is refused", async () => {
      const source = await open();
      const img = await resolveImage(source);
      const err = await source.readBlob(img.manifest.image.layers[0]!.digest, 0, undefined, { signal: AbortSignal.abort() }).then(
        () => undefined,
        (e) => e,
      );
      expect(err).toBeDefined();
    });

    test("cancelled document reads (manifest, config) end with ABORTED", async () => {
      const source = await open();
      const img = await resolveImage(source);
      const signal = AbortSignal.abort();
      expect(await codeOf(source.manifest(undefined, { signal }))).toBe("ABORTED");
      expect(await codeOf(source.blobBytes(img.manifest.image.config.digest, 1 << 20, "config", { signal }))).toBe("ABORTED");
      expect(await codeOf(resolveImage(source, undefined, { signal }))).toBe("ABORTED");
    });

    test("a listing cancelled at its first progress event ends with ABORTED at once and stores nothing", async () => {
      const source = await open();
      const img = await resolveImage(source);
      const layer = img.manifest.image.layers[0]!;
      const controller = new AbortController();
      let abortedAt = 0;
      const stored: string[] = [];
      const cache = {
        getListing: () => undefined,
        putListing: () => false,
        readListing: () => undefined,
        beginListing: () => ({ add() {}, addPart() {}, finish: () => (stored.push("finish"), true), abort: () => void stored.push("abort") }),
      };
      const listing = listLayer(source, layer, 0, {
        cache,
        signal: controller.signal,
        onProgress: () => {
          abortedAt ||= performance.now();
          controller.abort();
        },
      });
      const err = await listing.finish().catch((e) => e);
      expect(performance.now() - abortedAt).toBeLessThan(100);
      expect(err).toBeInstanceOf(LayerslayerError);
      expect(err.code).toBe("ABORTED");
      expect(stored).toEqual(["abort"]);
    });

    test("the listing path lists every layer the same, complete and verified", async () => {
      const source = await open();
      const img = await resolveImage(source);
      for (const [i, l] of img.manifest.image.layers.entries()) {
        const paths: string[] = [];
        const r = await listLayer(source, l, i).finish((e) => void paths.push(e.path));
        expect(r.error).toBeUndefined();
        expect(r.stats.complete).toBe(true);
        expect(r.stats.verified).toBe(true);
        expect(paths).toEqual(expected[i]!);
      }
    });
  });
}
