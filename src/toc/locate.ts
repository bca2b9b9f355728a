/**
 * Finding and reading a layer's TOC: from the annotations when the manifest announces one, else
 * from a footer in the blob's last bytes. Costs one small tail read (nothing for zstd:chunked with
 * annotations) plus the TOC. An announced TOC that is missing or wrong gives a warning, never an
 * error: the caller then reads the layer the ordinary way.
 */
import { codecFromMediaType } from "../codec/index.ts";
import { LayerslayerError } from "../errors.ts";
import { ANNOTATION, parseFooter, TAIL_BYTES, zstdChunkedAnnotation } from "./footer.ts";
import { readToc, type RangeRead } from "./read.ts";
import type { LayerToc, TocLocation } from "./types.ts";

export interface LayerDescription {
  mediaType: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface TocSearch {
  toc?: LayerToc;
  /** The blob's last bytes, when they were read (an ordinary read can reuse them). */
  tail?: Uint8Array;
  /** Why an announced (or found) TOC could not be used. */
  warning?: string;
}

function reason(e: unknown): string {
  if (e instanceof LayerslayerError) return e.message;
  throw e;
}

/** Whether a layer of this type may carry a TOC (compressed tar: gzip or zstd, or unknown). */
export function mayHaveToc(desc: LayerDescription): boolean {
  return codecFromMediaType(desc.mediaType) !== "tar" && desc.size > 0;
}

/** Whether the layer's annotations announce a TOC (eStargz's digest, zstd:chunked's position), whatever findToc then makes of them. */
export function announcesToc(desc: LayerDescription): boolean {
  return desc.annotations?.[ANNOTATION.estargzToc] !== undefined || desc.annotations?.[ANNOTATION.zstdPosition] !== undefined;
}

export async function findToc(read: RangeRead, desc: LayerDescription): Promise<TocSearch> {
  const annotations = desc.annotations;
  const announced = zstdChunkedAnnotation(annotations, desc.size);
  if (typeof announced === "string") return { warning: `${announced}; reading the layer itself` };
  if (announced) {
    try {
      return { toc: await readToc(read, announced, annotations?.[ANNOTATION.zstdChecksum], desc.size) };
    } catch (e) {
      return { warning: `${reason(e)}; reading the layer itself` };
    }
  }
  if (!mayHaveToc(desc)) return {};
  const tail = await read(Math.max(0, desc.size - TAIL_BYTES), desc.size);
  const estargzDigest = annotations?.[ANNOTATION.estargzToc];
  const loc: TocLocation | undefined = parseFooter(tail, desc.size);
  if (estargzDigest && loc?.format !== "estargz") return { tail, warning: "the layer announces an eStargz TOC but ends without an eStargz footer; reading the layer itself" };
  if (!loc) return { tail };
  try {
    return { tail, toc: await readToc(read, loc, loc.format === "estargz" ? estargzDigest : annotations?.[ANNOTATION.zstdChecksum], desc.size) };
  } catch (e) {
    return { tail, warning: `${reason(e)}; reading the layer itself` };
  }
}
