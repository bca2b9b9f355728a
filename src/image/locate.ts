import type { Entry } from "../types.ts";
import { classifyMember, cleanPath, isAtOrUnder, isUnder, parentOf, ROOT } from "./paths.ts";

/**
 * What one layer does to a path, for reading a file from the top layer down without a merged view
 * of the whole image (so `cat` can stop downloading as soon as it has the file):
 *   file     the layer holds the path as a regular file (its content is in this layer)
 *   hardlink the layer holds it as a hard link: the content is the target's, in this same layer
 *   redirect a symlink at the path or at a parent: look again for `next`, from the top layer
 *   dir      the path is a directory here
 *   notdir   a parent is a file here, so the path cannot exist
 *   deleted  a whiteout here removes the path or a parent from lower layers
 *   hidden   an opaque marker here hides a parent's lower contents
 *   none     the layer does not touch the path: look in the layer below
 * An entry of the layer at the path or at a parent wins over the layer's own whiteouts, which
 * only act on lower layers. What a member is and where it sits comes from paths.ts, as for ls.
 */
export type Outcome =
  | { kind: "file"; entry: Entry }
  | { kind: "hardlink"; entry: Entry; target: string }
  | { kind: "redirect"; entry: Entry; next: string }
  | { kind: "dir"; entry: Entry }
  | { kind: "notdir"; entry: Entry }
  | { kind: "deleted"; by: string }
  | { kind: "hidden"; by: string }
  | { kind: "none" };

/** Where a symlink at `linkPath` with target `target` leads, with `rest` appended. */
export function followLink(linkPath: string, target: string, rest: string): string {
  const base = target.startsWith("/") ? "" : (parentOf(linkPath) ?? "");
  const joined = [base === ROOT ? "" : base, target, rest].filter((s) => s !== "").join("/");
  return cleanPath(joined);
}

/** Watches one layer's entries (in tar order) for one path. */
export class LayerProbe {
  private exact: Entry | undefined;
  /** The shallowest parent that is a symlink or not a directory in this layer. */
  private blocker: Entry | undefined;
  private deletedBy: string | undefined;
  private hiddenBy: string | undefined;

  constructor(readonly path: string) {}

  /** Looks at an entry; true when its content is the file wanted (stream it now). */
  observe(e: Entry): boolean {
    const p = this.path;
    const m = classifyMember(e);
    if (m.kind === "whiteout") {
      if (isAtOrUnder(p, m.target)) this.deletedBy ??= m.path;
      return false;
    }
    if (m.kind === "opaque") {
      if (isUnder(p, m.target)) this.hiddenBy ??= m.path;
      return false;
    }
    if (m.kind !== "entry") return false;
    if (m.path === p) {
      this.exact = { ...e, path: m.path };
      return !this.blocker && (e.type === "file" || e.type === "contiguous");
    }
    if (isUnder(p, m.path) && e.type !== "dir") {
      if (!this.blocker || m.path.length < this.blocker.path.length) this.blocker = { ...e, path: m.path };
    }
    return false;
  }

  /**
   * True once a symlink (at the path or a parent) or a hard link at the path decides where the
   * content is: `cat` stops reading the layer there, as it stops after a file's content (a later
   * member of the same layer with the same name is not looked for).
   */
  settled(): boolean {
    if (this.blocker) return this.blocker.type === "symlink";
    return this.exact?.type === "symlink" || this.exact?.type === "hardlink";
  }

  outcome(): Outcome {
    const b = this.blocker;
    if (b) {
      if (b.type === "symlink") return { kind: "redirect", entry: b, next: followLink(b.path, b.linkname ?? "", this.path.slice(b.path.length + 1)) };
      return { kind: "notdir", entry: b };
    }
    const e = this.exact;
    if (e) {
      if (e.type === "symlink") return { kind: "redirect", entry: e, next: followLink(e.path, e.linkname ?? "", "") };
      if (e.type === "hardlink") return { kind: "hardlink", entry: e, target: e.linkname ?? "" };
      if (e.type === "dir") return { kind: "dir", entry: e };
      return { kind: "file", entry: e };
    }
    if (this.deletedBy) return { kind: "deleted", by: this.deletedBy };
    if (this.hiddenBy) return { kind: "hidden", by: this.hiddenBy };
    return { kind: "none" };
  }
}

/** The outcome of a layer whose whole listing is known (e.g. from the cache). */
export function probeListing(path: string, entries: Iterable<Entry>): Outcome {
  const probe = new LayerProbe(path);
  for (const e of entries) probe.observe(e);
  return probe.outcome();
}
