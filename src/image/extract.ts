import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import type { TocFormat } from "../toc/index.ts";
import type { Entry } from "../types.ts";
import { LayerAccess, type AccessOptions, type FileRead, type Sink } from "./layer-access.ts";
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
  /** The layer that held the file was read to its end and hashed to its digest. */
  verified: boolean;
}

/** What `extractFile` takes: how the run reads layers (layer-access.ts). */
export type ExtractOptions = AccessOptions;

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
 * without a download; otherwise the layer is read only until the file's content is complete
 * (unverified), or with `verify` to its end (verified, or CORRUPT).
 */
export async function extractFile(img: ResolvedImage, asked: string, sink: Sink, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const read: FileRead = { img, sink, opts };
  const access = new LayerAccess();
  try {
    return await locateFile(read, asked, access);
  } finally {
    access.save(read);
  }
}

/** The search itself: top layer down, following symlinks, reading the file through `access`. */
async function locateFile(read: FileRead, asked: string, access: LayerAccess): Promise<ExtractResult> {
  const { img, opts } = read;
  const layers = img.manifest.image.layers;
  const start = cleanPath(asked);
  let path = start;
  let hops = 0;
  const done = (index: number, entry: Entry, extra: Partial<ExtractResult> = {}): ExtractResult => {
    if (opts.verify && !extra.verified) throw new LayerslayerError("CORRUPT", `layer ${index}: read to its end but not verified`);
    return { ...result(index, entry), verified: false, ...extra };
  };
  const result = (index: number, entry: Entry): Omit<ExtractResult, "verified"> => ({
    path,
    layer: index,
    entry,
    size: entry.size,
    bytesDownloaded: access.spentOn(index),
    totalDownloaded: access.total,
    layerSize: layers[index]!.size,
  });

  const fail = (code: "NOT_FOUND" | "USAGE", why: string) => new LayerslayerError(code, `${show(start)}${start === path ? "" : ` (${show(path)})`}: ${why}`);
  // Layers whose say on the path came from what their TOC declares (not their tar streams), for the error.
  const byToc = new Set<number>();
  const asDeclared = (layers: number[]) =>
    layers.length === 0
      ? ""
      : ` (as ${layers.length === 1 ? `layer ${layers[0]}'s TOC declares it` : `the TOCs of layers ${layers.join(", ")} declare it`}; --verify reads the tar stream)`;
  for (;;) {
    let redirected = false;
    for (let index = layers.length - 1; index >= 0; index--) {
      const stored = access.complete.has(index) ? undefined : opts.cache?.getListing(layers[index]!.digest);
      // Verifying trusts no TOC: a listing only a TOC declares does not decide where the file is.
      const cached = opts.verify && stored?.stats.toc ? undefined : stored;
      let known = access.complete.get(index) ?? cached?.entries;
      if (!known && !opts.verify && (await access.toc(read, index))) known = access.complete.get(index);
      let outcome: Outcome | undefined;
      let got: Entry | undefined;
      let gotVerified = false;
      if (known) {
        outcome = probeListing(path, known);
        if (known === access.knownToc(index)?.entries || (known === cached?.entries && cached.stats.toc)) byToc.add(index);
      } else {
        // A layer read up to some point in this run: what it showed may settle the path already.
        const prefix = access.prefixOf(read, index);
        const early = prefix ? probeListing(path, prefix) : undefined;
        if (early && (early.kind === "file" || early.kind === "hardlink" || early.kind === "redirect")) {
          outcome = early;
          known = prefix;
        } else {
          const probe = new LayerProbe(path);
          const res = await access.pass(
            read,
            index,
            (e) => probe.observe(e),
            () => probe.settled(),
          );
          got = res.got;
          gotVerified = res.verified;
          outcome = got ? { kind: "file", entry: got } : probe.outcome();
          known = access.complete.get(index) ?? access.prefixes.get(index);
          if (!got && !res.complete && !probe.settled()) throw new LayerslayerError("CORRUPT", `layer ${index}: the tar archive ends without its end-of-archive marker`);
        }
      }
      switch (outcome.kind) {
        case "none":
          continue;
        case "file":
        case "hardlink": {
          if (got) return done(index, got, { verified: gotVerified });
          let target = outcome.kind === "file" ? outcome.entry : undefined;
          let name = outcome.kind === "hardlink" ? (normalizeEntryPath(outcome.target) ?? "") : path;
          // A hard link names an earlier member of the same layer (itself possibly a link).
          for (let n = 0; !target && n < MAX_SYMLINK_HOPS; n++) {
            const list = known ?? [];
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
          const toc = access.knownToc(index) ?? (cached?.stats.toc ? await access.toc(read, index) : undefined);
          const byToc = toc && target && !opts.verify ? await access.readByToc(read, index, toc, target, show(target.path)) : undefined;
          if (byToc && target) return done(index, target, { toc: { format: toc!.format, checked: byToc.checked } });
          const isIt = (e: Entry) => isRegular(e) && isAt(e, wanted);
          // Verifying reads the layer from byte 0 to its end; otherwise from the nearest checkpoint.
          const streamed = target && !opts.verify ? await access.readEntry(read, index, target, isIt) : await access.pass(read, index, isIt);
          if (!streamed.got) throw new LayerslayerError("CORRUPT", `${show(path)}: layer ${index} has no data for it (hard link target ${show(wanted)} missing)`);
          return done(index, streamed.got, { verified: streamed.verified });
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
          throw fail("NOT_FOUND", `${show(outcome.entry.path)} is not a directory${asDeclared(byToc.has(index) ? [index] : [])}`);
        case "deleted":
          throw fail("NOT_FOUND", `deleted in layer ${index}${asDeclared(byToc.has(index) ? [index] : [])}`);
        case "hidden":
          throw fail("NOT_FOUND", `hidden by an opaque directory in layer ${index}${asDeclared(byToc.has(index) ? [index] : [])}`);
      }
      if (redirected) break;
    }
    if (!redirected) throw fail("NOT_FOUND", `no such file in the image${asDeclared([...byToc].sort((a, b) => a - b))}`);
  }
}
