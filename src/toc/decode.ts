/** Decoding a whole small piece of a layer held in memory (a TOC, a chunk), with a size bound. */
import { LayerslayerError } from "../errors.ts";
import { chooseDecoder } from "../codec/index.ts";
import { readTar } from "../tar/reader.ts";
import type { DecodedChunk } from "../types.ts";

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array, void> {
  yield bytes;
}

/** Any decoder will do: nothing here needs compressed offsets. */
async function* decoder(codec: "gzip" | "zstd", bytes: Uint8Array): AsyncGenerator<DecodedChunk, unknown> {
  const decode = await chooseDecoder(codec, "bounded").load();
  return yield* decode(once(bytes));
}

/**
 * Decoded bytes of `bytes`, up to `limit` of them: `exact` says the output must be exactly `limit`
 * bytes (more is CORRUPT); otherwise decoding stops at `limit` and returns what it has. Nothing is
 * allocated for `limit` up front (it comes from untrusted numbers): memory follows what was decoded,
 * and the decoder is stopped as soon as it passes the limit.
 */
export async function decodeBytes(codec: "gzip" | "zstd", bytes: Uint8Array, limit: number, what: string, exact = false): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let have = 0;
  const gen = decoder(codec, bytes);
  try {
    for await (const chunk of gen) {
      const room = limit - have;
      if (chunk.data.length > room) {
        if (exact) throw new LayerslayerError("CORRUPT", `${what} decodes to more than ${limit} bytes`);
        parts.push(chunk.data.slice(0, room));
        have = limit;
        break;
      }
      parts.push(chunk.data.slice());
      have += chunk.data.length;
    }
  } finally {
    await gen.return(undefined);
  }
  if (exact && have !== limit) throw new LayerslayerError("CORRUPT", `${what} decodes to ${have} bytes, not ${limit}`);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
}

/** Passes decoded chunks on until more than `limit` bytes came out, then stops the decoder with CORRUPT. */
async function* capped(source: AsyncGenerator<DecodedChunk, unknown>, limit: number, what: string): AsyncGenerator<DecodedChunk, void> {
  let out = 0;
  try {
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      out += next.value.data.length;
      if (out > limit) throw new LayerslayerError("CORRUPT", `${what} decodes to more than ${limit} bytes`);
      yield next.value;
    }
  } finally {
    await source.return(undefined);
  }
}

/** The content of the member `name` of a gzip-compressed tar held in memory (at most `limit` bytes). */
export async function tarMember(gz: Uint8Array, name: string, limit: number, what: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let have = 0;
  let found = false;
  // The member's own size is checked from its header; this bounds everything else the gzip holds
  // (other members, padding) to the same amount plus a few headers.
  const tar = readTar(capped(decoder("gzip", gz), limit + 64 * 1024, what), { wantContent: (e) => e.path === name && e.type === "file" });
  try {
    for await (const ev of tar) {
      if (ev.kind === "entry") {
        if (ev.entry.path === name && ev.entry.size > limit) throw new LayerslayerError("CORRUPT", `${what} is ${ev.entry.size} bytes, more than ${limit}`);
        continue;
      }
      parts.push(ev.chunk.slice());
      have += ev.chunk.length;
      if (ev.done) {
        found = true;
        break;
      }
    }
  } finally {
    await tar.return({ complete: false, cleanEnd: false, entries: 0, tarBytes: 0 });
  }
  if (!found) throw new LayerslayerError("CORRUPT", `${what} holds no ${name}`);
  return Buffer.concat(parts, have);
}
