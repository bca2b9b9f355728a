/**
 * A layer's TOC against its tar stream. The TOC's digest in the manifest proves only that the
 * image's author wrote that TOC; a runtime that pulls the layer applies the tar stream. So whenever
 * the stream is read anyway, every entry it holds is matched with the TOC's entry of the same path
 * (in order, for a path given more than once), and any difference (a file the TOC hides, one it
 * invents or renames, another type, size, mode, owner or link target) makes the layer CORRUPT.
 * Memory: the TOC's entries, which are in memory already; the stream's pass through.
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { Entry } from "../types.ts";
import type { LayerToc } from "./types.ts";

function show(path: string): string {
  return escapeName(path === "." ? "/" : `/${path}`);
}

/** What differs between the TOC's entry and the stream's entry of the same path, or undefined. */
function difference(toc: Entry, tar: Entry): string | undefined {
  const say = (what: string, a: unknown, b: unknown) => `the TOC gives it ${what} ${a}, the tar stream ${b}`;
  if (toc.type !== tar.type) return `the TOC says it is a ${toc.type}, the tar stream a ${tar.type}`;
  if (toc.type === "file" && toc.size !== tar.size) return say("size", toc.size, tar.size);
  if (toc.mode !== tar.mode) return say("mode", `0${toc.mode.toString(8)}`, `0${tar.mode.toString(8)}`);
  if (toc.uid !== tar.uid || toc.gid !== tar.gid) return say("owner", `${toc.uid}:${toc.gid}`, `${tar.uid}:${tar.gid}`);
  if ((toc.type === "symlink" || toc.type === "hardlink") && toc.linkname !== tar.linkname) {
    return `the TOC links it to ${escapeName(toc.linkname ?? "")}, the tar stream to ${escapeName(tar.linkname ?? "")}`;
  }
  if ((toc.type === "char" || toc.type === "block") && (toc.devmajor !== tar.devmajor || toc.devminor !== tar.devminor)) {
    return say("device", `${toc.devmajor},${toc.devminor}`, `${tar.devmajor},${tar.devminor}`);
  }
  return undefined;
}

export class TocComparison {
  /** The TOC's entries not matched yet, by path, in TOC order. */
  private readonly pending = new Map<string, Entry[]>();
  private first: string | undefined;
  private differences = 0;
  /** The stream's entry the first difference is about, when the TOC did not list it (a rename, maybe). */
  private unlisted: Entry | undefined;

  constructor(private readonly toc: LayerToc) {
    for (const e of toc.entries) {
      const list = this.pending.get(e.path);
      if (list) list.push(e);
      else this.pending.set(e.path, [e]);
    }
  }

  private differ(what: string): void {
    this.differences++;
    this.first ??= what;
  }

  /** The stream's next entry (the format's own entries left out, as in the TOC). */
  observe(tar: Entry): void {
    const list = this.pending.get(tar.path);
    const toc = list?.shift();
    if (list && list.length === 0) this.pending.delete(tar.path);
    if (!toc) {
      if (this.differences === 0) this.unlisted = tar;
      return this.differ(`the tar stream has ${show(tar.path)}, which the TOC does not list`);
    }
    const d = difference(toc, tar);
    if (d) this.differ(`${show(tar.path)}: ${d}`);
  }

  /** After the stream's last entry: the error when the two differ anywhere, else undefined. */
  finish(): LayerslayerError | undefined {
    for (const [path, list] of this.pending) {
      for (const toc of list) {
        // The first unlisted entry of the stream, given in the TOC under another name: one difference, a rename.
        if (this.unlisted && !difference(toc, { ...this.unlisted, path })) {
          this.first = `the TOC renames ${show(this.unlisted.path)} to ${show(path)}`;
          this.unlisted = undefined;
          continue;
        }
        this.differ(`the TOC lists ${show(path)}, which the tar stream does not have`);
      }
    }
    this.pending.clear();
    if (this.differences === 0) return undefined;
    const name = this.toc.format === "estargz" ? "eStargz" : "zstd:chunked";
    const count = this.differences === 1 ? "" : ` (${this.differences} differences)`;
    return new LayerslayerError("CORRUPT", `the layer's ${name} TOC does not match its tar stream: ${this.first}${count}`);
  }
}
