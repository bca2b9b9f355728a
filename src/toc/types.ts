/** Shapes of a layer's table of contents (eStargz, zstd:chunked): see src/toc/index.ts. */
import type { Entry, LayerStats } from "../types.ts";

export type TocFormat = "estargz" | "zstd:chunked";

/** One compressed piece of a regular file's content. */
export interface TocChunk {
  /** Compressed byte range in the blob: [start, end). */
  start: number;
  end: number;
  /** Where the piece's bytes go in the file, and how many there are. */
  fileOffset: number;
  size: number;
  /** Digest of the piece's uncompressed bytes, when the TOC gives one. */
  digest?: string;
}

/** A regular file's content as the TOC describes it. */
export interface TocContent {
  chunks: TocChunk[];
  /** Digest of the whole file's content, when the TOC gives one. */
  digest?: string;
}

/** Where a layer's TOC was found, before it is read. */
export interface TocLocation {
  format: TocFormat;
  /** Compressed TOC bytes in the blob: [start, end). */
  start: number;
  end: number;
  /** zstd:chunked: the TOC's uncompressed length, as announced. */
  uncompressedLength?: number;
  /** Where the location came from. */
  from: "annotation" | "footer";
}

/** A layer's complete listing read from its TOC, with the content map `cat` needs. */
export interface LayerToc {
  format: TocFormat;
  /** Entries in TOC order (the layer's order), the format's own entries left out. */
  entries: Entry[];
  /** Regular files' content, by the entry objects in `entries`. */
  content: Map<Entry, TocContent>;
  /** Compressed bytes of the TOC itself. */
  tocBytes: number;
  /** Uncompressed bytes of the TOC's JSON. */
  jsonBytes: number;
  /** True when the TOC was checked against a digest the manifest announces. */
  checked: boolean;
}

/** The short description of a listing's origin that stats carry. */
export type TocStats = NonNullable<LayerStats["toc"]>;
