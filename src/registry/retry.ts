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
