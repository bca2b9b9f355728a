/**
 * Draws the browser's state as lines of styled segments, exactly `width` × `height` cells. The
 * terminal library only paints them (app.ts); every name from the image was escaped before it
 * got here (state.ts, file-lines.ts) or is escaped here.
 */
import { tocSource } from "../cli/peek-layer.ts";
import { escapeName } from "../names.ts";
import { humanSize } from "../output/format.ts";
import type { LayerInfo } from "./core.ts";
import { diffStatus, drawDiff } from "./diff-screen.ts";
import { show } from "./keys.ts";
import type { Browser } from "./state.ts";
import type { TreeRow } from "./tree-rows.ts";

export type Style = "plain" | "title" | "dim" | "cursor" | "added" | "modified" | "removed" | "key" | "error";
export interface Seg {
  text: string;
  style: Style;
}
export type Line = Seg[];

export const MAIN_KEYS = "Tab pane  ↑↓ move  ←→ fold  Enter view  / filter  c changes  d diff  ? help  q quit";
export const DETAILS_KEYS = "↑↓jk scroll  Esc or i back  ? help  q quit";
export const DIFF_KEYS = "↑↓ move  PgUp/PgDn page  Esc back  ? help  q quit";
export const FILE_KEYS = "↑↓ scroll  / search  n N  m more  p pager  e edit  s save  y copy  Esc back  q quit";

const HELP = [
  "layerslayer browse: an image's layers and files, read without pulling it",
  "Layers (top)   index, compressed size, listing (partial: the first 256K), step",
  "Tree (below)   the merged file system, the selected layer's changes marked:",
  "               + added (green)   ~ modified (yellow)   - removed (red)",
  "",
  "Tab            switch between the layers and the tree",
  "↑↓ jk          move (PgUp PgDn a page; g G Home End first and last)",
  "→ l   ← h      open a directory; close it, or go to its parent",
  "Enter          open a directory; view a file (symlinks followed)",
  "c  d           only the selected layer's changes;  d  a diff (layers, images)",
  "i  o  :        image details;  sort by name / size;  go to a typed path",
  "/              filter by glob: passwd, /etc/*.conf, **/*.so (Esc clears)",
  "s  S  y        save the file;  save the selected layer (verified);  copy path",
  "In a file      / search, n N next/previous, m load more, p $PAGER, e $EDITOR",
  "Esc Backspace  back: leave the viewer, clear the filter, stop reading, back",
  "               a pane (tags, repositories, search results)",
  "q              quit (stops every download)",
  "",
  "Press any key to close this help.",
];

/** Cuts or pads to exactly `width` cells (wide characters counted as two). */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  let w = Bun.stringWidth(text);
  if (w <= width) return text + " ".repeat(width - w);
  let out = "";
  w = 0;
  for (const ch of text) {
    const cw = Bun.stringWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…${" ".repeat(Math.max(0, width - 1 - w))}`;
}

export const plain = (text: string, style: Style = "plain"): Seg => ({ text, style });

/** One line of the given width from segments (the last one cut or padded). */
export function line(width: number, segs: Seg[]): Line {
  const out: Line = [];
  let left = width;
  for (const s of segs) {
    if (left <= 0) break;
    const t = Bun.stringWidth(s.text) > left ? fit(s.text, left) : s.text;
    out.push({ text: t, style: s.style });
    left -= Bun.stringWidth(t);
  }
  if (left > 0) out.push(plain(" ".repeat(left)));
  return out;
}

function stateText(l: LayerInfo): string {
  switch (l.state) {
    // A listing from a TOC is what the TOC declares, not the tar stream's: said as the CLI says it.
    case "complete":
      return `${l.toc ? "TOC" : "complete"} ${l.entries ?? 0}`;
    case "cache":
      return `cache${l.toc ? " TOC" : ""} ${l.entries ?? 0}`;
    case "partial":
      return `partial ${l.entries ?? 0}`;
    case "reading":
      return l.downloaded === undefined ? "reading" : `reading ${Math.min(100, Math.floor((100 * l.downloaded) / Math.max(1, l.size)))}%${l.entries ? ` ${l.entries}` : ""}`;
    case "failed":
      return "failed";
    default:
      return l.state;
  }
}

function layerLine(b: Browser, l: LayerInfo, width: number): Line {
  const cursor = l.index === b.layerCursor;
  const size = humanSize(l.size).padStart(9);
  const state = stateText(l).padEnd(14);
  const head = `${cursor ? (b.focus === "layers" ? "▶" : "•") : " "}${String(l.index).padStart(3)} ${size}  ${state} `;
  const step = escapeName(l.step.replace(/^\/bin\/sh -c (#\(nop\) )?/, "")) || "(no build step)";
  return line(width, [plain(fit(head + step, width), cursor && b.focus === "layers" ? "cursor" : "plain")]);
}

const MARK: Record<TreeRow["change"], string> = { added: "+", modified: "~", removed: "-", none: " " };

function treeLine(b: Browser, r: TreeRow, cursor: boolean, width: number): Line {
  const fold = r.dir ? (r.open ? "▾ " : "▸ ") : "  ";
  const link = r.link !== undefined ? ` → ${escapeName(r.link)}` : "";
  const name = `${"  ".repeat(r.depth)}${fold}${escapeName(r.name)}${r.dir ? "/" : ""}${link}`;
  const size = r.type === "file" || r.type === "contiguous" || r.dir ? humanSize(r.size) : "";
  const right = ` ${size.padStart(9)} L${String(r.layer).padEnd(3)}`;
  // The cursor is marked by a character too, so it shows without colours and in text captures.
  const text = `${MARK[r.change]}${cursor ? "▶" : " "}${fit(name, Math.max(1, width - 2 - right.length))}${right}`;
  const style: Style = cursor && b.focus === "tree" ? "cursor" : r.change === "none" ? "plain" : r.change;
  return line(width, [plain(text, style)]);
}

/** The title line with a warning after the title (cut to the width). */
export function withWarning(title: Line, width: number, warning: string): Line {
  const text = title
    .map((s) => s.text)
    .join("")
    .trimEnd();
  return line(width, [plain(text, "title"), plain(`  ${warning}`, "error")]);
}

/** The status line of the main view: what is under the cursor, or the last message. */
function status(b: Browser): string {
  if (b.message) return b.message;
  const toc = b.focus === "layers" ? b.image.layers[b.layerCursor]?.toc : undefined;
  if (toc) return `layer ${b.layerCursor} is listed ${tocSource(toc)}`;
  const r = b.rows[b.treeCursor];
  if (!r) return b.listing ? "reading layers …" : "(empty)";
  const step = b.image.layers[r.layer]?.step ?? "";
  const what = r.change === "removed" ? `removed in layer ${r.layer}` : `from layer ${r.layer}`;
  return `${show(r.path)}  ${r.type}${r.dir ? "" : ` ${humanSize(r.size)}`}  ${what}: ${escapeName(step.replace(/^\/bin\/sh -c (#\(nop\) )?/, "")) || "-"}`;
}

/** The footer's keys, two spaces between them, one when the line is narrow ("q quit" kept last). */
export function keys(text: string, width: number): string {
  return text.length <= width ? text : text.replaceAll("  ", " ");
}

export function draw(b: Browser, width: number, height: number): Line[] {
  const out: Line[] = [];
  const title = `layerslayer browse  ${escapeName(b.image.reference)}  ${b.image.layers.length} layers`;
  out.push(line(width, [plain(title, "title")]));
  const bodyH = Math.max(1, height - 3);
  if (b.help) {
    for (let i = 0; i < bodyH; i++) out.push(line(width, [plain(HELP[i] ?? "")]));
  } else if (b.view === "file" && b.file) drawFile(b, out, width, bodyH);
  else if (b.view === "diff" && b.diff) b.bodyHeight = drawDiff(b.diff, out, width, bodyH);
  else if (b.view === "details" && b.details) {
    b.bodyHeight = bodyH;
    for (let i = 0; i < bodyH; i++) out.push(line(width, [plain(b.details.lines[b.details.top + i] ?? "")]));
  } else drawMain(b, out, width, bodyH);
  // Status (or the prompt) and the keys.
  if (b.prompt) out.push(line(width, [plain(b.prompt.label, "key"), plain(`${b.prompt.text}█`)]));
  else
    out.push(
      line(width, [
        plain(
          b.view === "file" ? b.message || fileStatus(b) : b.view === "details" ? "image details" : b.view === "diff" && b.diff ? diffStatus(b.diff) : status(b),
          b.message.startsWith("not saved") || (b.view === "diff" && b.diff?.error) ? "error" : "dim",
        ),
      ]),
    );
  const footer = b.view === "file" ? FILE_KEYS : b.view === "details" ? DETAILS_KEYS : b.view === "diff" ? DIFF_KEYS : MAIN_KEYS;
  out.push(line(width, [plain(keys(footer, width), "key")]));
  return out.slice(0, height);
}

function drawMain(b: Browser, out: Line[], width: number, bodyH: number): void {
  const layers = b.image.layers;
  const layerH = Math.max(1, Math.min(layers.length, Math.floor((bodyH - 2) / 3)));
  if (b.layerCursor < b.layerTop) b.layerTop = b.layerCursor;
  if (b.layerCursor >= b.layerTop + layerH) b.layerTop = b.layerCursor - layerH + 1;
  const e = b.efficiency;
  const m = b.mergedLayers;
  const merged = `${m.complete}/${layers.length} layers merged${m.partial ? `, ${m.partial} in part` : ""}${e ? ` · efficiency ${(e.efficiency * 100).toFixed(1)} %, ${humanSize(e.wastedBytes)} wasted` : ""}`;
  out.push(
    line(width, [
      plain(
        fit(`── Layers  ${merged} `, width).replace(/ +$/, (s) => "─".repeat(s.length)),
        "title",
      ),
    ]),
  );
  for (let i = 0; i < layerH; i++) {
    const l = layers[b.layerTop + i];
    out.push(l ? layerLine(b, l, width) : line(width, []));
  }
  const view = `${b.mode === "merged" ? `merged file system, layer ${b.layerCursor}'s changes coloured` : `changes in layer ${b.layerCursor} only`}${b.sort === "size" ? ", by size" : ""}`;
  const filter = b.filter ? `  filter: ${escapeName(b.filter.text)} (${b.rows.length})` : "";
  out.push(
    line(width, [
      plain(
        fit(`── Tree  ${view}${filter} `, width).replace(/ +$/, (s) => "─".repeat(s.length)),
        "title",
      ),
    ]),
  );
  const treeH = Math.max(1, bodyH - layerH - 2);
  b.treeHeight = treeH;
  if (b.treeCursor >= b.treeTop + treeH) b.treeTop = b.treeCursor - treeH + 1;
  for (let i = 0; i < treeH; i++) {
    const r = b.rows[b.treeTop + i];
    if (r) out.push(treeLine(b, r, b.treeTop + i === b.treeCursor, width));
    else if (i === 0) out.push(line(width, [plain(b.listing ? "  reading layers …" : b.filter ? "  nothing matches" : "  (empty)", "dim")]));
    else out.push(line(width, []));
  }
}

function fileStatus(b: Browser): string {
  const f = b.file!;
  if (f.error) return f.error;
  if (f.loading) return `reading ${show(f.target)} …`;
  const shown = f.truncated ? `first ${humanSize(f.limit)} of ${humanSize(f.size)}` : humanSize(f.size);
  const s = f.search;
  if (s) {
    const found = s.matches.length === 0 ? "not found" : `match ${s.at + 1} of ${s.matches.length} (line ${s.matches[s.at]! + 1})`;
    return `/${escapeName(s.text)}: ${found}${f.truncated ? ` in the first ${humanSize(f.limit)}` : ""}`;
  }
  return `${f.binary ? "binary (hex)" : `${f.lines.length} lines`}, ${shown}  from layer ${f.layer}`;
}

function drawFile(b: Browser, out: Line[], width: number, bodyH: number): void {
  const f = b.file!;
  const via = f.target !== f.path ? ` → ${show(f.target)}` : "";
  out.push(line(width, [plain(`── ${show(f.path)}${via}  ${humanSize(f.size)}  layer ${f.layer} `, "title")]));
  const h = Math.max(1, bodyH - 1);
  b.bodyHeight = h;
  const body = f.error ? [`  ${f.error}`] : f.loading && f.lines.length === 0 ? ["  reading …"] : f.lines;
  const matches = new Set(f.search?.matches);
  const current = f.search?.matches[f.search.at];
  for (let i = 0; i < h; i++) {
    const n = f.top + i;
    if (n < body.length) out.push(line(width, [plain(body[n]!, f.error ? "error" : n === current ? "cursor" : matches.has(n) ? "modified" : "plain")]));
    else if (n === body.length && f.truncated) out.push(line(width, [plain(`── first ${humanSize(f.limit)} of ${humanSize(f.size)} shown: press m to load more ──`, "key")]));
    else out.push(line(width, []));
  }
}
