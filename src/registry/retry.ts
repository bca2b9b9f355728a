import { LayerslayerError } from "../errors.ts";

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** Delay before the next attempt: Retry-After when the server gave one, else exponential backoff with jitter. */
export function retryDelay(attempt: number, baseMs: number, retryAfter: string | null): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const step = baseMs * 2 ** attempt;
  return Math.round(Math.min(step, 10_000) * (0.75 + Math.random() * 0.5));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * Turns a fetch failure into a one-line NETWORK error naming the host and the cause; `permanent`
 * when trying again cannot help (a certificate the client does not trust, a name that does not resolve).
 */
export function networkError(e: unknown, url: string, timeoutMs: number, proxy?: string): { error: LayerslayerError; permanent: boolean } {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {}
  const err = e as { code?: string; message?: string; name?: string };
  const code = err?.code ?? "";
  let why = err?.message ?? String(e);
  let permanent = false;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED" || /connection refused|unable to connect/i.test(why)) why = "connection refused";
  else if (code === "ConnectionClosed" || code === "ECONNRESET" || /socket|reset|closed/i.test(why)) why = "connection closed unexpectedly";
  else if (why === "timeout" || err?.name === "TimeoutError") why = `no answer within ${Math.round(timeoutMs / 1000)} s`;
  else if (/certificate|tls|ssl/i.test(why) || /CERT|TLS|SSL/.test(code)) {
    why = `TLS error (${why}); --insecure skips verification`;
    permanent = true;
  } else if (code === "ENOTFOUND" || /dns|getaddrinfo|resolve/i.test(why)) {
    why = "host name not found";
    permanent = true;
  }
  const through = proxy ? ` through the proxy ${proxy}` : "";
  return { error: new LayerslayerError("NETWORK", `cannot reach ${host}${through}: ${why}`, { cause: e }), permanent };
}

const MiB = 1024 * 1024;

export interface AttemptLimits {
  /** Failed tries allowed before any byte has arrived. */
  failures: number;
  /** More failed tries allowed per MiB actually received (0: none). */
  perMiB?: number;
  /** Time allowed, waits and tries included, between one byte received and the next (or the first). */
  stallMs?: number;
  /** Time the waits between tries may add up to (a server's Retry-After included); unbounded without it. */
  waitMs?: number;
}

/**
 * The tries one read may make, shared by every layer that retries it: the transport's retries of a
 * request (a reset, a 5xx) and the blob reader's resumes of a body that broke off or was not what it
 * asked for draw on the same allowance. A read starts with `failures` failed tries; only bytes
 * actually received earn more (`perMiB`), so a long flaky download still finishes while a read that
 * makes no progress fails after the same few tries wherever it starts in the blob (a 128-byte tail
 * read of a large blob as soon as a short one). Waits back off with the failures in a row, and the
 * time since the last byte arrived is bounded by `stallMs` (a try that would run past it fails).
 */
export class Attempts {
  /** Failed tries so far. */
  failures = 0;
  /** Failed tries since bytes last arrived (the backoff step). */
  private inARow = 0;
  /** Bytes received so far (what earns more tries). */
  private received = 0;
  /** When bytes last arrived, or the read started. */
  private lastProgress = Date.now();
  /** The waits handed out so far (`delay`), in ms. */
  private waited = 0;

  constructor(readonly limits: AttemptLimits) {}

  /** Failed tries allowed now. */
  allowed(): number {
    return this.limits.failures + (this.limits.perMiB ?? 0) * Math.floor(this.received / MiB);
  }

  /** Bytes arrived: they earn tries and restart the backoff and the stall clock. */
  progress(bytes: number): void {
    if (bytes <= 0) return;
    this.received += bytes;
    this.inARow = 0;
    this.lastProgress = Date.now();
  }

  /** The reader's consumer was away (it had data to work on): that time is not the server's, so the stall clock restarts. */
  consumerBack(): void {
    this.lastProgress = Date.now();
  }

  /** Records a failed try; false when no more tries are allowed. */
  fail(): boolean {
    this.failures++;
    this.inARow++;
    return this.failures <= this.allowed() && this.msLeft() > 0;
  }

  /** Time left before the read counts as stalled (Infinity without a bound). */
  msLeft(): number {
    return this.limits.stallMs === undefined ? Infinity : this.limits.stallMs - (Date.now() - this.lastProgress);
  }

  /**
   * The wait before the next try: Retry-After when given, else backoff from `baseMs` doubling with
   * the failures in a row; undefined when it would outlast the stall bound or take the waits past
   * `waitMs` in all.
   */
  delay(baseMs: number, retryAfter: string | null = null): number | undefined {
    const ms = retryDelay(this.inARow - 1, baseMs, retryAfter);
    if (ms >= this.msLeft() || this.waited + ms > (this.limits.waitMs ?? Infinity)) return undefined;
    this.waited += ms;
    return ms;
  }
}
