/**
 * A path's change between two images as `diff` prints it ("Changed: /etc/hostname: size 4 → 6"),
 * for the command's text output and the browser's diff view. Names are escaped here.
 */
import type { FileChange } from "../analysis/image-diff.ts";
import { escapeName } from "../names.ts";
import type { Entry } from "../types.ts";
import { formatTime, modeString } from "./format.ts";

export const TYPE_WORDS: Record<Entry["type"], string> = {
  file: "file",
  contiguous: "file",
  dir: "directory",
  symlink: "symlink",
  hardlink: "hard link",
  char: "character device",
  block: "block device",
  fifo: "fifo",
  "pax-global": "PAX global header",
};

/** "size 1034 → 1100, mtime … → …": each field that differs, old to new. */
export function fieldText(c: FileChange): string {
  const a = c.a!;
  const b = c.b!;
  const parts = c.fields.map((f) => {
    switch (f) {
      case "type":
        return `type ${TYPE_WORDS[a.type]} → ${TYPE_WORDS[b.type]}`;
      case "size":
        return `size ${a.size} → ${b.size}`;
      case "mode":
        return `mode ${modeString(a.type, a.mode)} → ${modeString(b.type, b.mode)}`;
      case "owner":
        return `owner ${a.uid}:${a.gid} → ${b.uid}:${b.gid}`;
      case "link":
        return `link ${escapeName(a.linkname ?? "")} → ${escapeName(b.linkname ?? "")}`;
      case "device":
        return `device ${a.devmajor ?? 0},${a.devminor ?? 0} → ${b.devmajor ?? 0},${b.devminor ?? 0}`;
      case "mtime":
        return `mtime ${formatTime(a.mtime)} → ${formatTime(b.mtime)}`;
      case "content":
        return c.contentFrom === "toc" ? "content differs (as the layers' TOCs declare it: digests differ, the files were not read)" : "content differs";
    }
  });
  return parts.join(", ");
}

export function changeLine(c: FileChange): string {
  const path = escapeName(c.path);
  const what = (e: Entry | undefined, below: number | undefined) =>
    e ? ` (${TYPE_WORDS[e.type]}${e.type === "dir" ? (below ? `, ${below} paths below` : "") : e.type === "file" ? `, ${e.size} bytes` : ""})` : "";
  if (c.kind === "removed") return `Only in A: ${path}${c.overSharedBase ? " (deleted by B's own layers from the shared layers)" : what(c.a, c.below)}`;
  if (c.kind === "added") return `Only in B: ${path}${c.overSharedBase ? " (deleted by A's own layers from the shared layers)" : what(c.b, c.below)}`;
  if (c.overSharedBase)
    return `Changed: ${path}: written by ${c.a ? `A's layer ${c.layerA}` : `B's layer ${c.layerB}`} over the shared layers (not read, so what they hold there is not compared)`;
  return `Changed: ${path}: ${fieldText(c)}`;
}
