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

  close(): void {
    this.abort?.abort();
  }
}
