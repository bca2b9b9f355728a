/**
 * How `cat` reads layers during one run, remembering what each read taught it: a layer's TOC (read
 * a file by its chunks), its gzip checkpoints (start the next read near the file instead of at byte
 * 0) and the entries seen so far (a layer read only up to some point still names what lies before).
 * LayerAccess holds only that memory; what a read goes by (the image, where the bytes go, the
 * options) is a `FileRead` handed to every call, so a read's inputs can be followed from the
 * command down to the tar reader.
 */
import { ByteCoverage } from "../blob/coverage.ts";
import { RangeReader } from "../blob/range.ts";
import { blobAttempts } from "../blob/allowance.ts";
import type { IndexStore, ListingCache } from "../cache/cache.ts";
import { CheckpointSet } from "../codec/checkpoint.ts";
import { LayerslayerError } from "../errors.ts";
import type { ProgressListener } from "../layer/progress.ts";
import type { LayerStreamOptions } from "../layer/stream.ts";
import { isForeignLayer } from "../oci/manifest.ts";
import type { Attempts } from "../registry/retry.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { findToc, readTocContent, tocLayerStats, unreadableByChunks, type LayerToc, type TocSearch } from "../toc/index.ts";
import type { Entry } from "../types.ts";
import { listLayer } from "./listing.ts";

export type Sink = (chunk: Uint8Array) => void | Promise<void>;

/** How a run reads files out of layers (`cat`, `packages`). */
export interface AccessOptions {
  cache?: ListingCache;
  /** Layers' checkpoints and partial listings, kept between runs. */
  indexes?: IndexStore;
  signal?: AbortSignal;
  /** Progress of each layer pass (src/layer/progress.ts). */
  onProgress?: ProgressListener;
  /** Told when a layer's announced TOC cannot be used (the layer is then read the ordinary way). */
  onWarning?: (message: string) => void;
  /**
   * Read the layer that holds the file from byte 0 on to its end and check its digest before
   * returning (never by TOC chunks or from a checkpoint, and no layer's TOC listing is used to find
   * the file); CORRUPT when it does not verify.
   */
  verify?: boolean;
}

/** What one file read goes by, handed to every step of it. */
export interface FileRead {
  img: ResolvedImage;
  /** Where the file's bytes go. */
  sink: Sink;
  opts: AccessOptions;
}

export interface PassResult {
  /** The entry whose content was streamed to the sink, if one was. */
  got?: Entry;
  /** Whether the pass read the layer's whole listing. */
  complete: boolean;
  /** Whether the pass read the whole blob and it hashed to its digest. */
  verified: boolean;
}

export class LayerAccess {
  /** Complete listings learnt in this run. */
  readonly complete = new Map<number, Entry[]>();
  /** Entries of layers read only up to some point, in tar order. */
  readonly prefixes = new Map<number, Entry[]>();
  /** The bytes of each layer downloaded in this run (each counted once, however many reads fetched it). */
  private readonly spent = new Map<number, ByteCoverage>();
  private readonly tocs = new Map<number, LayerToc | null>();
  /** Each layer's last bytes, read when looking for its TOC: a later pass does not download them again. */
  private readonly tails = new Map<number, Uint8Array>();
  private readonly checkpoints = new Map<number, CheckpointSet>();
  /** Each layer's allowance of tries, shared by every read of it in this run (the TOC probe, the passes). */
  private readonly attempts = new Map<number, Attempts>();
  /** Layers whose index (checkpoints, partial listing) grew in this run: saved by `save()`. */
  private readonly dirty = new Set<number>();

  /** Compressed bytes of layer `index` downloaded in this run. */
  spentOn(index: number): number {
    return this.spent.get(index)?.size ?? 0;
  }

  /** Compressed bytes downloaded in this run, all layers. */
  get total(): number {
    let n = 0;
    for (const c of this.spent.values()) n += c.size;
    return n;
  }

  private coverageOf(index: number): ByteCoverage {
    let c = this.spent.get(index);
    if (!c) this.spent.set(index, (c = new ByteCoverage()));
    return c;
  }

  private attemptsOf(index: number): Attempts {
    let a = this.attempts.get(index);
    if (!a) this.attempts.set(index, (a = blobAttempts()));
    return a;
  }

  private blob(read: FileRead, index: number) {
    const d = read.img.manifest.image.layers[index]!;
    return { source: read.img.source, digest: d.digest, size: d.size };
  }

  /** The layer's TOC, looked for once per run: a small tail read (or the annotations), then the TOC. */
  async toc(read: FileRead, index: number): Promise<LayerToc | undefined> {
    const had = this.tocs.get(index);
    if (had !== undefined) return had ?? undefined;
    const { opts } = read;
    const desc = read.img.manifest.image.layers[index]!;
    const ranges = new RangeReader(this.blob(read, index), opts.signal, this.coverageOf(index), this.attemptsOf(index));
    let search: TocSearch = {};
    if (!isForeignLayer(desc)) {
      try {
        search = await findToc((s, e) => ranges.read(s, e), desc);
      } catch (e) {
        // An unreadable tail: the ordinary read says what is wrong, if anything.
        if (!(e instanceof LayerslayerError)) throw e;
      }
    }
    if (search.tail) this.tails.set(index, search.tail);
    if (search.warning) opts.onWarning?.(`layer ${index}: ${search.warning}`);
    this.tocs.set(index, search.toc ?? null);
    if (search.toc) {
      for (const e of search.toc.entries) e.layer = index;
      this.complete.set(index, search.toc.entries);
      opts.cache?.putListing(tocLayerStats(desc, search.toc, this.spentOn(index)), search.toc.entries);
    }
    return search.toc;
  }

  /** The TOC already found for the layer in this run. */
  knownToc(index: number): LayerToc | undefined {
    return this.tocs.get(index) ?? undefined;
  }

  /** Streams a regular file of a TOC layer by its chunks; undefined when the TOC has no content for it. */
  async readByToc(read: FileRead, index: number, toc: LayerToc, entry: Entry, what: string): Promise<{ checked: boolean } | undefined> {
    const own = toc.content.has(entry) ? entry : toc.entries.findLast((e) => e.path === entry.path && e.type === entry.type);
    const content = own && toc.content.get(own);
    if (!content) return undefined;
    const refused = unreadableByChunks(content);
    if (refused) {
      read.opts.onWarning?.(`layer ${index}: ${what}: ${refused}; reading the layer itself`);
      return undefined;
    }
    const ranges = new RangeReader(this.blob(read, index), read.opts.signal, this.coverageOf(index), this.attemptsOf(index));
    const gen = readTocContent((s, e) => ranges.read(s, e), toc.format, content, what);
    try {
      for (;;) {
        const next = await gen.next();
        if (next.done) return { checked: next.value.checked };
        await read.sink(next.value);
      }
    } catch (e) {
      if (e instanceof LayerslayerError) throw new LayerslayerError(e.code, `layer ${index}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** The layer's checkpoints: those of earlier runs (from the cache) and this one's. */
  private checkpointsOf(read: FileRead, index: number): CheckpointSet {
    let set = this.checkpoints.get(index);
    if (!set) {
      set = new CheckpointSet();
      this.checkpoints.set(index, set);
      const stored = read.opts.indexes?.getLayerIndex(read.img.manifest.image.layers[index]!.digest);
      for (const cp of stored?.checkpoints ?? []) set.add(cp);
      if (stored?.prefix && !this.complete.has(index)) {
        for (const e of stored.prefix) e.layer = index;
        this.prefixes.set(index, stored.prefix);
      }
    }
    return set;
  }

  /** Entries of the layer's beginning known from this run or an earlier one (the layer read only in part). */
  prefixOf(read: FileRead, index: number): Entry[] | undefined {
    this.checkpointsOf(read, index);
    return this.prefixes.get(index);
  }

  /** Keeps what this run learnt about each layer's checkpoints for the next runs. */
  save(read: FileRead): void {
    const store = read.opts.indexes;
    if (!store) return;
    const layers = read.img.manifest.image.layers;
    for (const index of this.dirty) {
      const set = this.checkpoints.get(index);
      if (!set || set.list.length === 0) continue;
      const prefix = this.complete.has(index) ? undefined : this.prefixes.get(index);
      store.putLayerIndex(layers[index]!.digest, { checkpoints: set.list, ...(prefix ? { prefix } : {}) }, layers[index]!.size);
    }
    this.dirty.clear();
  }

  /**
   * Streams layer `index` (from byte 0, or from a checkpoint with `from`) until the content of the
   * first entry `want` takes ends, until `stopAfter` says so, or to the end. Entries seen are kept
   * (a complete listing is also cached); gzip checkpoints are recorded on the way.
   */
  async pass(
    read: FileRead,
    index: number,
    want: (e: Entry) => boolean,
    stopAfter?: (e: Entry) => boolean,
    from?: LayerStreamOptions["resume"],
    firstChunk = 64 * 1024,
  ): Promise<PassResult> {
    const { img, sink, opts } = read;
    const desc = img.manifest.image.layers[index]!;
    const entries: Entry[] = [];
    let got: Entry | undefined;
    const verify = !!opts.verify && !from;
    const listing = listLayer(img.source, desc, index, {
      // A complete read is stored by the listing path (the cache keeps complete, verified listings only).
      cache: opts.cache,
      signal: opts.signal,
      onProgress: opts.onProgress,
      read: {
        // One file's content only: a pass that reads on to verify lists later entries, never delivers them.
        wantContent: (e) => !got && want(e),
        firstChunk,
        stopAfterContent: !verify,
        checkpoints: this.checkpointsOf(read, index),
        ...(this.tails.has(index) ? { tail: this.tails.get(index)! } : {}),
        coverage: this.coverageOf(index),
        attempts: this.attemptsOf(index),
        ...(stopAfter ? { stopAfter: (e: Entry) => !(verify && got) && stopAfter(e) } : {}),
        ...(from ? { resume: from } : {}),
      },
      onData: async (ev) => {
        await sink(ev.chunk);
        if (ev.done) got = ev.entry;
      },
    });
    const result = await listing.finish((e) => void entries.push(e));
    const stats = result.stats;
    this.dirty.add(index);
    if (result.error) throw new LayerslayerError(result.error.code, `layer ${index}: ${result.error.message}`, { cause: result.error });
    if (from) return { ...(got ? { got } : {}), complete: false, verified: false };
    if (stats.complete) {
      this.complete.set(index, entries);
      this.prefixes.delete(index);
      return { ...(got ? { got } : {}), complete: true, verified: stats.verified };
    }
    // Stopped early: what was seen is still true of the layer's beginning. The blob may still be
    // verified: its bytes all arrived (in one answer) and hashed to its digest.
    if ((this.prefixes.get(index)?.length ?? 0) < entries.length) this.prefixes.set(index, entries);
    return { ...(got ? { got } : {}), complete: false, verified: stats.verified };
  }

  /**
   * Streams the regular file `entry` of layer `index` (its header offset known from a listing),
   * starting at the last checkpoint before it when the run has one, else from byte 0.
   */
  async readEntry(read: FileRead, index: number, entry: Entry, isIt: (e: Entry) => boolean): Promise<{ got?: Entry; verified: boolean }> {
    const set = this.checkpointsOf(read, index);
    const cp = entry.headerOffset >= 0 ? set.before(entry.headerOffset) : undefined;
    if (cp) {
      // A checkpoint past the file's end bounds the compressed bytes needed: ask for exactly those.
      const end = entry.headerOffset + entry.size + 3 * 512;
      const next = set.list.find((c) => c.out >= end);
      const need = next ? Math.floor(next.bit / 8) + 1 - Math.floor(cp.bit / 8) : undefined;
      const res = await this.pass(read, index, isIt, undefined, { checkpoint: cp, tarOffset: entry.headerOffset }, need);
      if (res.got) return res;
    }
    return await this.pass(read, index, isIt);
  }
}
