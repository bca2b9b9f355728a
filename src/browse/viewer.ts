/**
 * The file viewer's state: which file, how much of it is read, the lines to show, where the view
 * is. Reading goes through core.ts (the first `limit` bytes; "load more" reads four times as
 * much); leaving the viewer aborts a read under way.
 */
import type { Context } from "../cli/common.ts";
import { LayerslayerError } from "../errors.ts";
import { readFileHead, type OpenedImage } from "./core.ts";
import { hexLines, isBinary, textLines } from "./file-lines.ts";

/** Bytes shown of a file at first; "load more" reads four times as much each time. */
export const FIRST_PART = 64 * 1024;

export interface FileView {
  /** Clean path asked for, and the one read after following symlinks. */
  path: string;
  target: string;
  size: number;
  layer: number;
  limit: number;
  lines: string[];
  binary: boolean;
  truncated: boolean;
  loading: boolean;
  top: number;
  error?: string;
  /** A search in the file (`/`): the text, the lines that have it, the one shown (an index into `matches`). */
  search?: { text: string; matches: number[]; at: number } | undefined;
}

/** The text of a viewer line without its number (a hex line is searched whole). */
function bodyOf(line: string): string {
  const bar = line.indexOf(" │ ");
  return bar >= 0 ? line.slice(bar + 3) : line;
}

export class Viewer {
  readonly view: FileView;
  private abort?: AbortController;

  constructor(
    private readonly ctx: Context,
    private readonly image: OpenedImage,
    file: { path: string; target: string; size: number; layer: number; error?: string },
    private readonly changed: () => void,
  ) {
    this.view = { ...file, limit: FIRST_PART, lines: [], binary: false, truncated: false, loading: file.error === undefined, top: 0 };
  }

  /** Reads the first `limit` bytes of the file (again) and makes its lines. */
  async load(): Promise<void> {
    const f = this.view;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    f.loading = true;
    this.changed();
    try {
      const head = await readFileHead(this.ctx, this.image, f.target, f.limit, abort.signal);
      if (abort.signal.aborted) return;
      f.binary = isBinary(head.bytes);
      f.lines = f.binary ? hexLines(head.bytes) : textLines(head.bytes);
      f.truncated = head.truncated;
      if (head.result) f.size = head.result.size;
    } catch (e) {
      if (!abort.signal.aborted) f.error = e instanceof LayerslayerError ? e.message : `internal error: ${(e as Error).message}`;
    } finally {
      f.loading = false;
      this.changed();
    }
  }

  /** "load more": four times as much, when there is more and no read is under way. */
  more(): void {
    if (!this.view.truncated || this.view.loading) return;
    this.view.limit *= 4;
    void this.load();
  }

  /** Moves the view by `step` lines within the text (and the "load more" line after it). */
  scroll(step: number, bodyHeight: number): void {
    const f = this.view;
    f.top = Math.max(0, Math.min(f.top + step, Math.max(0, f.lines.length + (f.truncated ? 1 : 0) - bodyHeight)));
  }

  /**
   * Finds `text` in the lines read so far (ignoring case unless the text has a capital, as less
   * and vim's smartcase do) and shows the first match at or below the top.
   */
  find(text: string, bodyHeight: number): void {
    const f = this.view;
    if (text === "") {
      f.search = undefined;
      return;
    }
    const fold = text === text.toLowerCase();
    const matches: number[] = [];
    f.lines.forEach((line, i) => {
      const body = bodyOf(line);
      if ((fold ? body.toLowerCase() : body).includes(text)) matches.push(i);
    });
    const at = Math.max(
      0,
      matches.findIndex((n) => n >= f.top),
    );
    f.search = { text, matches, at };
    this.show(bodyHeight);
  }

  /** n / N: the next or previous match, round the end. */
  nextMatch(step: 1 | -1, bodyHeight: number): void {
    const s = this.view.search;
    if (!s || s.matches.length === 0) return;
    s.at = (s.at + step + s.matches.length) % s.matches.length;
    this.show(bodyHeight);
  }

  /** Scrolls so the current match is on the screen, a few lines below the top. */
  private show(bodyHeight: number): void {
    const s = this.view.search;
    const line = s?.matches[s.at];
    if (line === undefined) return;
    const f = this.view;
    if (line < f.top || line >= f.top + bodyHeight) f.top = Math.max(0, line - 2);
    this.scroll(0, bodyHeight);
  }

  close(): void {
    this.abort?.abort();
  }
}
