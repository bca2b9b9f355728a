/**
 * Responses of the API: JSON documents, streamed text and bytes with backpressure, and errors as
 * `{error: {code, message}}` with the HTTP status their code means. Every string a registry or a
 * layer supplied goes out inside JSON (or as raw bytes with a binary type), never as HTML.
 */
import { LayerslayerError, type ErrorCode } from "../errors.ts";
import { jsonDocument, ndjsonLine } from "../output/json.ts";
import { PolicyRefusal } from "../registry/address-policy.ts";
import { RegistryRefused } from "./config.ts";
import { HttpRefusal } from "./guard.ts";

/** Headers on every answer: nothing sniffed, nothing framed, nothing cached by a shared cache. */
export const BASE_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Cache-Control": "private, no-store",
  "Referrer-Policy": "no-referrer",
};

const STATUS_OF: Record<ErrorCode, number> = {
  USAGE: 400,
  // The registry refused the server's own login (or asked for one it has not): not the caller's 401.
  AUTH: 403,
  NOT_FOUND: 404,
  RATE_LIMIT: 429,
  NETWORK: 502,
  CORRUPT: 502,
  UNSUPPORTED: 422,
  IO: 500,
  // Cancelled because the client went away (nginx's "client closed request": no one reads it).
  ABORTED: 499,
};

/** Whether `e` or an error it wraps (its cause, a few levels down) passes `test`. */
function wraps(e: unknown, test: (c: unknown) => boolean): boolean {
  for (let c = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) if (test(c)) return true;
  return false;
}

const refusedByPolicy = (e: unknown) => wraps(e, (c) => c instanceof PolicyRefusal);
const timedOut = (e: unknown) => wraps(e, (c) => (c as { name?: string })?.name === "TimeoutError");

/** Status, code and message of any failure; an unexpected one says only "internal error". */
export function describeFailure(e: unknown): { status: number; code: string; message: string; headers: Record<string, string> } {
  if (e instanceof HttpRefusal) return { status: e.status, code: e.code, message: e.message, headers: e.headers };
  if (e instanceof RegistryRefused || refusedByPolicy(e)) return { status: 403, code: "FORBIDDEN", message: (e as Error).message, headers: {} };
  if (timedOut(e)) return { status: 504, code: "TIMEOUT", message: "the request took longer than the server allows", headers: {} };
  if (e instanceof LayerslayerError) return { status: STATUS_OF[e.code], code: e.code, message: e.message, headers: {} };
  return { status: 500, code: "INTERNAL", message: "internal error", headers: {} };
}

export function errorResponse(e: unknown, extra: Record<string, string> = {}): Response {
  const f = describeFailure(e);
  return Response.json({ error: { code: f.code, message: f.message } }, { status: f.status, headers: { ...BASE_HEADERS, ...f.headers, ...extra } });
}

/** One JSON document, as `--json` prints it (with its `schema` version). */
export function jsonResponse(doc: object, extra: Record<string, string> = {}): Response {
  return new Response(jsonDocument(doc), { headers: { ...BASE_HEADERS, "Content-Type": "application/json; charset=utf-8", ...extra } });
}

/** The NDJSON record that ends a stream cut short by an error. */
export function errorRecord(e: unknown): string {
  const f = describeFailure(e);
  return ndjsonLine({ error: { code: f.code, message: f.message } });
}

const encoder = new TextEncoder();

/**
 * A response body written by a producer: `write` returns a promise while the client is behind
 * (awaiting it pauses the producer), and throws once the client went away (`onCancel` is called
 * then, to stop the producer's downloads).
 */
export class Pipe {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private wake: (() => void) | undefined;
  private cancelled = false;

  constructor(onCancel: () => void) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.resume(),
        cancel: () => {
          this.cancelled = true;
          onCancel();
          this.resume();
        },
      },
      // Up to 8 chunks waiting; more and the producer waits.
      new CountQueuingStrategy({ highWaterMark: 8 }),
    );
  }

  private resume(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private gone(): Error {
    return new DOMException("the client went away", "AbortError");
  }

  async write(chunk: Uint8Array | string): Promise<void> {
    if (this.cancelled) throw this.gone();
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk.slice();
    if (bytes.byteLength === 0) return;
    this.controller.enqueue(bytes);
    if ((this.controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => (this.wake = r));
    if (this.cancelled) throw this.gone();
  }

  close(): void {
    if (!this.cancelled) this.controller.close();
  }

  /** Ends the body in error: the client sees the transfer cut short. */
  fail(e: unknown): void {
    if (!this.cancelled) this.controller.error(e);
  }
}
