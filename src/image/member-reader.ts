/**
 * Reads whole members of given layers into memory (small files: package databases, configs), the
 * cheapest way the layer allows: by its TOC chunks when it has a TOC, else from the nearest gzip
 * checkpoint before the member (cat's machinery, src/image/layer-access.ts), else from byte 0.
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import type { Entry } from "../types.ts";
import { LayerAccess, type AccessOptions, type FileRead } from "./layer-access.ts";

export class MemberReader {
  private readonly access = new LayerAccess();
  /** Every member read goes by this: the image, the sink that collects the member, the options. */
  private readonly input: FileRead;
  private parts: Uint8Array[] = [];
  private bytes = 0;
  private limit = 0;

  constructor(img: ResolvedImage, opts: AccessOptions = {}) {
    this.input = { img, sink: (chunk) => this.take(chunk), opts };
  }

  /** Compressed bytes downloaded so far. */
  get bytesDownloaded(): number {
    return this.access.total;
  }

  private take(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    if (this.bytes > this.limit) throw new LayerslayerError("UNSUPPORTED", `a member larger than ${this.limit} bytes is not read into memory`);
    this.parts.push(chunk.slice());
  }

  /** The bytes of `entry` (a regular file member of layer `index`), at most `limit` of them. */
  async read(index: number, entry: Entry, limit: number): Promise<Uint8Array> {
    const what = escapeName(`/${entry.path}`);
    if (entry.size > limit) throw new LayerslayerError("UNSUPPORTED", `${what} in layer ${index} is ${entry.size} bytes, more than the ${limit} read into memory`);
    this.parts = [];
    this.bytes = 0;
    this.limit = limit;
    const toc = this.access.knownToc(index) ?? (await this.access.toc(this.input, index));
    const byToc = toc ? await this.access.readByToc(this.input, index, toc, entry, what) : undefined;
    if (!byToc) {
      this.parts = [];
      this.bytes = 0;
      const res = await this.access.readEntry(this.input, index, entry, (e: Entry) => e.headerOffset === entry.headerOffset && e.path === entry.path);
      if (!res.got) throw new LayerslayerError("CORRUPT", `${what}: layer ${index} has no data for it`);
    }
    if (this.bytes !== entry.size) throw new LayerslayerError("CORRUPT", `${what} in layer ${index}: ${this.bytes} bytes read, its header says ${entry.size}`);
    return Buffer.concat(this.parts);
  }

  /** Keeps what this run learnt (checkpoints) for the next runs. */
  save(): void {
    this.access.save(this.input);
  }
}
