/**
 * A one-line progress bar for standard error: a pure formatter and a small throttled writer that
 * redraws the line in place (carriage return + erase to end of line) and clears it when done.
 */
import { humanSize } from "./format.ts";

export interface ProgressState {
  /** Fixed text first on the line, e.g. "layer 1/3 sha256:0123abcd". Must already be safe to print. */
  label: string;
  done: number;
  total: number;
  /** Bytes per second, when known. */
  rate?: number;
  /** "verify" shows that bytes on disk are being re-hashed rather than downloaded. */
  phase?: "download" | "verify";
}

const MIN_BAR = 10;
const MAX_BAR = 30;

/** Percent done, 0–100, rounded down (100 only when complete); an empty total is complete. */
export function percent(done: number, total: number): number {
  if (!(total > 0)) return 100;
  if (done >= total) return 100;
  return Math.max(0, Math.floor((100 * done) / total));
}

/** "[########------]" with `width` cells inside the brackets. */
export function bar(done: number, total: number, width: number): string {
  const fill = total > 0 ? Math.min(width, Math.max(0, Math.floor((width * done) / total))) : width;
  return `[${"#".repeat(fill)}${"-".repeat(width - fill)}]`;
}

function rateText(rate: number | undefined): string {
  return rate !== undefined && Number.isFinite(rate) && rate >= 0 ? `${humanSize(rate)}/s` : "--/s";
}

/**
 * One progress line, at most `columns - 1` characters (so it never wraps):
 * `layer 1/3 sha256:0123abcd [#####-----]  1.2M/4.0M  30%  850K/s`. The bar shrinks, then goes,
 * then the line is cut, as the terminal narrows.
 */
export function formatProgress(s: ProgressState, columns = 80): string {
  const pct = `${String(percent(s.done, s.total)).padStart(3)}%`;
  const amounts = `${humanSize(Math.max(0, s.done))}/${humanSize(Math.max(0, s.total))}`;
  const tail = s.phase === "verify" ? `${amounts}  ${pct}  verifying` : `${amounts}  ${pct}  ${rateText(s.rate)}`;
  const max = Math.max(1, columns - 1);
  const room = max - s.label.length - tail.length - 5; // " [", "]" and two spaces
  let line: string;
  if (room >= MIN_BAR) line = `${s.label} ${bar(s.done, s.total, Math.min(MAX_BAR, room))}  ${tail}`;
  else line = `${s.label}  ${tail}`;
  return line.length > max ? line.slice(0, max) : line;
}

/** Progress belongs on a terminal only, and never with -q or --json. */
export function progressEnabled(opts: { isTTY: boolean | undefined; quiet?: boolean; json?: boolean }): boolean {
  return !!opts.isTTY && !opts.quiet && !opts.json;
}

export interface ProgressStream {
  write(text: string): unknown;
  /** Terminal width, when known (0 or absent: 80). */
  columns?: number;
}

export interface ProgressBarOptions {
  /** Minimum time between redraws. */
  intervalMs?: number;
  /** Clock in milliseconds (for tests). */
  now?: () => number;
}

const ERASE = "\r\x1b[K";

/**
 * Draws progress on `out`, at most once per interval (first and final updates always drawn).
 * The rate is the bytes downloaded since `start`, over the time since `start`.
 */
export class ProgressBar {
  private label = "";
  private total = 0;
  private startedAt = 0;
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly out: ProgressStream,
    opts: ProgressBarOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Begins a new item (a layer): resets the clock and the throttle. */
  start(label: string, total: number): void {
    this.label = label;
    this.total = total;
    this.startedAt = this.now();
    this.lastDraw = -Infinity;
  }

  /** Changes the label (and the total) of the item under way: the clock and the throttle go on. */
  relabel(label: string, total = this.total): void {
    this.label = label;
    this.total = total;
  }

  /** `done` bytes of the total are handled, `downloaded` of them came off the network in this item. */
  update(done: number, downloaded: number, phase: "download" | "verify" = "download"): void {
    const t = this.now();
    const final = done >= this.total;
    if (!final && t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    const seconds = (t - this.startedAt) / 1000;
    const rate = seconds >= 0.05 ? downloaded / seconds : undefined;
    // A pseudo-terminal nobody sized reports 0 columns: take that as unknown.
    const columns = this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
    const line = formatProgress({ label: this.label, done, total: this.total, phase, ...(rate !== undefined ? { rate } : {}) }, columns);
    this.out.write(`${ERASE}${line}`);
    this.drawn = true;
  }

  /** Erases the line (if anything was drawn), leaving the cursor at its start for the next output. */
  clear(): void {
    if (!this.drawn) return;
    this.out.write(ERASE);
    this.drawn = false;
  }
}
