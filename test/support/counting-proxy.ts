/**
 * A streaming proxy in front of the real registry that counts the blob bytes it hands to the
 * client, at a bounded rate: a test can cancel a read half way and then see that no more bytes
 * leave the registry side. Unlike the fault proxy (which buffers whole answers to rewrite them),
 * bodies pass through as the client pulls them, so a client that goes away stops the transfer.
 */
export interface CountingProxy {
  host: string;
  url: string;
  /** Bytes of blob bodies handed to clients so far. */
  blobBytes(): number;
  /** Blob requests seen (GET and HEAD). */
  blobRequests(): number;
  stop(): void;
}

export interface CountingOptions {
  /** Bytes handed over at a time (default 32 KiB)… */
  chunk?: number;
  /** …every this many milliseconds (default 5): about 6.5 MB/s. */
  everyMs?: number;
}

/** Sends `req` on to the registry at `targetUrl`; the answer, and its headers fit to pass back as they are. */
export async function forwardRequest(req: Request, targetUrl: string): Promise<{ url: URL; upstream: Response; headers: Headers }> {
  const url = new URL(req.url);
  const headers = new Headers(req.headers);
  headers.delete("host");
  const upstream = await fetch(`${targetUrl}${url.pathname}${url.search}`, {
    method: req.method,
    headers,
    redirect: "manual",
    ...(req.body ? { body: await req.arrayBuffer() } : {}),
  });
  const out = new Headers(upstream.headers);
  for (const h of ["content-encoding", "transfer-encoding", "connection", "keep-alive", "date"]) out.delete(h);
  return { url, upstream, headers: out };
}

/**
 * `source` passed on `piece` bytes at a time as the client pulls, each after `waitMs(sent)`
 * milliseconds (`sent`: bytes passed so far), each counted by `onPiece`; a client that goes away
 * cancels `source`. `onEnd` is told once, when the body is all out or the client went away.
 */
export function pacedBody(
  source: ReadableStream<Uint8Array>,
  piece: number,
  waitMs: (sent: number) => number,
  onPiece: (n: number) => void,
  onEnd: () => void = () => {},
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let sent = 0;
  let ended = false;
  const end = () => {
    if (!ended) onEnd();
    ended = true;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending.length === 0) {
          const r = await reader.read();
          if (r.done) {
            end();
            return controller.close();
          }
          pending = r.value;
        }
        const ms = waitMs(sent);
        if (ms > 0) await Bun.sleep(ms);
        const out = pending.slice(0, piece);
        pending = pending.subarray(out.length);
        sent += out.length;
        onPiece(out.length);
        controller.enqueue(out);
      },
      cancel() {
        end();
        return reader.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}

export function startCountingProxy(targetUrl: string, opts: CountingOptions = {}): CountingProxy {
  const chunk = opts.chunk ?? 32 * 1024;
  const everyMs = opts.everyMs ?? 5;
  let bytes = 0;
  let requests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const { url, upstream, headers: out } = await forwardRequest(req, targetUrl);
      const isBlob = url.pathname.includes("/blobs/");
      if (isBlob) requests++;
      if (!isBlob || !upstream.body) return new Response(upstream.body, { status: upstream.status, headers: out });
      const body = pacedBody(
        upstream.body,
        chunk,
        () => everyMs,
        (n) => (bytes += n),
      );
      return new Response(body, { status: upstream.status, headers: out });
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    url: `http://127.0.0.1:${server.port}`,
    blobBytes: () => bytes,
    blobRequests: () => requests,
    stop: () => server.stop(true),
  };
}
