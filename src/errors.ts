/** One error family for every expected failure: a short code, a one-line message, a stable exit code. */
export type ErrorCode =
  | "USAGE"
  | "AUTH"
  | "NOT_FOUND"
  | "RATE_LIMIT"
  | "NETWORK"
  | "CORRUPT"
  | "UNSUPPORTED"
  | "IO";

export const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  AUTH: 3,
  NOT_FOUND: 4,
  RATE_LIMIT: 5,
  NETWORK: 6,
  CORRUPT: 7,
  UNSUPPORTED: 8,
  IO: 9,
};

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
