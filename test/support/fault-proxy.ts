/**
 * A proxy in front of the real registry that injects faults a real registry cannot produce. It
 * speaks HTTP/1.1 on a raw socket, so a fault can be anything a hostile server could do on the
 * wire: any status, Retry-After or Location (to any URL, any scheme), any WWW-Authenticate realm,
 * a Content-Range that lies (start, end, total), a body cut short of its Content-Length, a reset
 * connection, a stalled transfer, bytes flipped or patched at given offsets of the body.
 *
 * A rule returns one fault or several (applied together, e.g. a wrong Content-Range on a cut body).
 */
import { createServer, type Socket } from "node:net";

export type Fault =
  /** Answer this without asking the registry. */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string | Uint8Array }
  /** Pass the registry's answer with these headers set (null removes one). */
  | { kind: "headers"; set: Record<string, string | null> }
  /** Pass the registry's answer with another status (e.g. 206 → 200). */
  | { kind: "restatus"; status: number }
  /** Rewrite the fields of the registry's Content-Range (a field left out keeps its value). */
  | { kind: "contentRange"; start?: number; end?: number; total?: number | "*" }
  /** Change the body; Content-Length follows unless keepLength. */
  | { kind: "tamper"; change: (bytes: Uint8Array) => Uint8Array; keepHeaders?: boolean; keepLength?: boolean }
  /** XOR these body offsets with 0xff (offsets past the body are ignored). */
  | { kind: "flip"; offsets: number[] }
  /** Overwrite body bytes at an offset. */
  | { kind: "patch"; offset: number; bytes: Uint8Array }
  /** Drop the Range header before asking the registry (it answers 200, whole blob). */
  | { kind: "ignoreRange" }
  /** Send this many body bytes, then close cleanly while Content-Length promised more. */
  | { kind: "cut"; afterBytes: number }
  /** Send this many body bytes, then reset the connection (TCP RST). */
  | { kind: "reset"; afterBytes: number }
  /** Reset the connection (TCP RST) before any answer. */
  | { kind: "drop" }
  /** Send this many body bytes, then nothing more, never closing. */
  | { kind: "stall"; afterBytes: number }
  /** Remove WWW-Authenticate from the registry's answer. */
  | { kind: "dropChallenge" };

export interface ProxyRequest {
  method: string;
  path: string;
  range: string | null;
  authorization: boolean;
  /** Body bytes the client took (written once the socket had room), when the proxy paces bodies. */
  bodyBytesSent: number;
}

export interface FaultProxy {
  host: string;
  url: string;
  requests: ProxyRequest[];
  /** Decides, per request, which faults to inject (n counts requests from 0). */
  rule: (req: Request, n: number) => Fault | Fault[] | undefined;
  /** Milliseconds every request waits before it is answered (a registry far away); 0 by default. */
  delayMs: number;
  /**
   * Send bodies this many bytes at a time, each when the socket has room and `paceMs` after the
   * last, counting them in `bodyBytesSent` (what a client that stops reading and closes took);
   * 0 (default) sends a body at once.
   */
  paceBytes: number;
  paceMs: number;
  stop(): void;
}

const REASONS: Record<number, string> = {
  200: "OK",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  401: "Unauthorized",
  404: "Not Found",
  416: "Range Not Satisfiable",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

function parseHead(head: string): { method: string; target: string; headers: Headers } {
  const lines = head.split("\r\n");
  const [method = "GET", target = "/"] = lines[0]!.split(" ");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { method, target, headers };
}

function rewriteRange(value: string | null, f: Extract<Fault, { kind: "contentRange" }>): string {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? "");
  const start = f.start ?? Number(m?.[1] ?? 0);
  const end = f.end ?? Number(m?.[2] ?? 0);
  const total = f.total ?? m?.[3] ?? "*";
  return `bytes ${start}-${end}/${total}`;
}

/** Applies the faults that change the answer itself (not how it is sent). */
function shape(answer: Answer, faults: Fault[]): { answer: Answer; keepLength: boolean } {
  let keepLength = false;
  for (const f of faults) {
    if (f.kind === "headers") for (const [k, v] of Object.entries(f.set)) v === null ? answer.headers.delete(k) : answer.headers.set(k, v);
    else if (f.kind === "restatus") answer.status = f.status;
    else if (f.kind === "dropChallenge") answer.headers.delete("www-authenticate");
    else if (f.kind === "contentRange") answer.headers.set("content-range", rewriteRange(answer.headers.get("content-range"), f));
    else if (f.kind === "tamper") {
      answer.body = f.change(answer.body);
      if (!f.keepHeaders) answer.headers.delete("docker-content-digest");
      keepLength ||= !!f.keepLength;
    } else if (f.kind === "flip") {
      const b = answer.body.slice();
      for (const o of f.offsets) if (o >= 0 && o < b.length) b[o] = b[o]! ^ 0xff;
      answer.body = b;
    } else if (f.kind === "patch") {
      const b = answer.body.slice();
      b.set(f.bytes.subarray(0, Math.max(0, b.length - f.offset)), f.offset);
      answer.body = b;
    }
  }
  return { answer, keepLength };
}

/** Writes `body` a piece at a time, each once the socket has room, until it is all out or the client closed. */
async function paced(socket: Socket, body: Uint8Array, step: number, ms: number, logged: ProxyRequest): Promise<void> {
  for (let at = 0; at < body.length && !socket.destroyed; at += step) {
    const piece = body.subarray(at, at + step);
    const room = socket.write(piece);
    logged.bodyBytesSent += piece.length;
    if (!room) await new Promise<void>((resolve) => (socket.once("drain", resolve), socket.once("close", resolve)));
    await Bun.sleep(ms);
  }
  if (!socket.destroyed) socket.end();
}

export function startFaultProxy(targetUrl: string): FaultProxy {
  let n = 0;
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    host: "",
    url: "",
    requests: [],
    rule: () => undefined,
    delayMs: 0,
    paceBytes: 0,
    paceMs: 1,
    stop: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };

  async function answer(socket: Socket, method: string, target: string, reqHeaders: Headers, reqBody: Uint8Array): Promise<void> {
    const logged: ProxyRequest = {
      method,
      path: new URL(target, "http://x").pathname,
      range: reqHeaders.get("range"),
      authorization: reqHeaders.has("authorization"),
      bodyBytesSent: 0,
    };
    proxy.requests.push(logged);
    const request = new Request(`${proxy.url}${target}`, { method, headers: reqHeaders });
    const got = proxy.rule(request, n++);
    if (proxy.delayMs > 0) await Bun.sleep(proxy.delayMs);
    const faults = got === undefined ? [] : Array.isArray(got) ? got : [got];
    if (faults.some((f) => f.kind === "drop")) return void socket.resetAndDestroy();
    let reply: Answer;
    const fixed = faults.find((f) => f.kind === "status");
    if (fixed?.kind === "status") {
      const body = typeof fixed.body === "string" ? new TextEncoder().encode(fixed.body) : (fixed.body ?? new Uint8Array(0));
      reply = { status: fixed.status, headers: new Headers(fixed.headers), body };
    } else {
      const headers = new Headers(reqHeaders);
      headers.delete("host");
      headers.delete("connection");
      if (faults.some((f) => f.kind === "ignoreRange")) headers.delete("range");
      const upstream = await fetch(`${targetUrl}${target}`, { method, headers, redirect: "manual", ...(reqBody.length ? { body: reqBody } : {}) });
      const out = new Headers(upstream.headers);
      for (const h of ["content-encoding", "transfer-encoding", "connection", "keep-alive", "date"]) out.delete(h);
      reply = { status: upstream.status, headers: out, body: new Uint8Array(await upstream.arrayBuffer()) };
    }
    const { answer: a, keepLength } = shape(reply, faults);
    // HEAD keeps the registry's length; otherwise the length of what we have (the promised one when cut).
    if (method !== "HEAD" && !keepLength) a.headers.set("content-length", String(a.body.byteLength));
    a.headers.set("connection", "close");
    let head = `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? "Status"}\r\n`;
    a.headers.forEach((v, k) => (head += `${k}: ${v}\r\n`));
    socket.write(`${head}\r\n`);
    if (method === "HEAD") return void socket.end();
    const cut = faults.find((f) => f.kind === "cut" || f.kind === "reset" || f.kind === "stall");
    if (!cut || (cut.kind !== "cut" && cut.kind !== "reset" && cut.kind !== "stall")) {
      if (proxy.paceBytes > 0) return paced(socket, a.body, proxy.paceBytes, proxy.paceMs, logged);
      socket.end(a.body);
      return;
    }
    const part = a.body.subarray(0, cut.afterBytes);
    if (part.length) socket.write(part);
    // Close a moment later, so the client has the bytes before it sees the connection go.
    if (cut.kind === "cut") setTimeout(() => socket.end(), 20);
    else if (cut.kind === "reset") setTimeout(() => socket.resetAndDestroy(), 20);
    // stall: keep the socket open until the proxy stops.
  }

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = Buffer.alloc(0);
    let handled = false;
    socket.on("data", (chunk: Buffer) => {
      if (handled) return;
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const { method, target, headers } = parseHead(buf.subarray(0, end).toString("latin1"));
      const length = Number(headers.get("content-length") ?? 0);
      if (buf.length < end + 4 + length) return;
      handled = true;
      const body = new Uint8Array(buf.subarray(end + 4, end + 4 + length));
      answer(socket, method, target, headers, body).catch(() => socket.destroy());
    });
  });
  server.listen(0, "127.0.0.1");
  const port = (server.address() as { port: number } | null)?.port;
  if (!port) throw new Error("fault proxy: no port");
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://127.0.0.1:${port}`;
  return proxy;
}
