import { LayerslayerError } from "../errors.ts";
import type { Attempts } from "../registry/retry.ts";
import { ByteCoverage } from "./coverage.ts";
import { BlobReader, type BlobSource } from "./reader.ts";

/** Reads of byte ranges of one blob, recording the bytes downloaded (each once) in `coverage`. */
export class RangeReader {
  constructor(
    private readonly src: BlobSource,
    private readonly signal?: AbortSignal,
    readonly coverage = new ByteCoverage(),
    /** Shared with the blob's other reads (reader.ts `blobAttempts`); else each range read has its own. */
    private readonly attempts?: Attempts,
  ) {}

  /** Distinct bytes of the blob downloaded by the reads so far (and any other read sharing the coverage). */
  get bytesDownloaded(): number {
    return this.coverage.size;
  }

  /** Bytes [start, end) of the blob, in one ranged request when the registry allows. */
  async read(start: number, end: number): Promise<Uint8Array> {
    const want = end - start;
    if (!(want >= 0)) throw new LayerslayerError("CORRUPT", `invalid byte range ${start}-${end} of ${this.src.digest}`);
    const out = new Uint8Array(want);
    if (want === 0) return out;
    const reader = new BlobReader(this.src, {
      start,
      budget: want,
      firstChunk: want,
      maxChunk: want,
      coverage: this.coverage,
      ...(this.signal ? { signal: this.signal } : {}),
      ...(this.attempts ? { attempts: this.attempts } : {}),
    });
    let have = 0;
    for await (const chunk of reader.chunks()) {
      out.set(chunk, have);
      have += chunk.length;
    }
    if (have !== want && reader.rangeIgnored) {
      throw new LayerslayerError(
        "UNSUPPORTED",
        `${this.src.source.name}@${this.src.digest}: the registry ignores Range requests, so bytes ${start}-${end - 1} cannot be read without the ${start} before them`,
      );
    }
    if (have !== want) throw new LayerslayerError("CORRUPT", `${this.src.digest}: bytes ${start}-${end - 1} lie past the end of the blob`);
    return out;
  }
}
