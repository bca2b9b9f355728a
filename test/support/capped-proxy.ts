/**
 * A capped link in front of the real registry, on loopback: every answer's body is passed on at
 * most `bytesPerSecond` (one answer at a time per HTTP/1.1 connection, so this is a cap per
 * connection, as object stores and CDNs apply), and every request waits `latencyMs` before it is
 * forwarded (a registry far away). It counts the blob answers in flight at once, so a test can see
 * whether a read used several connections, and records each blob request's Range. Built on the
 * counting proxy's forwarding and pacing (counting-proxy.ts). Also used by scripts/bench/capped.ts.
 */
import { forwardRequest, pacedBody } from "./counting-proxy.ts";

export interface CappedRequest {
  method: string;
  path: string;
  range: string | null;
  status: number;
}

export interface CappedProxy {
  host: string;
  url: string;
  /** Blob requests seen, in the order they were forwarded. */
  requests: CappedRequest[];
  /** Blob answers whose bodies are being sent now. */
  inFlight(): number;
  /** The most blob answers ever in flight at once. */
  peak(): number;
  /** Blob body bytes handed to clients so far. */
  bytes(): number;
  /** Forgets the requests and the peak (between the runs of one test). */
  reset(): void;
  stop(): void;
}

export interface CappedOptions {
  /** Default 16 MB/s per connection. */
  bytesPerSecond?: number;
  /** Default 20 ms added before each request is forwarded. */
  latencyMs?: number;
}

/** Bytes sent per step: small enough that the cap is smooth at 16 MB/s (one step ≈ 4 ms). */
const PIECE = 64 * 1024;

export function startCappedProxy(targetUrl: string, opts: CappedOptions = {}): CappedProxy {
  const rate = opts.bytesPerSecond ?? 16e6;
  const latency = opts.latencyMs ?? 20;
  let inFlight = 0;
  let peak = 0;
  let bytes = 0;
  const requests: CappedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      if (latency > 0) await Bun.sleep(latency);
      const { url, upstream, headers } = await forwardRequest(req, targetUrl);
      const isBlob = url.pathname.includes("/blobs/");
      if (!isBlob || !upstream.body || req.method === "HEAD") return new Response(upstream.body, { status: upstream.status, headers });
      requests.push({ method: req.method, path: url.pathname, range: req.headers.get("range"), status: upstream.status });
      peak = Math.max(peak, ++inFlight);
      const started = performance.now();
      // Each piece waits until the bytes sent so far are within the cap since the body started.
      const wait = (sent: number) => started + (sent / rate) * 1000 - performance.now();
      const body = pacedBody(
        upstream.body,
        PIECE,
        wait,
        (n) => (bytes += n),
        () => inFlight--,
      );
      return new Response(body, { status: upstream.status, headers });
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    url: `http://127.0.0.1:${server.port}`,
    requests,
    inFlight: () => inFlight,
    peak: () => peak,
    bytes: () => bytes,
    reset: () => {
      requests.length = 0;
      peak = inFlight;
    },
    stop: () => server.stop(true),
  };
}
