/**
 * Draws a list pane (repositories, search results, tags, platforms) as lines of styled segments,
 * exactly `width` × `height` cells, in the same frame as the image pane (screen.ts). Every name
 * and detail came from a server: each is escaped here.
 */
import { escapeName } from "../names.ts";
import type { ListPane } from "./list-pane.ts";
import { fit, keys, line, plain, type Line } from "./screen.ts";

export const LIST_KEYS = "↑↓ move  Enter open  / filter  ? help  Esc back  q quit";
export const SEARCH_KEYS = "↑↓ move  Enter open  s search  / filter  ? help  Esc back  q quit";

/** The help overlay of a list pane (`?`): what the list is and its keys; a search's has `s`. */
function helpLines(p: ListPane): string[] {
  return [
    `${p.title}: choose one to open`,
    p.opts.search ? "Results of the search, with what the provider says of each" : "Names as the registry gives them, with what is known of each",
    "",
    "↑↓ jk          move (PgUp PgDn a page; g G Home End first and last)",
    "Enter → l      open: a repository's tags, a tag's platforms or its image",
    ...(p.opts.search ? ["s              search for another term"] : []),
    "/              filter: the names and details holding the text (Esc clears)",
    "Esc ← h        back a pane, Backspace too (search, repositories, tags)",
    "q              quit",
    "",
    "In an image, ? shows the image's own keys (layers, tree, files).",
    "",
    "Press any key to close this help.",
  ];
}

export function drawList(p: ListPane, depth: number, width: number, height: number): Line[] {
  const out: Line[] = [line(width, [plain(`layerslayer browse  ${escapeName(p.title)}`, "title")])];
  const shown = p.shown;
  const count = p.loading ? "reading …" : `${shown.length}${p.filter ? ` of ${p.items.length}, filter: ${escapeName(p.filter)}` : ""}`;
  const term = p.term ? `  "${escapeName(p.term)}"` : "";
  out.push(
    line(width, [
      plain(
        fit(`── ${escapeName(p.title)}${term}  ${count} `, width).replace(/ +$/, (s) => "─".repeat(s.length)),
        "title",
      ),
    ]),
  );
  const h = Math.max(1, height - 4);
  if (p.help) {
    const help = helpLines(p);
    for (let i = 0; i < h; i++) out.push(line(width, [plain(help[i] ?? "")]));
    out.push(line(width, [plain("")]));
    out.push(line(width, [plain(keys(p.opts.search ? SEARCH_KEYS : LIST_KEYS, width), "key")]));
    return out.slice(0, height);
  }
  p.height = h;
  if (p.cursor >= p.top + h) p.top = p.cursor - h + 1;
  const nameWidth = Math.min(48, Math.max(12, ...shown.slice(p.top, p.top + h).map((i) => Bun.stringWidth(escapeName(i.label)) + 2)));
  for (let i = 0; i < h; i++) {
    const item = shown[p.top + i];
    if (!item) {
      const empty = i > 0 ? "" : p.loading ? "  reading …" : p.opts.search && !p.term ? "  type what to look for" : p.error ? "" : "  (nothing)";
      out.push(line(width, [plain(empty, "dim")]));
      continue;
    }
    const cursor = p.top + i === p.cursor;
    const name = fit(`${cursor ? "▶ " : "  "}${escapeName(item.label)}`, nameWidth);
    out.push(line(width, [plain(name, cursor ? "cursor" : "plain"), plain(item.detail ? escapeName(item.detail) : "", "dim")]));
  }
  if (p.prompt) out.push(line(width, [plain(p.prompt.label, "key"), plain(`${p.prompt.text}█`)]));
  else {
    const status = p.message || (p.error ? `list ended early: ${p.error}` : depth > 1 ? "Esc goes back" : "");
    out.push(line(width, [plain(escapeName(status), p.error || p.message.startsWith("not opened") ? "error" : "dim")]));
  }
  out.push(line(width, [plain(keys(p.opts.search ? SEARCH_KEYS : LIST_KEYS, width), "key")]));
  return out.slice(0, height);
}
