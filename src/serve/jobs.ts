/**
 * Scan jobs: what `POST /v1/scans` starts and the other scan routes watch. A job runs the scan
 * core in the background, apart from the request that started it: a client that stops listening
 * (an SSE stream closed, a poll that never comes) leaves it running; only a cancel (DELETE), its
 * time limit or the server stopping end it early.
 *
 * Bounded in every direction: at most `maxRunning` jobs run at once (the rest wait, first come
 * first served), at most `maxKept` are held (a new one pushes out the oldest finished one, and is
 * refused when every held job is unfinished), and each runs at most `timeoutMs`.
 */
import { LayerslayerError } from "../errors.ts";
import type { ImageOutcome } from "../scan/image.ts";
import { Limiter } from "../scan/limit.ts";
import { HttpRefusal } from "./guard.ts";
import { describeFailure } from "./http.ts";

export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

/** What a running job tells its watchers. */
export type JobEvent = { kind: "progress" } | { kind: "image"; outcome: ImageOutcome } | { kind: "end" };

/** How a job reports while it runs (the scan core calls these). */
export interface JobReport {
  /** References the job will scan, once known (a catalog is walked first). */
  total(n: number): void;
  /** One reference scanned: its images (one per platform). */
  scanned(outcomes: ImageOutcome[]): void;
  bytes(n: number): void;
}

export interface Job<R> {
  readonly id: string;
  readonly request: R;
  state: JobState;
  readonly created: Date;
  started?: Date;
  finished?: Date;
  /** References to scan (undefined until known). */
  references?: number;
  /** References scanned so far, and images (platforms) that failed. */
  scanned: number;
  failed: number;
  bytesDownloaded: number;
  images: ImageOutcome[];
  /** Why the job failed (its time ran out, the catalog could not be read, …). */
  error?: { code: string; message: string };
}

interface Held<R> {
  job: Job<R>;
  client: string;
  controller: AbortController;
  watchers: Set<(e: JobEvent) => void>;
  ended: Promise<void>;
}

export interface JobLimits {
  maxRunning: number;
  /** Unfinished jobs one client may hold (429 past it), so one caller cannot take every slot. */
  maxPerClient: number;
  maxKept: number;
  timeoutMs: number;
}

/** Progress events are sent at most this often (bytes arrive per chunk). */
const PROGRESS_EVERY_MS = 250;

export class Jobs<R> {
  private readonly held = new Map<string, Held<R>>();
  private readonly limiter: Limiter;

  constructor(
    private readonly limits: JobLimits,
    private readonly run: (request: R, signal: AbortSignal, report: JobReport) => Promise<void>,
  ) {
    this.limiter = new Limiter(limits.maxRunning);
  }

  /** Starts a job (queued when `maxRunning` run already); 503 when every held job is unfinished. */
  start(request: R, client: string): Job<R> {
    const own = [...this.held.values()].filter((h) => h.client === client && !h.job.finished).length;
    if (own >= this.limits.maxPerClient) {
      throw new HttpRefusal(429, "TOO_MANY_REQUESTS", `this client already has ${own} unfinished scan jobs (the limit)`, { "Retry-After": "60" });
    }
    if (this.held.size >= this.limits.maxKept) {
      const oldest = [...this.held.values()].find((h) => h.job.finished);
      if (!oldest) throw new HttpRefusal(503, "BUSY", `the server holds ${this.held.size} unfinished scan jobs (the limit)`, { "Retry-After": "60" });
      this.held.delete(oldest.job.id);
    }
    const job: Job<R> = { id: crypto.randomUUID(), request, state: "queued", created: new Date(), scanned: 0, failed: 0, bytesDownloaded: 0, images: [] };
    const h: Held<R> = { job, client, controller: new AbortController(), watchers: new Set(), ended: Promise.resolve() };
    this.held.set(job.id, h);
    h.ended = this.limiter.run(() => this.execute(h));
    return job;
  }

  private async execute(h: Held<R>): Promise<void> {
    const { job } = h;
    if (job.finished) return;
    job.state = "running";
    job.started = new Date();
    const timeout = AbortSignal.timeout(this.limits.timeoutMs);
    const signal = AbortSignal.any([h.controller.signal, timeout]);
    let lastProgress = 0;
    const progress = (force = false) => {
      const now = performance.now();
      if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = now;
      this.tell(h, { kind: "progress" });
    };
    progress(true);
    try {
      await this.run(job.request, signal, {
        total: (n) => {
          job.references = n;
          progress(true);
        },
        scanned: (outcomes) => {
          job.scanned++;
          for (const outcome of outcomes) {
            job.images.push(outcome);
            if (outcome.error) job.failed++;
            this.tell(h, { kind: "image", outcome });
          }
          progress(true);
        },
        bytes: (n) => {
          job.bytesDownloaded += n;
          progress();
        },
      });
      signal.throwIfAborted();
      this.end(h, "done");
    } catch (e) {
      if (h.controller.signal.aborted) return this.end(h, "cancelled");
      if (timeout.aborted) job.error = { code: "TIMEOUT", message: `the scan took longer than this server allows (${Math.round(this.limits.timeoutMs / 1000)} s)` };
      else {
        const f = describeFailure(e);
        job.error = { code: f.code, message: f.message };
      }
      this.end(h, "failed");
    }
  }

  private end(h: Held<R>, state: JobState): void {
    h.job.state = state;
    h.job.finished = new Date();
    this.tell(h, { kind: "end" });
    h.watchers.clear();
  }

  private tell(h: Held<R>, e: JobEvent): void {
    for (const w of h.watchers) w(e);
  }

  /** A held job (404 when there is none by that id). */
  get(id: string): Job<R> {
    const h = this.held.get(id);
    if (!h) throw new LayerslayerError("NOT_FOUND", "no scan job by that id (finished jobs are forgotten when newer ones need their place)");
    return h.job;
  }

  /** Every held job, oldest first. */
  list(): Job<R>[] {
    return [...this.held.values()].map((h) => h.job);
  }

  /**
   * Calls `watch` with each event of an unfinished job until it ends (the last event is `end`);
   * returns the function that stops watching (the job runs on).
   */
  watch(id: string, watch: (e: JobEvent) => void): () => void {
    const h = this.held.get(id);
    if (!h || h.job.finished) return () => {};
    h.watchers.add(watch);
    return () => h.watchers.delete(watch);
  }

  /** Cancels an unfinished job and waits (at most `waitMs`) for it to stop; forgets a finished one. */
  async cancel(id: string, waitMs = 10_000): Promise<Job<R>> {
    const h = this.held.get(id);
    if (!h) return this.get(id);
    if (h.job.finished) {
      this.held.delete(id);
      return h.job;
    }
    h.controller.abort(new DOMException("the scan job was cancelled", "AbortError"));
    // A job still waiting for its turn ends now (it will not start).
    if (h.job.state === "queued") this.end(h, "cancelled");
    await Promise.race([h.ended, Bun.sleep(waitMs)]);
    return h.job;
  }

  /** Cancels every unfinished job (the server is stopping). */
  stop(): void {
    for (const h of this.held.values()) {
      if (h.job.finished) continue;
      h.controller.abort(new DOMException("the server is stopping", "AbortError"));
      if (h.job.state === "queued") this.end(h, "cancelled");
    }
  }
}
