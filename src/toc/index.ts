/**
 * Tables of contents in layers (eStargz, zstd:chunked): find one with a small read of the blob's
 * tail or from the annotations, check it, list the layer from it, and read a file by its chunks.
 */
export { TocComparison } from "./compare.ts";
export { readTocContent, unreadableByChunks, type ContentResult } from "./content.ts";
export { ESTARGZ_OWN } from "./entries.ts";
export { ANNOTATION, parseFooter, TAIL_BYTES } from "./footer.ts";
export { announcesToc, findToc, mayHaveToc, type LayerDescription, type TocSearch } from "./locate.ts";
export { readToc, type RangeRead } from "./read.ts";
export type { LayerToc, TocChunk, TocContent, TocFormat, TocLocation, TocStats } from "./types.ts";

import type { LayerStats } from "../types.ts";
import type { LayerToc, TocStats } from "./types.ts";

/** The stats of a listing as a TOC declares it, read for `downloaded` bytes (tail and TOC). */
export function tocLayerStats(desc: { digest: string; mediaType: string; size: number }, toc: LayerToc, downloaded: number): LayerStats {
  return {
    digest: desc.digest,
    mediaType: desc.mediaType,
    layerSize: desc.size,
    bytesDownloaded: downloaded,
    bytesDecompressed: toc.jsonBytes,
    entries: toc.entries.length,
    complete: true,
    // The blob was not read: nothing says its tar stream holds what the TOC declares. A TOC that
    // hashed to the digest the manifest announces (`toc.checked`) says only that the image's
    // author wrote it.
    verified: false,
    toc: tocStats(toc),
  };
}

/** What stats say about a listing that came from a TOC. */
export function tocStats(toc: LayerToc): TocStats {
  return { format: toc.format, bytes: toc.tocBytes, checked: toc.checked };
}

/** "eStargz" / "zstd:chunked", for messages. */
export function formatName(f: LayerToc["format"]): string {
  return f === "estargz" ? "eStargz" : "zstd:chunked";
}
