/**
 * A saved layer's TOC checked against its tar stream, from the saved file (nothing is downloaded):
 * `save` hands runtimes the whole blob, so a TOC that declares other files than the stream holds
 * is reported there (see toc/compare.ts). A layer without a usable TOC is not read at all.
 */
import { LayerslayerError } from "../errors.ts";
import type { Descriptor } from "../oci/manifest.ts";
import { fileRange } from "../source/files.ts";
import type { BlobPart, ImageSource } from "../source/source.ts";
import { listLayer } from "./listing.ts";

/** `source` with the blob `digest` read from the file `path` instead. */
function withSavedBlob(source: ImageSource, digest: string, size: number, path: string): ImageSource {
  return {
    reference: source.reference,
    name: source.name,
    repository: source.repository,
    version: source.version,
    manifest: (d) => source.manifest(d),
    blobBytes: (d, limit, label) => source.blobBytes(d, limit, label),
    async readBlob(d, start, end, opts): Promise<BlobPart> {
      if (d !== digest) return await source.readBlob(d, start, end, opts);
      opts?.signal?.throwIfAborted();
      const stop = Math.min(end ?? size, size);
      return { start, end: stop, size, body: start >= size ? null : fileRange(path, start, stop, path) };
    },
  };
}

/**
 * Checks the TOC of layer `index` (saved, verified, at `path`) against its tar stream; the TOC's
 * format when they match, undefined when the layer has no usable TOC. Throws CORRUPT when they differ.
 */
export async function checkSavedToc(source: ImageSource, desc: Descriptor, index: number, path: string, signal?: AbortSignal): Promise<"estargz" | "zstd:chunked" | undefined> {
  const saved = withSavedBlob(source, desc.digest, desc.size, path);
  const { stats, error } = await listLayer(saved, desc, index, { signal, read: { checkToc: "if-toc" } }).finish();
  if (error) throw new LayerslayerError(error.code, `layer ${index}: ${error.message}`);
  return stats.tocMatched;
}
