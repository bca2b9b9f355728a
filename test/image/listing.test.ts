/**
 * The listing path on the real registry: progress events that add up, cache first and store only
 * complete listings, and a cancel half way that ends the entries at once, stops the transfer (seen
 * from a counting proxy in front of the registry) and leaves no listing rows in the cache.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { openCache } from "../../src/cache/open.ts";
import { listLayer } from "../../src/image/listing.ts";
import type { Progress } from "../../src/layer/progress.ts";
import type { ResolvedImage } from "../../src/oci/resolve.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { openImage } from "../../src/source/open.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { tempDir } from "../cache/helpers.ts";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { syntheticLayer } from "../support/synthetic-tar.ts";

/** Entries of the big layer: enough for several cache parts (PART_ENTRIES = 10,000) before half way. */
const BIG = 40_000;

describe("the listing path", () => {
  let proxy: CountingProxy;
  const reg = useRegistry({}, async () => {
    const big = await syntheticLayer(Array.from({ length: BIG }, (_, i) => ({ path: `data/d${i % 100}/f${i}`, size: 1500 + (i % 700) })));
    await pushImage(reg, "core/list", "v1", {
      layers: [
        {
          bytes: layerFrom([
            { path: "etc/os-release", content: "ID=core\n" },
            { path: "bin/sh", content: "#!/bin/sh\n".repeat(500), mode: 0o755 },
          ]),
        },
        { bytes: big },
      ],
    });
    proxy = startCountingProxy(reg.url);
  });
  afterAll(() => proxy?.stop());

  /** The image through the counting proxy, with a client of its own. */
  async function image(): Promise<ResolvedImage> {
    return openImage(`${proxy.host}/core/list:v1`, () => new RegistryClient({}));
  }

  test("progress events arrive and add up; the last one is done, with the listing's counts", async () => {
    const img = await image();
    const layer = img.manifest.image.layers[0]!;
    const events: Progress[] = [];
    const paths: string[] = [];
    const listing = listLayer(img.source, layer, 0, { onProgress: (p) => events.push({ ...p }) });
    for await (const e of listing) paths.push(e.path);
    const { stats, cached, stored } = listing.result!;
    expect(paths).toEqual([".", "bin", "bin/sh", "etc", "etc/os-release"]);
    expect(cached).toBe(false);
    expect(stored).toBe(false); // no cache given
    expect(events.length).toBeGreaterThan(1);
    for (const [i, p] of events.entries()) {
      expect(p.layer).toBe(0);
      expect(p.digest).toBe(layer.digest);
      expect(p.downloaded).toBeLessThanOrEqual(layer.size);
      expect(p.done).toBe(i === events.length - 1);
      if (i > 0) {
        expect(p.downloaded).toBeGreaterThanOrEqual(events[i - 1]!.downloaded);
        expect(p.decoded).toBeGreaterThanOrEqual(events[i - 1]!.decoded);
        expect(p.entries).toBeGreaterThanOrEqual(events[i - 1]!.entries);
      }
    }
    const last = events.at(-1)!;
    expect(last).toEqual({
      layer: 0,
      digest: layer.digest,
      size: layer.size,
      downloaded: layer.size,
      decoded: stats.bytesDecompressed,
      entries: paths.length,
      cached: false,
      done: true,
    });
    expect(stats.complete).toBe(true);
  });

  test("cache first: a complete listing is stored once, then answers any budget with nothing downloaded; a budgeted read is never stored", async () => {
    const img = await image();
    const layer = img.manifest.image.layers[0]!;
    const cache = openCache({ enabled: true, dir: tempDir(), warn: (m) => console.error(m) });
    const partial = await listLayer(img.source, layer, 0, { cache, budget: 60 }).finish();
    expect(partial.stats.complete).toBe(false);
    expect(partial.stored).toBe(false);
    expect(cache.readListing(layer.digest)).toBeUndefined();

    const first = await listLayer(img.source, layer, 0, { cache }).finish();
    expect(first.stored).toBe(true);
    const requests = proxy.blobRequests();
    const events: Progress[] = [];
    const paths: string[] = [];
    const again = await listLayer(img.source, layer, 0, { cache, budget: 10, onProgress: (p) => events.push(p) }).finish((e) => void paths.push(e.path));
    expect(again.cached).toBe(true);
    expect(again.stats).toEqual({ ...first.stats, bytesDownloaded: 0 });
    expect(paths).toEqual([".", "bin", "bin/sh", "etc", "etc/os-release"]);
    expect(proxy.blobRequests()).toBe(requests);
    expect(events).toEqual([{ layer: 0, digest: layer.digest, size: layer.size, downloaded: 0, decoded: first.stats.bytesDecompressed, entries: 5, cached: true, done: true }]);
    // Kept listings are readable again, from the cache part by part.
    const kept = await listLayer(img.source, layer, 0, { cache, keep: true }).finish();
    expect([...kept.entries!].map((e) => e.path)).toEqual(paths);
    cache.close();
  });

  test("cancel half way: the entries end with ABORTED at once, the transfer stops, the cache keeps no rows of the layer", async () => {
    const img = await image();
    const layer = img.manifest.image.layers[1]!;
    const dir = tempDir();
    const cache = openCache({ enabled: true, dir, warn: (m) => console.error(m) });
    const rows = (db: Database, table: string) => (db.query(`SELECT COUNT(*) AS n FROM ${table} WHERE digest = ?`).get(layer.digest) as { n: number }).n;
    const controller = new AbortController();
    let abortedAt = 0;
    let bytesAtAbort = 0;
    let partsBeforeAbort = 0;
    let seen = 0;
    const listing = listLayer(img.source, layer, 1, {
      cache,
      signal: controller.signal,
      onProgress: (p) => {
        if (abortedAt || p.entries < BIG / 2) return;
        const db = new Database(cache.path, { readonly: true });
        partsBeforeAbort = rows(db, "listing_parts");
        db.close();
        abortedAt = performance.now();
        bytesAtAbort = proxy.blobBytes();
        controller.abort();
      },
    });
    let error: unknown;
    try {
      for await (const _ of listing) seen++;
    } catch (e) {
      error = e;
    }
    const endedAfter = performance.now() - abortedAt;
    expect(abortedAt).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(LayerslayerError);
    expect((error as LayerslayerError).code).toBe("ABORTED");
    expect(listing.result?.error?.code).toBe("ABORTED");
    expect(endedAfter).toBeLessThan(100);
    expect(seen).toBeLessThan(BIG);
    // The transfer stopped: nothing more leaves the registry side after the cancel took effect.
    await Bun.sleep(100);
    const soonAfter = proxy.blobBytes();
    await Bun.sleep(500);
    expect(proxy.blobBytes()).toBe(soonAfter);
    expect(soonAfter).toBeLessThan(layer.size);
    expect(soonAfter - bytesAtAbort).toBeLessThan(layer.size / 4);
    // Parts were written as the listing streamed, and the cancel removed them all.
    expect(partsBeforeAbort).toBeGreaterThan(0);
    const db = new Database(cache.path, { readonly: true });
    expect(rows(db, "listing_parts")).toBe(0);
    expect(rows(db, "listings")).toBe(0);
    db.close();
    expect(cache.readListing(layer.digest)).toBeUndefined();
    cache.close();
  });

  test("a signal already aborted lists nothing and downloads nothing", async () => {
    const img = await image();
    const before = proxy.blobRequests();
    const listing = listLayer(img.source, img.manifest.image.layers[1]!, 1, { signal: AbortSignal.abort() });
    const err = await listing.finish().catch((e) => e);
    expect(err.code).toBe("ABORTED");
    expect(proxy.blobRequests()).toBe(before);
  });

  test("a reader that stops early ends the transfer and stores nothing", async () => {
    const img = await image();
    const layer = img.manifest.image.layers[1]!;
    const cache = openCache({ enabled: true, dir: tempDir(), warn: (m) => console.error(m) });
    let n = 0;
    for await (const _ of listLayer(img.source, layer, 1, { cache })) if (++n === 15_000) break;
    await Bun.sleep(100);
    const after = proxy.blobBytes();
    await Bun.sleep(300);
    expect(proxy.blobBytes()).toBe(after);
    const db = new Database(cache.path, { readonly: true });
    expect((db.query("SELECT COUNT(*) AS n FROM listing_parts").get() as { n: number }).n).toBe(0);
    db.close();
    cache.close();
  });
});
