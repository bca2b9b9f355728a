import { LayerslayerError } from "../errors.ts";
import { BlobReader, type BlobSource } from "./reader.ts";

/** Reads of byte ranges of one blob, counting every byte downloaded. */
export class RangeReader {
  bytesDownloaded = 0;
  constructor(
    private readonly src: BlobSource,
    private readonly signal?: AbortSignal,
  ) {}

  /** Bytes [start, end) of the blob, in one ranged request when the registry allows. */
  async read(start: number, end: number): Promise<Uint8Array> {
    const want = end - start;
    if (!(want >= 0)) throw new LayerslayerError("CORRUPT", `invalid byte range ${start}-${end} of ${this.src.digest}`);
    const out = new Uint8Array(want);
    if (want === 0) return out;
    const reader = new BlobReader(this.src, { start, budget: want, firstChunk: want, maxChunk: want, ...(this.signal ? { signal: this.signal } : {}) });
    let have = 0;
    try {
      for await (const chunk of reader.chunks()) {
        out.set(chunk, have);
        have += chunk.length;
      }
    } finally {
      this.bytesDownloaded += reader.bytesDownloaded;
    }
    if (have !== want) throw new LayerslayerError("CORRUPT", `${this.src.digest}: bytes ${start}-${end - 1} lie past the end of the blob`);
    return out;
  }
}
