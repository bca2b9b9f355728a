/**
 * The merged file system of an image as one tar stream, as `crane export` writes it and as
 * `umoci unpack` lays it out: whiteouts applied, opaque directories honoured, later layers winning.
 *
 * Order: every directory, symlink, device and fifo first (from the merged tree, parents before
 * children), then the regular files layer by layer, bottom up, each layer read once from byte 0 to
 * its end (so every layer that gives a file is checked against its digest), then the hard links.
 * A hard link whose target is still the file it named is kept as a link; one whose target a later
 * layer replaced or deleted becomes a regular file with the bytes it linked to. Memory holds the
 * tree and one member's headers, never a file's content (but for such orphaned links, up to
 * MAX_LINK_COPY bytes each).
 */
import { LayerslayerError } from "../errors.ts";
import { listLayer } from "./listing.ts";
import { escapeName } from "../names.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { END_OF_ARCHIVE, memberHeaders, padding, type MemberHeader } from "../tar/writer.ts";
import type { Entry } from "../types.ts";
import type { MergedNode, MergedTree } from "./merge.ts";
import { normalizeEntryPath, ROOT } from "./paths.ts";

export type Write = (chunk: Uint8Array) => void | Promise<void>;

/** An orphaned hard link's content is held in memory to be written under each of its names. */
export const MAX_LINK_COPY = 64 * 1024 * 1024;

export interface ExportOptions {
  signal?: AbortSignal;
  onProgress?: (layer: number, downloaded: number) => void;
}

export interface ExportResult {
  members: number;
  /** The layers read for their files (each read whole and verified). */
  layersRead: number[];
  bytesDownloaded: number;
}

/** What one wanted member of a layer becomes: the paths (and metadata) it is written under. */
interface Wanted {
  entry: Entry;
  outputs: MemberHeader[];
}

const isRegular = (e: Entry) => e.type === "file" || e.type === "contiguous";

function header(node: MergedNode): MemberHeader {
  return { ...node.entry, path: node.path };
}

export async function exportMerged(img: ResolvedImage, tree: MergedTree, write: Write, opts: ExportOptions = {}): Promise<ExportResult> {
  const wanted = new Map<number, Map<number, Wanted>>();
  const links: MemberHeader[] = [];
  let members = 0;
  const want = (layer: number, entry: Entry, out: MemberHeader) => {
    const byOffset = wanted.get(layer) ?? new Map<number, Wanted>();
    wanted.set(layer, byOffset);
    const w = byOffset.get(entry.headerOffset) ?? { entry, outputs: [] };
    byOffset.set(entry.headerOffset, w);
    w.outputs.push(out);
  };
  const emit = async (m: MemberHeader) => {
    for (const b of memberHeaders(m)) await write(b);
    members++;
  };
  for (const node of tree.walk(ROOT)) {
    const e = node.entry;
    if (isRegular(e)) want(node.layer, e, header(node));
    else if (e.type === "hardlink") {
      const target = node.target;
      const at = target ? normalizeEntryPath(target.entry.path) : undefined;
      const now = at !== undefined ? tree.get(at) : undefined;
      if (!target) throw new LayerslayerError("CORRUPT", `/${escapeName(node.path)}: a hard link to ${escapeName(e.linkname ?? "")}, which its layer does not hold`);
      if (now && now.layer === target.layer && now.entry.headerOffset === target.entry.headerOffset) links.push({ ...header(node), linkname: now.path });
      else want(target.layer, target.entry, { ...header(node), type: "file", size: target.entry.size, linkname: "" });
    } else if (e.type !== "pax-global") await emit(header(node));
  }
  const layersRead: number[] = [];
  let bytesDownloaded = 0;
  for (const layer of [...wanted.keys()].sort((a, b) => a - b)) {
    bytesDownloaded += await exportLayerFiles(img, layer, wanted.get(layer)!, write, opts);
    layersRead.push(layer);
    members += [...wanted.get(layer)!.values()].reduce((n, w) => n + w.outputs.length, 0);
  }
  for (const l of links) await emit(l);
  await write(END_OF_ARCHIVE);
  return { members, layersRead, bytesDownloaded };
}

/**
 * Streams the wanted regular files of one layer into the archive, reading the layer whole; CORRUPT
 * when the layer does not verify or lacks a member its listing named. Returns the bytes downloaded.
 */
async function exportLayerFiles(img: ResolvedImage, layer: number, wanted: Map<number, Wanted>, write: Write, opts: ExportOptions): Promise<number> {
  const desc = img.manifest.image.layers[layer]!;
  // A listing from a TOC has no tar offsets: its members are matched by path instead.
  const byPath = [...wanted.values()].some((w) => w.entry.headerOffset < 0) ? new Map([...wanted.values()].map((w) => [normalizeEntryPath(w.entry.path) ?? "", w])) : undefined;
  const find = (e: Entry) => (byPath ? byPath.get(normalizeEntryPath(e.path) ?? "") : wanted.get(e.headerOffset));
  const seen = new Set<Wanted>();
  let current: { w: Wanted; written: number; copy?: Uint8Array[] } | undefined;
  const finish = async (c: NonNullable<typeof current>) => {
    const [first, ...copies] = c.w.outputs;
    if (c.written !== first!.size) throw new LayerslayerError("CORRUPT", `layer ${layer}: /${escapeName(first!.path)} has ${c.written} bytes, its header says ${first!.size}`);
    await write(padding(c.written));
    for (const out of copies) {
      for (const b of memberHeaders(out)) await write(b);
      for (const part of c.copy ?? []) await write(part);
      await write(padding(c.written));
    }
  };
  // Entries and their content come in archive order: an entry, then its data, then the next entry.
  const listing = listLayer(img.source, desc, layer, {
    signal: opts.signal,
    read: { wantContent: (e) => isRegular(e) && find(e) !== undefined },
    onProgress: (p) => opts.onProgress?.(layer, p.downloaded),
    onData: async (ev) => {
      if (!current) return;
      await write(ev.chunk);
      current.written += ev.chunk.byteLength;
      current.copy?.push(ev.chunk.slice());
      if (ev.done) {
        await finish(current);
        current = undefined;
      }
    },
  });
  for await (const entry of listing) {
    const w = isRegular(entry) ? find(entry) : undefined;
    if (!w) continue;
    seen.add(w);
    // The first name gets the bytes as they stream; more names (orphaned hard links) get a copy.
    for (const b of memberHeaders(w.outputs[0]!)) await write(b);
    current = { w, written: 0, ...(w.outputs.length > 1 ? { copy: [] } : {}) };
    if (w.outputs.length > 1 && entry.size > MAX_LINK_COPY)
      throw new LayerslayerError(
        "UNSUPPORTED",
        `layer ${layer}: /${escapeName(w.outputs[1]!.path)} is a hard link to a ${entry.size}-byte file a later layer replaced; export copies at most ${MAX_LINK_COPY} bytes`,
      );
    if (entry.size === 0) {
      await finish(current);
      current = undefined;
    }
  }
  const { stats, error } = listing.result!;
  if (error) throw new LayerslayerError(error.code, `layer ${layer}: ${error.message}`);
  if (!stats.verified) throw new LayerslayerError("CORRUPT", `layer ${layer}: read to its end but not verified against its digest`);
  const missing = [...wanted.values()].filter((w) => !seen.has(w));
  if (missing.length)
    throw new LayerslayerError(
      "CORRUPT",
      `layer ${layer}: ${missing.length} file(s) its listing names are not in its tar stream (first: /${escapeName(missing[0]!.outputs[0]!.path)})`,
    );
  return stats.bytesDownloaded;
}
