/** Draws the diff view (diff-view.ts) into the image pane's frame: a heading, the rows, marked as dive colours changes. */
import type { DiffView } from "./diff-view.ts";
import { fit, line, plain, type Line, type Style } from "./screen.ts";

const MARK = { added: "+", modified: "~", removed: "-", none: " " } as const;

/** Draws the heading and the rows into `out`; gives the rows' height (for paging). */
export function drawDiff(d: DiffView, out: Line[], width: number, bodyH: number): number {
  const state = d.loading ? "reading the listings …" : d.error ? "failed" : d.summary;
  out.push(
    line(width, [
      plain(
        fit(`── Diff  ${d.title}  ${state} `, width).replace(/ +$/, (s) => "─".repeat(s.length)),
        "title",
      ),
    ]),
  );
  const h = Math.max(1, bodyH - 1);
  if (d.cursor >= d.top + h) d.top = d.cursor - h + 1;
  for (let i = 0; i < h; i++) {
    const r = d.rows[d.top + i];
    if (!r) {
      out.push(line(width, [plain(i === 0 ? (d.loading ? "  reading …" : d.error ? `  ${d.error}` : "  no difference") : "", d.error ? "error" : "dim")]));
      continue;
    }
    const cursor = d.top + i === d.cursor;
    const style: Style = cursor ? "cursor" : r.change === "none" ? "plain" : r.change;
    out.push(line(width, [plain(`${MARK[r.change]}${cursor ? "▶" : " "}${r.text}`, style)]));
  }
  return h;
}

/** The status line: the change under the cursor as `diff` prints it. */
export function diffStatus(d: DiffView): string {
  if (d.error) return `not compared: ${d.error}`;
  return d.rows[d.cursor]?.status ?? (d.loading ? "reading …" : "");
}
