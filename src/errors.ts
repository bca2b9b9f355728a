/** One error family for every expected failure: a short code, a one-line message, a stable exit code. */
export type ErrorCode =
  | "USAGE"
  | "AUTH"
  | "NOT_FOUND"
  | "RATE_LIMIT"
  | "NETWORK"
  | "CORRUPT"
  | "UNSUPPORTED"
  | "IO"
  /** The caller cancelled the read (its AbortSignal fired): nothing is wrong with the image. */
  | "ABORTED";

export const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  AUTH: 3,
  NOT_FOUND: 4,
  RATE_LIMIT: 5,
  NETWORK: 6,
  CORRUPT: 7,
  UNSUPPORTED: 8,
  IO: 9,
  ABORTED: 130,
};

/** What each code is, in words, for summaries ("stopped by a network error"). */
export const ERROR_KINDS: Record<ErrorCode, string> = {
  USAGE: "a usage error",
  AUTH: "an authentication error",
  NOT_FOUND: "a missing blob",
  RATE_LIMIT: "rate limiting",
  NETWORK: "a network error",
  CORRUPT: "corrupt data",
  UNSUPPORTED: "an unsupported format",
  IO: "a local I/O error",
  ABORTED: "cancellation",
};

/** The error a cancelled read ends with (the signal's reason is kept as its cause). */
export function abortError(signal: AbortSignal, what = "the read"): LayerslayerError {
  return new LayerslayerError("ABORTED", `${what} was cancelled`, { cause: signal.reason });
}

export class LayerslayerError extends Error {
  readonly code: ErrorCode;
  /** Extra detail shown only with --verbose (never credentials). */
  readonly detail?: string;
  constructor(code: ErrorCode, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LayerslayerError";
    this.code = code;
    this.detail = options?.detail;
  }
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isLayerslayerError(e: unknown): e is LayerslayerError {
  return e instanceof LayerslayerError;
}

/**
 * A message as printed: one line, every control character shown as `\xNN` or `\uNNNN`. The last
 * guard before stderr; server- and layer-supplied text is escaped where it enters a message.
 */
export function printable(message: string): string {
  return message.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** The messages of an error's causes, outermost first (at most `depth`), for --verbose. */
export function causeChain(e: unknown, depth = 5): string[] {
  const out: string[] = [];
  let cause = (e as { cause?: unknown } | undefined)?.cause;
  while (cause !== undefined && cause !== null && out.length < depth) {
    const c = cause as { message?: unknown; code?: unknown; name?: unknown };
    const text = typeof c.message === "string" ? c.message : String(cause);
    const code = typeof c.code === "string" && !text.includes(c.code) ? ` (${c.code})` : "";
    out.push(printable(`${text}${code}`));
    cause = (cause as { cause?: unknown }).cause;
  }
  return out;
}
