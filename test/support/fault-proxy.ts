/**
 * A proxy in front of the real registry that injects faults a real registry cannot produce:
 * 429/5xx with Retry-After, dropped challenges, tampered bytes, ignored Range, cut connections.
 */
export type Fault =
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  | { kind: "tamper"; change: (bytes: Uint8Array) => Uint8Array; keepHeaders?: boolean }
  | { kind: "ignoreRange" }
  | { kind: "cut"; afterBytes: number }
  | { kind: "stall"; afterBytes: number }
  | { kind: "dropChallenge" };

export interface FaultProxy {
  host: string;
  url: string;
  requests: { method: string; path: string; range: string | null; authorization: boolean }[];
  /** Decides, per request, whether to inject a fault (n counts requests from 0). */
  rule: (req: Request, n: number) => Fault | undefined;
  stop(): void;
}

export function startFaultProxy(targetUrl: string): FaultProxy {
  let n = 0;
  const proxy: FaultProxy = {
    host: "",
    url: "",
    requests: [],
    rule: () => undefined,
    stop: () => server.stop(true),
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      proxy.requests.push({ method: req.method, path: url.pathname, range: req.headers.get("range"), authorization: req.headers.has("authorization") });
      const fault = proxy.rule(req, n++);
      if (fault?.kind === "status") return new Response(fault.body ?? "", { status: fault.status, headers: fault.headers });
      const headers = new Headers(req.headers);
      headers.delete("host");
      if (fault?.kind === "ignoreRange") headers.delete("range");
      const upstream = await fetch(`${targetUrl}${url.pathname}${url.search}`, { method: req.method, headers, redirect: "manual" });
      const outHeaders = new Headers(upstream.headers);
      outHeaders.delete("content-encoding");
      outHeaders.delete("transfer-encoding");
      if (fault?.kind === "dropChallenge") outHeaders.delete("www-authenticate");
      if (fault?.kind === "tamper") {
        const bytes = fault.change(new Uint8Array(await upstream.arrayBuffer()));
        outHeaders.set("content-length", String(bytes.byteLength));
        if (!fault.keepHeaders) outHeaders.delete("docker-content-digest");
        return new Response(bytes, { status: upstream.status, headers: outHeaders });
      }
      if (fault?.kind === "stall" && upstream.body) {
        // Send the first bytes, then nothing more and never close (a hung transfer).
        const bytes = new Uint8Array(await upstream.arrayBuffer()).subarray(0, fault.afterBytes);
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes);
          },
        });
        return new Response(body, { status: upstream.status, headers: outHeaders });
      }
      if (fault?.kind === "cut" && upstream.body) {
        // Send the promised length but close the stream early: the client sees a truncated body.
        let sent = 0;
        const reader = upstream.body.getReader();
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) return controller.close();
            const room = fault.afterBytes - sent;
            if (value.byteLength >= room) {
              controller.enqueue(value.subarray(0, room));
              sent += room;
              await reader.cancel();
              // Close early while Content-Length promised more: the client sees a short body.
              controller.close();
              return;
            }
            sent += value.byteLength;
            controller.enqueue(value);
          },
        });
        return new Response(body, { status: upstream.status, headers: outHeaders });
      }
      return new Response(upstream.body, { status: upstream.status, headers: outHeaders });
    },
  });
  proxy.host = `127.0.0.1:${server.port}`;
  proxy.url = `http://127.0.0.1:${server.port}`;
  return proxy;
}
