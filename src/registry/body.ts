import { LayerslayerError } from "../errors.ts";

/** Reads a whole response body, refusing anything over `limit` bytes (untrusted servers). */
export async function readBounded(res: Response, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await discard(res);
    throw new LayerslayerError("CORRUPT", `${what}: ${declared} bytes is more than the ${limit} allowed`);
  }
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > limit) {
      throw new LayerslayerError("CORRUPT", `${what}: more than the ${limit} bytes allowed`);
    }
    parts.push(chunk);
  }
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
