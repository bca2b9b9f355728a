/**
 * The diff view (`d`): what changed from A to B (two layers of the image, or the image and another
 * one), computed by the `diff` command's analysis through core.ts and shown as a tree: the changed
 * paths under their directories, marked as dive colours them (+ added, ~ modified, - removed),
 * then the config's changes. Leaving the view stops the listings it is reading.
 */
import type { FileChange, ImageDiff } from "../analysis/image-diff.ts";
import { escapeName } from "../names.ts";
import { changeLine } from "../output/diff-text.ts";
import type { Context } from "../cli/common.ts";
import type { Platform } from "../oci/manifest.ts";
import { diffOf, type OpenedImage } from "./core.ts";
import type { Change } from "./tree-rows.ts";

export interface DiffRow {
  /** What the row shows, indented, escaped. */
  text: string;
  change: Change;
  /** The status line for the row: the change as `diff` prints it. */
  status: string;
}

const KIND: Record<FileChange["kind"], Change> = { added: "added", removed: "removed", modified: "modified" };

/** The rows of a diff: each changed path under its parent directories (in `diff`'s path order), then the config. */
export function diffRows(d: ImageDiff): DiffRow[] {
  const rows: DiffRow[] = [];
  const shown = new Set<string>();
  for (const c of d.paths) {
    const parts = c.path.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join("/")}`;
      if (shown.has(dir)) continue;
      shown.add(dir);
      rows.push({ text: `${"  ".repeat(i - 1)}${escapeName(parts[i - 1]!)}/`, change: "none", status: escapeName(dir) });
    }
    shown.add(c.path);
    const entry = c.b ?? c.a;
    const below = c.below ? `  (${c.below} paths below)` : "";
    rows.push({
      text: `${"  ".repeat(parts.length - 1)}${escapeName(parts.at(-1) ?? "/")}${entry?.type === "dir" ? "/" : ""}${below}`,
      change: KIND[c.kind],
      status: changeLine(c),
    });
  }
  for (const c of d.config) {
    const line = `Config: ${escapeName(c.key)}: ${c.a === undefined ? "(none)" : escapeName(c.a)} → ${c.b === undefined ? "(none)" : escapeName(c.b)}`;
    rows.push({ text: line, change: c.a === undefined ? "added" : c.b === undefined ? "removed" : "modified", status: line });
  }
  return rows;
}

/** Opens another image by its reference, on a platform (the navigator gives it). */
export type OpenOther = (reference: string, platform: Platform | undefined) => Promise<OpenedImage>;

/**
 * The diff `d` asks for: a layer number compares that layer (A) with the selected one (B), each
 * layer's own changes; a reference compares this image (A) with that one (B), on this image's
 * platform. A string is the reason there is none.
 */
export function diffAsked(
  text: string,
  ctx: Context,
  image: OpenedImage,
  selected: number,
  openOther: OpenOther | undefined,
): { title: string; run: (signal: AbortSignal) => Promise<ImageDiff> } | string {
  const layers = image.layers.length;
  if (text === "") return "nothing to compare with";
  if (/^\d+$/.test(text)) {
    const m = Number(text);
    if (m >= layers) return `the image has no layer ${m} (0-${layers - 1})`;
    return { title: `layer ${m} → layer ${selected}`, run: (signal) => diffOf(ctx, { image, layer: m }, { image, layer: selected }, signal) };
  }
  if (!openOther) return "no other image can be opened here";
  return {
    title: `${escapeName(image.reference)} → ${escapeName(text)}`,
    run: async (signal) => diffOf(ctx, { image }, { image: await openOther(text, image.img.platform) }, signal),
  };
}

export class DiffView {
  rows: DiffRow[] = [];
  cursor = 0;
  top = 0;
  loading = true;
  error?: string;
  /** "3 paths, 1 config change; shared layers 0-1 not read". */
  summary = "";
  private readonly abort = new AbortController();

  constructor(
    /** "layer 1 → layer 2", "A → B" (escaped). */
    readonly title: string,
    private readonly run: (signal: AbortSignal) => Promise<ImageDiff>,
    private readonly changed: () => void,
  ) {}

  async load(): Promise<void> {
    try {
      const d = await this.run(this.abort.signal);
      this.rows = diffRows(d);
      const shared = d.shared.length ? `; ${d.shared.length} shared layer${d.shared.length === 1 ? "" : "s"}${d.sharedRead ? " (from the cache)" : " not read"}` : "";
      this.summary = d.paths.length + d.config.length === 0 ? "the same" : `${d.paths.length} paths, ${d.config.length} config changes${shared}`;
    } catch (e) {
      if (!this.abort.signal.aborted) this.error = e instanceof Error ? e.message : String(e);
    }
    this.loading = false;
    this.changed();
  }

  move(d: number, height: number): void {
    this.cursor = Math.max(0, Math.min(this.rows.length - 1, this.cursor + d));
    if (this.cursor < this.top) this.top = this.cursor;
    if (this.cursor >= this.top + height) this.top = this.cursor - height + 1;
  }

  close(): void {
    this.abort.abort();
  }
}
