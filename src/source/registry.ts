/**
 * The registry as an image source: manifests and small blobs through RegistryClient (verified,
 * cached by digest), blob ranges as HTTP Range requests whose answers (206, a 200 that ignores the
 * range, 416) are turned into plain byte ranges here. Tags, catalog and auth stay in src/registry.
 */
import { LayerslayerError } from "../errors.ts";
import { formatReference, manifestReference, type ImageRef } from "../ref/reference.ts";
import { discard } from "../registry/body.ts";
import type { FetchedManifest, RegistryClient } from "../registry/client.ts";
import { responseError } from "../registry/errors.ts";
import { escapeName } from "../names.ts";
import { RangeFault, type BlobPart, type DocumentReadOptions, type ImageSource, type ReadPartOptions } from "./source.ts";

function parseContentRange(v: string | null): { start: number; end: number; total?: number } | undefined {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), ...(m[3] !== "*" ? { total: Number(m[3]) } : {}) };
}

export class RegistrySource implements ImageSource {
  readonly reference: string;
  readonly name: string;
  readonly repository: string;
  readonly version: string;
  readonly connections: number;

  constructor(
    readonly client: RegistryClient,
    readonly ref: ImageRef,
  ) {
    this.reference = formatReference(ref);
    this.name = `${ref.registry}/${ref.repository}`;
    this.repository = ref.repository;
    this.version = ref.digest ?? ref.tag ?? "latest";
    this.connections = client.connections;
  }

  manifest(digest?: string, opts: DocumentReadOptions = {}): Promise<FetchedManifest> {
    return this.client.fetchManifest(this.ref, digest ?? manifestReference(this.ref), opts);
  }

  blobBytes(digest: string, limit: number, label?: string, opts: DocumentReadOptions = {}): Promise<Uint8Array> {
    return this.client.fetchBlobBytes(this.ref, digest, limit, label, opts);
  }

  async readBlob(digest: string, start: number, end: number | undefined, opts: ReadPartOptions = {}): Promise<BlobPart> {
    const what = `${this.name}@${digest}`;
    const res = await this.client.blob(this.ref, digest, { range: [start, end === undefined ? undefined : end - 1], ...opts });
    if (res.status === 416) {
      // Never read a 416 body as data: it only says the start is past the end.
      await discard(res);
      const cr = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
      return { start, end: start, ...(cr ? { size: Number(cr[1]) } : {}), body: null };
    }
    if (res.status !== 200 && res.status !== 206) throw await responseError(res, what);
    if (res.status === 206) {
      const header = res.headers.get("content-range");
      const cr = parseContentRange(header);
      if (!cr) {
        await discard(res);
        throw new RangeFault(
          `${what}: the registry answered a range request with ${header === null ? "no Content-Range" : `an invalid Content-Range "${escapeName(header.slice(0, 80))}"`}`,
        );
      }
      // What it says it sends; the blob reader checks that against what it asked for.
      if (!res.body) throw new LayerslayerError("NETWORK", `${what}: empty response body`);
      return { start: cr.start, end: cr.end + 1, ...(cr.total !== undefined ? { size: cr.total } : {}), body: res.body };
    }
    // The server ignored Range and sends the whole blob.
    if (!res.body) throw new LayerslayerError("NETWORK", `${what}: empty response body`);
    const len = Number(res.headers.get("content-length") ?? NaN);
    return { start: 0, ...(Number.isFinite(len) ? { size: len } : {}), body: res.body };
  }
}
