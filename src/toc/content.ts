/**
 * A regular file's content read by its TOC chunks: only those compressed bytes are fetched
 * (neighbouring chunks in one request), each chunk decoded on its own and checked against its
 * digest (or, without chunk digests, the whole file against the file's digest).
 */
import { LayerslayerError } from "../errors.ts";
import { DigestHasher, digestOf } from "../oci/digest.ts";
import { decodeBytes } from "./decode.ts";
import type { RangeRead } from "./read.ts";
import type { TocChunk, TocContent, TocFormat } from "./types.ts";

/** Neighbouring chunks are fetched together up to this many compressed bytes. */
const MAX_REQUEST = 8 * 1024 * 1024;

/**
 * A chunk is decoded whole in memory (to check its digest before a byte of it is handed out): a
 * TOC that gives a chunk more decoded bytes than this is not used to read the file (real chunks are
 * 4 MiB in eStargz by default, smaller in zstd:chunked).
 */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

/** Why the file cannot be read by its TOC chunks, or undefined when it can. */
export function unreadableByChunks(content: TocContent): string | undefined {
  const big = content.chunks.find((c) => c.size > MAX_CHUNK_BYTES);
  return big ? `the TOC gives the chunk at ${big.start} ${big.size} bytes, more than the ${MAX_CHUNK_BYTES} read at once` : undefined;
}

export interface ContentResult {
  /** True when every byte handed out was checked against a digest from the TOC. */
  checked: boolean;
}

/** Groups of chunks that lie back to back in the blob, each group at most MAX_REQUEST bytes (or one chunk). */
function groups(chunks: readonly TocChunk[]): TocChunk[][] {
  const out: TocChunk[][] = [];
  for (const c of chunks) {
    const g = out[out.length - 1];
    if (g && g[g.length - 1]!.end === c.start && c.end - g[0]!.start <= MAX_REQUEST) g.push(c);
    else out.push([c]);
  }
  return out;
}

/** Yields the file's bytes in order; throws CORRUPT when a chunk does not match its digest. */
export async function* readTocContent(read: RangeRead, format: TocFormat, content: TocContent, path: string): AsyncGenerator<Uint8Array, ContentResult> {
  const codec = format === "estargz" ? "gzip" : "zstd";
  const whole = content.chunks.every((c) => c.digest) ? undefined : content.digest ? new DigestHasher("sha256") : undefined;
  let checked = true;
  for (const group of groups(content.chunks)) {
    const bytes = await read(group[0]!.start, group[group.length - 1]!.end);
    for (const c of group) {
      const what = `${path}: the chunk at ${c.start}`;
      // eStargz: a chunk's gzip member may go on with the next entries' tar headers; zstd:chunked: exact frames.
      const data = await decodeBytes(codec, bytes.subarray(c.start - group[0]!.start, c.end - group[0]!.start), c.size, what, format === "zstd:chunked");
      if (data.length !== c.size) throw new LayerslayerError("CORRUPT", `${what} decodes to ${data.length} bytes, not ${c.size}`);
      if (c.digest) {
        const got = digestOf(data);
        if (got !== c.digest) throw new LayerslayerError("CORRUPT", `${what} hashes to ${got}, not the TOC's ${c.digest}`);
      } else if (whole) whole.update(data);
      else checked = false;
      yield data;
    }
  }
  if (whole) {
    const got = whole.digest();
    if (got !== content.digest) throw new LayerslayerError("CORRUPT", `${path} hashes to ${got}, not the TOC's ${content.digest}`);
  }
  return { checked };
}
