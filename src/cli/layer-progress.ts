/**
 * The CLI's rendering of layer progress events (src/layer/progress.ts): one line on stderr for
 * all the layers a command reads, drawn only on a terminal (never with -q or --json) and only once
 * the reads have taken a moment, so a command answered from the cache never flashes a bar.
 *
 *   reading layers 1/3 [#######-------]  12.1M/31.0M  39%  8.2M/s
 *
 * "Done" counts a layer whole once its listing ends (a budgeted read that stops early, or a cached
 * listing, is then finished), so the bar reaches 100% when every layer is listed. Without a plan
 * (cat, which goes down the layers until it finds its file) the total is that of the layers read
 * so far:
 *
 *   reading layer 3 [##########----]  40.2M/57.9M  69%  9.1M/s
 *
 * `save` draws its downloads with the same line ("saving layers 1/3"), from the same events.
 */
import type { Progress, ProgressListener } from "../layer/progress.ts";
import type { Descriptor } from "../oci/manifest.ts";
import { ProgressBar, progressEnabled, type ProgressStream } from "../output/progress.ts";
import type { Context } from "./common.ts";
import { isTerminal } from "./terminal.ts";

/** Nothing is drawn before the reads have taken this long. */
const SHOW_AFTER_MS = 300;

export class LayerProgress {
  private readonly bar: ProgressBar;
  private readonly seen = new Map<number, Progress>();
  private total: number;
  private readonly started: number;
  private finished = 0;

  /** A listener for `layers` read within `budget` (undefined: whole), drawing on `out`; undefined layers: no plan. */
  constructor(
    private readonly layers: readonly { index: number; size: number }[] | undefined,
    private readonly budget: number | undefined,
    out: ProgressStream,
    private readonly now: () => number = () => performance.now(),
    /** What the command does to the layers: "reading" (listings), "saving" (save). */
    private readonly verb = "reading",
  ) {
    this.bar = new ProgressBar(out, { now });
    this.total = (layers ?? []).reduce((n, l) => n + this.expected(l.size), 0);
    this.started = now();
    this.bar.start(this.label(), this.total);
  }

  /** The bytes a layer's read is expected to take: the layer, or the budget when smaller. */
  private expected(size: number): number {
    return this.budget === undefined ? size : Math.min(size, this.budget);
  }

  private label(layer?: number): string {
    return this.layers ? `${this.verb} layers ${this.finished}/${this.layers.length}` : `${this.verb} layer ${layer ?? ""}`;
  }

  /** Takes one event; pass this to the listing path as `onProgress`. */
  readonly listener: ProgressListener = (p) => {
    const before = this.seen.get(p.layer);
    if (p.done && !before?.done) this.finished++;
    if (!before && !this.layers) this.total += this.expected(p.size);
    this.seen.set(p.layer, p);
    if (this.now() - this.started < SHOW_AFTER_MS) return;
    let done = 0;
    let downloaded = 0;
    for (const q of this.seen.values()) {
      done += q.done ? this.expected(q.size) : Math.min(q.downloaded + (q.verified ?? 0), this.expected(q.size));
      downloaded += q.downloaded;
    }
    // The label carries the count of layers done; the bar keeps its clock (the rate is since the start).
    this.bar.relabel(this.label(p.layer), this.total);
    // Bytes on disk being checked (a resumed save) say so instead of a rate.
    this.bar.update(Math.min(done, this.total), downloaded, !p.done && p.downloaded === 0 && (p.verified ?? 0) > 0 ? "verify" : "download");
  };

  /** Erases the line, e.g. before writing to stdout on the same terminal (the next event redraws it). */
  clear(): void {
    this.bar.clear();
  }
}

/** Whether a command draws progress on standard error: a terminal, and neither -q nor --json. */
export function drawsProgress(ctx: { quiet: boolean; json: boolean }): boolean {
  return progressEnabled({ isTTY: isTerminal(2), quiet: ctx.quiet, json: ctx.json });
}

/**
 * A progress line for the layers `indexes` of the command's image (undefined: the layers the
 * command turns out to read), or undefined when progress is not drawn.
 */
export function layerProgress(ctx: Context, layers: readonly Descriptor[], indexes?: readonly number[], budget?: number, verb?: string): LayerProgress | undefined {
  if (!drawsProgress(ctx)) return undefined;
  const plan = indexes?.map((index) => ({ index, size: layers[index]?.size ?? 0 }));
  return new LayerProgress(plan, budget, process.stderr, undefined, verb);
}

/**
 * The progress line of the reads before any layer (the index, the manifest, the config: see
 * resolveImage), drawn like the layers' once they have taken a moment (a registry far away, a
 * stalled answer): `reading image manifest  12.0K/12.0K 100%  40.0K/s`. Undefined when progress
 * is not drawn.
 */
export function documentProgress(ctx: Context): { listener: ProgressListener; clear(): void } | undefined {
  if (!drawsProgress(ctx)) return undefined;
  const bar = new ProgressBar(process.stderr);
  const started = performance.now();
  let current: string | undefined;
  return {
    listener: (p) => {
      if (p.document === undefined) return;
      // Each document its own bar (and rate); a manifest named by tag has no size until it is in.
      const total = Math.max(p.size, p.downloaded);
      if (`${p.document} ${p.digest}` !== current) bar.start(`reading image ${p.document}`, total);
      current = `${p.document} ${p.digest}`;
      if (performance.now() - started < SHOW_AFTER_MS) return;
      bar.relabel(`reading image ${p.document}`, total);
      bar.update(p.downloaded, p.downloaded);
    },
    clear: () => bar.clear(),
  };
}
