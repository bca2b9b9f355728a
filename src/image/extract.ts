import { RangeReader } from "../blob/range.ts";
import { LayerslayerError } from "../errors.ts";
import { streamLayer } from "../layer/stream.ts";
import { escapeName } from "../output/format.ts";
import type { ResolvedImage } from "../source/resolve.ts";
import { isForeignLayer } from "../registry/manifest.ts";
import { findToc, readTocContent, tocLayerStats, type LayerToc, type TocFormat, type TocSearch } from "../toc/index.ts";
import type { Entry } from "../types.ts";
import type { ListingStore } from "./load.ts";
import { LayerProbe, probeListing, type Outcome } from "./locate.ts";
import { cleanPath, normalizeEntryPath, ROOT } from "./paths.ts";
import { MAX_SYMLINK_HOPS } from "./resolve.ts";

export interface ExtractResult {
  /** The path read after following symlinks. */
  path: string;
  layer: number;
  entry: Entry;
  size: number;
  /** Compressed bytes downloaded for the layer that held the file (its listing pass included). */
  bytesDownloaded: number;
  /** Compressed bytes downloaded in all, upper layers' listings included. */
  totalDownloaded: number;
  layerSize: number;
  /**
   * Set when the content was read by the layer's TOC chunks; `checked` is true when every byte was
   * checked against a digest the TOC gives (otherwise the bytes are unverified).
   */
  toc?: { format: TocFormat; checked: boolean };
}

export interface ExtractOptions {
  cache?: ListingStore;
  signal?: AbortSignal;
  /** Told when a layer's announced TOC cannot be used (the layer is then read the ordinary way). */
  onWarning?: (message: string) => void;
}

type Sink = (chunk: Uint8Array) => void | Promise<void>;

/** What `cat` says an entry is when it is not a regular file. */
const TYPE_WORDS: Record<Entry["type"], string> = {
  file: "a regular file",
  contiguous: "a regular file",
  dir: "a directory",
  symlink: "a symbolic link",
  hardlink: "a hard link",
  char: "a character device",
  block: "a block device",
  fifo: "a fifo",
  "pax-global": "a PAX global header",
};

const isRegular = (e: Entry): boolean => e.type === "file" || e.type === "contiguous";

/** The member is at clean path `p` (the member's own name cleaned by the rules every view uses). */
const isAt = (e: Entry, p: string): boolean => e.path === p || normalizeEntryPath(e.path) === p;

function show(p: string): string {
  return escapeName(p === ROOT ? "/" : `/${p}`);
}

/**
 * Reads one file of the merged image, from the top layer down, following the image's symlinks and
 * honouring whiteouts, and streams its bytes to `sink`. A layer whose listing is cached is checked
 * without a download; otherwise the layer is read only until the file's content is complete.
 */
export async function extractFile(img: ResolvedImage, asked: string, sink: Sink, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const layers = img.manifest.image.layers;
  const seen = new Map<number, Entry[]>(); // complete listings read during this call
  const start = cleanPath(asked);
  let path = start;
  let hops = 0;
  let total = 0;

  /** Streams layer `index` until the content of the first entry `want` takes ends (or to the end, collecting the listing). */
  const pass = async (index: number, want: (e: Entry) => boolean): Promise<{ got?: Entry; downloaded: number; size: number }> => {
    const desc = layers[index]!;
    const entries: Entry[] = [];
    let got: Entry | undefined;
    const gen = streamLayer(img.source, desc, index, {
      wantContent: want,
      ...(opts.signal ? { signal: opts.signal } : {}),
      firstChunk: 64 * 1024,
      stopAfterContent: true,
    });
    let result;
    for (;;) {
      const next = await gen.next();
      if (next.done) {
        result = next.value;
        break;
      }
      const ev = next.value;
      if (ev.kind === "entry") entries.push(ev.entry);
      else {
        await sink(ev.chunk);
        if (ev.done) got = ev.entry;
      }
    }
    const stats = result?.stats;
    total += stats?.bytesDownloaded ?? 0;
    // The layer's cost includes the tail read that looked for a TOC.
    const downloaded = (stats?.bytesDownloaded ?? 0) + (tocs.get(index)?.spent ?? 0);
    if (result?.error) throw new LayerslayerError(result.error.code, `layer ${index}: ${result.error.message}`);
    if (!got && stats?.complete) {
      seen.set(index, entries);
      opts.cache?.putListing(stats, entries);
    }
    if (!got && stats && !stats.complete) throw new LayerslayerError("CORRUPT", `layer ${index}: the tar archive ends without its end-of-archive marker`);
    return { ...(got ? { got } : {}), downloaded, size: stats?.layerSize ?? desc.size };
  };

  const tocs = new Map<number, { toc?: LayerToc; spent: number }>(); // TOCs looked for during this call
  const blobOf = (index: number) => ({ source: img.source, digest: layers[index]!.digest, size: layers[index]!.size });

  /** The layer's TOC, looked for once per call: a small tail read (or the annotations), then the TOC. */
  const tocOf = async (index: number): Promise<LayerToc | undefined> => {
    const had = tocs.get(index);
    if (had) return had.toc;
    const desc = layers[index]!;
    const ranges = new RangeReader(blobOf(index), opts.signal);
    let search: TocSearch = {};
    if (!isForeignLayer(desc)) {
      try {
        search = await findToc((s, e) => ranges.read(s, e), desc);
      } catch (e) {
        // An unreadable tail: the ordinary read says what is wrong, if anything.
        if (!(e instanceof LayerslayerError)) throw e;
      }
    }
    total += ranges.bytesDownloaded;
    if (search.warning) opts.onWarning?.(`layer ${index}: ${search.warning}`);
    tocs.set(index, { ...(search.toc ? { toc: search.toc } : {}), spent: ranges.bytesDownloaded });
    if (search.toc) {
      for (const e of search.toc.entries) e.layer = index;
      seen.set(index, search.toc.entries);
      opts.cache?.putListing(tocLayerStats(desc, search.toc, ranges.bytesDownloaded), search.toc.entries);
    }
    return search.toc;
  };

  /** Streams a regular file of a TOC layer to `sink` by its chunks; undefined when the TOC has no content for it. */
  const viaToc = async (index: number, toc: LayerToc, entry: Entry): Promise<{ downloaded: number; checked: boolean } | undefined> => {
    const own = toc.content.has(entry) ? entry : toc.entries.findLast((e) => e.path === entry.path && e.type === entry.type);
    const content = own && toc.content.get(own);
    if (!content) return undefined;
    const ranges = new RangeReader(blobOf(index), opts.signal);
    const gen = readTocContent((s, e) => ranges.read(s, e), toc.format, content, show(entry.path));
    try {
      for (;;) {
        const next = await gen.next();
        if (next.done) return { downloaded: (tocs.get(index)?.spent ?? 0) + ranges.bytesDownloaded, checked: next.value.checked };
        await sink(next.value);
      }
    } catch (e) {
      if (e instanceof LayerslayerError) throw new LayerslayerError(e.code, `layer ${index}: ${e.message}`);
      throw e;
    } finally {
      total += ranges.bytesDownloaded;
    }
  };

  const fail = (code: "NOT_FOUND" | "USAGE", why: string) => new LayerslayerError(code, `${show(start)}${start === path ? "" : ` (${show(path)})`}: ${why}`);
  for (;;) {
    let redirected = false;
    for (let index = layers.length - 1; index >= 0; index--) {
      const cached = seen.has(index) ? undefined : opts.cache?.getListing(layers[index]!.digest);
      let known = seen.get(index) ?? cached?.entries;
      if (!known && (await tocOf(index))) known = seen.get(index);
      let outcome: Outcome;
      let streamed: { got?: Entry; downloaded: number; size: number } | undefined;
      if (known) outcome = probeListing(path, known);
      else {
        const probe = new LayerProbe(path);
        streamed = await pass(index, (e) => probe.observe(e));
        outcome = streamed.got ? { kind: "file", entry: streamed.got } : probe.outcome();
      }
      switch (outcome.kind) {
        case "none":
          continue;
        case "file":
        case "hardlink": {
          let target = outcome.kind === "file" ? outcome.entry : undefined;
          if (streamed?.got) return { path, layer: index, entry: streamed.got, size: streamed.got.size, bytesDownloaded: streamed.downloaded, totalDownloaded: total, layerSize: streamed.size };
          let name = outcome.kind === "hardlink" ? (normalizeEntryPath(outcome.target) ?? "") : path;
          // A hard link names an earlier member of the same layer (itself possibly a link).
          for (let n = 0; !target && n < MAX_SYMLINK_HOPS; n++) {
            const list = seen.get(index) ?? known ?? [];
            const t = list.find((e) => isAt(e, name) && e.type !== "hardlink") ?? list.find((e) => isAt(e, name));
            if (!t) break;
            if (t.type === "hardlink") name = normalizeEntryPath(t.linkname ?? "") ?? "";
            else target = t;
          }
          const wanted = target ? (normalizeEntryPath(target.path) ?? name) : name;
          if (target && !isRegular(target)) {
            const what = TYPE_WORDS[target.type];
            throw fail("USAGE", outcome.kind === "hardlink" ? `is a hard link to ${show(wanted)}, which is ${what}` : `is ${what}`);
          }
          const toc = tocs.get(index)?.toc ?? (cached?.stats.toc ? await tocOf(index) : undefined);
          const read = toc && target ? await viaToc(index, toc, target) : undefined;
          if (read && target) {
            return { path, layer: index, entry: target, size: target.size, bytesDownloaded: read.downloaded, totalDownloaded: total, layerSize: layers[index]!.size, toc: { format: toc!.format, checked: read.checked } };
          }
          const res = await pass(index, (e) => isRegular(e) && isAt(e, wanted));
          if (!res.got) throw new LayerslayerError("CORRUPT", `${show(path)}: layer ${index} has no data for it (hard link target ${show(wanted)} missing)`);
          return { path, layer: index, entry: res.got, size: res.got.size, bytesDownloaded: res.downloaded, totalDownloaded: total, layerSize: res.size };
        }
        case "redirect":
          hops++;
          if (hops > MAX_SYMLINK_HOPS) throw new LayerslayerError("CORRUPT", `${show(start)}: too many levels of symbolic links`);
          path = outcome.next;
          redirected = true;
          break;
        case "dir":
          throw fail("USAGE", "is a directory");
        case "notdir":
          throw fail("NOT_FOUND", `${show(outcome.entry.path)} is not a directory`);
        case "deleted":
          throw fail("NOT_FOUND", `deleted in layer ${index}`);
        case "hidden":
          throw fail("NOT_FOUND", `hidden by an opaque directory in layer ${index}`);
      }
      if (redirected) break;
    }
    if (!redirected) throw fail("NOT_FOUND", "no such file in the image");
  }
}
