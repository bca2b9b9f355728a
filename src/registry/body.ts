import { LayerslayerError } from "../errors.ts";

/**
 * Reads a whole response body, refusing anything over `limit` bytes (untrusted servers). A body
 * that breaks off (a reset, or fewer bytes than its Content-Length) is a NETWORK error, which
 * `Transport.fetchBytes` retries. `onBytes` hears the running count as chunks arrive (progress).
 */
export async function readBounded(res: Response, limit: number, what: string, onBytes?: (received: number) => void): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await discard(res);
    throw new LayerslayerError("CORRUPT", `${what}: ${declared} bytes is more than the ${limit} allowed`);
  }
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const broke = (cause?: unknown) =>
    new LayerslayerError(
      "NETWORK",
      `${what}: the transfer broke off after ${total}${Number.isFinite(declared) ? ` of ${declared}` : ""} bytes`,
      cause === undefined ? undefined : { cause },
    );
  try {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > limit) {
        throw new LayerslayerError("CORRUPT", `${what}: more than the ${limit} bytes allowed`);
      }
      parts.push(chunk);
      onBytes?.(total);
    }
  } catch (e) {
    if (e instanceof LayerslayerError) {
      await discard(res);
      throw e;
    }
    throw broke(e);
  }
  if (Number.isFinite(declared) && total < declared) throw broke();
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** Drops a response body we will not read; a broken body (a 416 promising more than it sends) is no error. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {}
}
