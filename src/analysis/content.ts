/**
 * Whether chosen pairs of regular files (one in each of two images, of equal size) hold the same
 * bytes, for `diff --content`, downloading as little as the layers allow:
 *   1. By the digests the layers' TOCs declare (eStargz, zstd:chunked), when both files' layers have
 *      a TOC: the files' own digests, else their chunk digests when both cut the file alike. Nothing
 *      of the files is read, so the verdict is what the TOCs declare (their tar streams unread).
 *   2. Else each file is read and hashed (sha256): by its TOC chunks when its layer has a TOC, from
 *      the nearest gzip checkpoint before it when an earlier run kept the layer's checkpoints
 *      (cat's machinery, src/image/layer-access.ts), else in one pass over the layer from its start
 *      to the last byte of the last file wanted from it (the download stops there).
 * With `verify` no TOC is used: every file is read from the layer's tar stream.
 */
import type { ListingCache } from "../cache/cache.ts";
import { LayerslayerError } from "../errors.ts";
import { LayerAccess, type AccessOptions, type FileRead } from "../image/layer-access.ts";
import { listLayer } from "../image/listing.ts";
import type { LayerListing } from "../image/load.ts";
import { escapeName } from "../names.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import type { LayerToc, TocContent } from "../toc/index.ts";
import type { Entry } from "../types.ts";

/** A regular file of one side: the entry its merged tree shows and the layer that gave it. */
export interface FileAt {
  layer: number;
  entry: Entry;
}

export interface ContentPair {
  a: FileAt;
  b: FileAt;
}

/** One image and the listings its merged tree was made of, by layer index. */
export interface ContentSide {
  img: ResolvedImage;
  listings: ReadonlyMap<number, LayerListing>;
}

export interface ContentOptions {
  /** Where TOC listings found again are kept, and earlier runs' gzip checkpoints are read from. */
  cache?: ListingCache | undefined;
  /** Read every file from the layer's tar stream: no TOC digest or chunk is used. */
  verify?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onWarning?: ((message: string) => void) | undefined;
}

export interface ContentVerdicts {
  /** Per pair: the bytes differ. */
  differs: boolean[];
  /** Per pair: decided by the digests both layers' TOCs declare (neither file was read). */
  byToc: boolean[];
  /** Compressed bytes downloaded (TOCs found again, chunks, streams). */
  bytesDownloaded: number;
}

/** What two TOCs' digests say of two files: true when they differ, undefined when they cannot tell. */
export function tocVerdict(a: TocContent, b: TocContent): boolean | undefined {
  if (a.digest && b.digest) return a.digest !== b.digest;
  const ca = a.chunks;
  const cb = b.chunks;
  if (ca.length !== cb.length || ca.length === 0) return undefined;
  for (let i = 0; i < ca.length; i++) if (!ca[i]!.digest || !cb[i]!.digest || ca[i]!.fileOffset !== cb[i]!.fileOffset || ca[i]!.size !== cb[i]!.size) return undefined;
  return ca.some((c, i) => c.digest !== cb[i]!.digest);
}

/** One side's reads: its layers' TOCs (looked for once), and the bytes downloaded. */
class SideReader {
  private readonly access = new LayerAccess();
  private readonly tocs = new Map<number, Promise<LayerToc | undefined>>();
  /** Each TOC's regular files by path (the TOC's own entries, whose content it maps). */
  private readonly byPath = new Map<LayerToc, Map<string, Entry>>();
  private streamed = 0;

  constructor(
    private readonly side: ContentSide,
    private readonly opts: ContentOptions,
  ) {}

  get bytesDownloaded(): number {
    return this.access.total + this.streamed;
  }

  private input(sink: FileRead["sink"]): FileRead {
    const o = this.opts;
    const opts: AccessOptions = {
      ...(o.cache ? { cache: o.cache, indexes: o.cache } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onWarning ? { onWarning: o.onWarning } : {}),
    };
    return { img: this.side.img, sink, opts };
  }

  /** The layer's TOC when its listing says it has one: the one read for the listing, else found again. */
  toc(layer: number): Promise<LayerToc | undefined> {
    let t = this.tocs.get(layer);
    if (!t) {
      const listing = this.side.listings.get(layer);
      const has = !this.opts.verify && listing && (listing.stats.toc || listing.stats.tocMatched);
      t = !has
        ? Promise.resolve(undefined)
        : listing.toc
          ? Promise.resolve(listing.toc)
          : this.access.toc(
              this.input(() => {}),
              layer,
            );
      this.tocs.set(layer, t);
    }
    return t;
  }

  /** What the layer's TOC declares of the file's content, if it has a TOC. */
  async declared(f: FileAt): Promise<{ toc: LayerToc; entry: Entry; content: TocContent } | undefined> {
    const toc = await this.toc(f.layer);
    if (!toc) return undefined;
    let map = this.byPath.get(toc);
    if (!map) {
      map = new Map();
      // A path named twice in a layer: the later member is the file.
      for (const e of toc.entries) if (e.type === "file") map.set(e.path, e);
      this.byPath.set(toc, map);
    }
    const entry = map.get(f.entry.path);
    const content = entry && toc.content.get(entry);
    return entry && content ? { toc, entry, content } : undefined;
  }

  /** The sha256 of each file's bytes, read the cheapest way its layer allows. */
  async digests(files: FileAt[]): Promise<string[]> {
    const out: string[] = new Array(files.length);
    const rest = new Map<number, number[]>();
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      const d = await this.declared(f);
      const hasher = new Bun.CryptoHasher("sha256");
      const what = escapeName(`/${f.entry.path}`);
      const got =
        d &&
        (await this.access.readByToc(
          this.input((c) => void hasher.update(c)),
          f.layer,
          d.toc,
          d.entry,
          what,
        ));
      if (got) out[i] = `sha256:${hasher.digest("hex")}`;
      else rest.set(f.layer, [...(rest.get(f.layer) ?? []), i]);
    }
    for (const [layer, idx] of rest) {
      const entries = idx.map((i) => files[i]!.entry);
      const digest = this.side.img.manifest.image.layers[layer]!.digest;
      const checkpoints = (this.opts.cache?.getLayerIndex(digest)?.checkpoints.length ?? 0) > 0;
      const got = checkpoints && entries.every((e) => e.headerOffset >= 0) ? await this.byCheckpoints(layer, entries) : await this.onePass(layer, entries);
      idx.forEach((i, k) => (out[i] = got[k]!));
    }
    return out;
  }

  /** Each file from the checkpoint before it (gzip layers an earlier run indexed). */
  private async byCheckpoints(layer: number, entries: Entry[]): Promise<string[]> {
    const out: string[] = [];
    for (const entry of entries) {
      const hasher = new Bun.CryptoHasher("sha256");
      const res = await this.access.readEntry(
        this.input((c) => void hasher.update(c)),
        layer,
        entry,
        (e) => e.headerOffset === entry.headerOffset && e.path === entry.path,
      );
      if (!res.got) throw new LayerslayerError("CORRUPT", `layer ${layer}: ${escapeName(`/${entry.path}`)}, which its listing names, was not found in its tar stream`);
      out.push(`sha256:${hasher.digest("hex")}`);
    }
    return out;
  }

  /**
   * The files in one pass from the layer's start. A member is named by the tar offset of its header
   * (one member even where a layer holds a path twice); one listed from a TOC has none, so by its
   * path (the last member of that path: the pass then reads the whole layer).
   */
  private async onePass(layer: number, entries: Entry[]): Promise<string[]> {
    const offsets = new Set(entries.filter((e) => e.headerOffset >= 0).map((e) => e.headerOffset));
    const paths = new Set(entries.filter((e) => e.headerOffset < 0).map((e) => e.path));
    const byOffset = new Map<number, string>();
    const byPath = new Map<string, string>();
    let hasher: Bun.CryptoHasher | undefined;
    const desc = this.side.img.manifest.image.layers[layer]!;
    const listing = listLayer(this.side.img.source, desc, layer, {
      signal: this.opts.signal,
      read: { wantContent: (e) => e.type === "file" && (offsets.has(e.headerOffset) || paths.has(e.path)) },
      onData: ({ entry, chunk, done }) => {
        hasher ??= new Bun.CryptoHasher("sha256");
        hasher.update(chunk);
        if (!done) return false;
        const digest = `sha256:${hasher.digest("hex")}`;
        hasher = undefined;
        if (offsets.has(entry.headerOffset)) byOffset.set(entry.headerOffset, digest);
        if (paths.has(entry.path)) byPath.set(entry.path, digest);
        // The download stops after the last member wanted by its offset.
        return paths.size === 0 && byOffset.size === offsets.size;
      },
    });
    const { stats, error } = await listing.finish();
    this.streamed += stats.bytesDownloaded;
    if (error) throw new LayerslayerError(error.code, `layer ${layer}: ${error.message}`);
    const out = entries.map((e) => (e.headerOffset >= 0 ? byOffset.get(e.headerOffset) : byPath.get(e.path)));
    const missing = out.filter((d) => d === undefined).length;
    if (missing > 0) throw new LayerslayerError("CORRUPT", `layer ${layer}: ${missing} file(s) its listing names were not found in its tar stream`);
    return out as string[];
  }
}

/** Whether each pair's two files hold the same bytes (see the top of this file for how). */
export async function compareContents(a: ContentSide, b: ContentSide, pairs: readonly ContentPair[], opts: ContentOptions = {}): Promise<ContentVerdicts> {
  const ra = new SideReader(a, opts);
  const rb = new SideReader(b, opts);
  const differs: boolean[] = new Array(pairs.length).fill(false);
  const byToc: boolean[] = new Array(pairs.length).fill(false);
  const undecided: number[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    const da = await ra.declared(p.a);
    const db = da && (await rb.declared(p.b));
    const v = da && db ? tocVerdict(da.content, db.content) : undefined;
    if (v === undefined) undecided.push(i);
    else {
      differs[i] = v;
      byToc[i] = true;
    }
  }
  if (undecided.length > 0) {
    const ha = await ra.digests(undecided.map((i) => pairs[i]!.a));
    const hb = await rb.digests(undecided.map((i) => pairs[i]!.b));
    undecided.forEach((i, k) => (differs[i] = ha[k] !== hb[k]));
  }
  return { differs, byToc, bytesDownloaded: ra.bytesDownloaded + rb.bytesDownloaded };
}
