/**
 * Streaming tar reader: headers in, entries out, content skipped without buffering.
 *
 * Memory: a 512-byte carry buffer for headers that straddle input chunks, plus one meta header
 * buffer (PAX / GNU long name) bounded by MAX_META_SIZE. Content is never copied: skipped by
 * arithmetic, or handed out as subarrays of the input chunks (valid until the next event: copy
 * them if you keep them).
 *
 * Offsets: `headerOffset` is the tar offset of the entry's first header block (its first PAX 'x'
 * or GNU 'L'/'K' header if it has any; a PAX global 'g' header is not part of any entry).
 * `compressedOffset` is the `compressedConsumed` of the input chunk that completed the entry's
 * last header block.
 *
 * Ending: `complete` is true only when the end-of-archive marker was seen: two zero blocks, or
 * one zero block followed by the end of input (GNU tar accepts that). The reader stops at the
 * marker and closes its source (unless `drain`). When input ends anywhere else (a byte budget
 * ran out) it returns `complete: false` without error. A bad header throws CORRUPT after every
 * good entry before it was yielded.
 */
import { LayerslayerError } from "../errors.ts";
import type { DecodedChunk, Entry } from "../types.ts";
import { buildEntry, type BuiltEntry, type MetaState } from "./entry.ts";
import { BLOCK, corrupt, isZeroBlock, parseHeader, parseSparseExtension, TF, type TarHeader } from "./header.ts";
import { gnuLongName, MAX_META_SIZE, mergePax, parsePax, paxWeight, type PaxRecords } from "./pax.ts";

export type TarEvent =
  | { kind: "entry"; entry: Entry }
  | { kind: "data"; entry: Entry; chunk: Uint8Array; done: boolean };

export interface TarSummary {
  /** The end-of-archive marker was reached. */
  complete: boolean;
  /** Entries yielded. */
  entries: number;
  /** Tar bytes read: up to the end marker when complete, all input otherwise (or with `drain`). */
  tarBytes: number;
}

export interface ReadTarOptions {
  /** Copied into every entry's `layer`. */
  layer?: number;
  /**
   * Asked after each "entry" event is consumed (so it may depend on what the consumer did with
   * that event): true → the entry's content follows as "data" events.
   */
  wantContent?: (e: Entry) => boolean;
  /** After the end marker, keep reading the source to its end (e.g. to let a decoder verify its trailer). */
  drain?: boolean;
}

const S_HEADER = 0;
const S_SKIP = 1;
const S_DATA = 2;
const S_META = 3;
const S_SPARSE_EXT = 4;
const S_END = 5;
const S_DONE = 6;

const EMPTY = new Uint8Array(0);

const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

export async function* readTar(
  source: AsyncIterable<DecodedChunk>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarEvent, TarSummary> {
  const { layer, wantContent } = opts;
  const carry = new Uint8Array(BLOCK);
  let carryLen = 0;
  let state = S_HEADER;
  let skip = 0; // S_SKIP: bytes left to skip
  let dataLeft = 0; // S_DATA: content bytes left to hand out
  let dataAfter = 0; // S_DATA: bytes to skip after the content
  let dataEntry: Entry | null = null;
  let meta: Uint8Array = EMPTY; // S_META: buffer being filled
  let metaFill = 0;
  let metaKind = 0;
  let metaOffset = 0;
  let metaTotal = 0; // bytes of meta data attached to the pending entry
  let firstMeta = -1; // tar offset of the pending entry's first meta header
  let globalPax: PaxRecords | null = null;
  const pending: MetaState = { pax: null, longName: null, longLink: null };
  let sparseHeader: TarHeader | null = null;
  let base = 0; // tar offset of the current chunk's first byte
  let entries = 0;
  let tarBytes = 0;

  /** A meta header's data is complete: remember what it says for the next entry. */
  const applyMeta = (): void => {
    if (metaKind === TF.PAX) {
      pending.pax = mergePax(pending.pax, parsePax(meta, metaOffset));
    } else if (metaKind === TF.PAX_GLOBAL) {
      globalPax = mergePax(globalPax, parsePax(meta, metaOffset));
      if (paxWeight(globalPax!) > MAX_META_SIZE) throw corrupt("PAX global headers too large", metaOffset);
    } else if (metaKind === TF.GNU_LONGNAME) {
      pending.longName = gnuLongName(meta);
    } else {
      pending.longLink = gnuLongName(meta);
    }
    meta = EMPTY;
    skip = pad(metaFill);
    state = skip > 0 ? S_SKIP : S_HEADER;
  };

  const finish = (h: TarHeader, lastOffset: number, compressed: number): BuiltEntry => {
    const merged: MetaState = {
      pax: mergePax(globalPax, pending.pax),
      longName: pending.longName,
      longLink: pending.longLink,
    };
    const headerOffset = firstMeta >= 0 ? firstMeta : lastOffset;
    const built = buildEntry(h, merged, headerOffset, compressed, lastOffset, layer);
    pending.pax = null;
    pending.longName = null;
    pending.longLink = null;
    firstMeta = -1;
    metaTotal = 0;
    return built;
  };

  const it = source[Symbol.asyncIterator]();
  let sourceDone = false;
  try {
    for (;;) {
      let r: IteratorResult<DecodedChunk>;
      try {
        r = await it.next();
      } catch (e) {
        sourceDone = true;
        throw e;
      }
      if (r.done) {
        sourceDone = true;
        break;
      }
      const data = r.value.data;
      const compressed = r.value.compressedConsumed;
      const n = data.length;
      let pos = 0;
      while (pos < n && state !== S_DONE) {
        if (state === S_SKIP) {
          const take = Math.min(skip, n - pos);
          pos += take;
          skip -= take;
          if (skip === 0) state = S_HEADER;
          continue;
        }
        if (state === S_DATA) {
          const take = Math.min(dataLeft, n - pos);
          const piece = data.subarray(pos, pos + take);
          pos += take;
          dataLeft -= take;
          const last = dataLeft === 0;
          if (last) {
            skip = dataAfter;
            state = skip > 0 ? S_SKIP : S_HEADER;
          }
          yield { kind: "data", entry: dataEntry!, chunk: piece, done: last };
          continue;
        }
        if (state === S_META) {
          const take = Math.min(meta.length - metaFill, n - pos);
          meta.set(data.subarray(pos, pos + take), metaFill);
          metaFill += take;
          pos += take;
          if (metaFill === meta.length) applyMeta();
          continue;
        }
        // S_HEADER, S_SPARSE_EXT, S_END: one 512-byte block, straight from the chunk when it is all there.
        let blk: Uint8Array;
        let bs: number;
        if (carryLen === 0 && n - pos >= BLOCK) {
          blk = data;
          bs = pos;
          pos += BLOCK;
        } else {
          const take = Math.min(BLOCK - carryLen, n - pos);
          carry.set(data.subarray(pos, pos + take), carryLen);
          carryLen += take;
          pos += take;
          if (carryLen < BLOCK) continue;
          carryLen = 0;
          blk = carry;
          bs = 0;
        }
        const at = base + pos - BLOCK; // tar offset of this block
        let built: BuiltEntry | null = null;
        if (state === S_END) {
          if (!isZeroBlock(blk, bs)) throw corrupt("non-zero block after a lone zero block", at);
          state = S_DONE;
          tarBytes = base + pos;
          break;
        } else if (state === S_SPARSE_EXT) {
          const h = sparseHeader!;
          if (!parseSparseExtension(blk, bs, h.sparse!.map, at)) {
            sparseHeader = null;
            state = S_HEADER;
            built = finish(h, at, compressed);
          }
        } else {
          const h = parseHeader(blk, bs, at);
          if (h === null) {
            state = S_END;
            continue;
          }
          const tf = h.typeflag;
          if (tf === TF.PAX || tf === TF.PAX_GLOBAL || tf === TF.GNU_LONGNAME || tf === TF.GNU_LONGLINK) {
            if (!Number.isSafeInteger(h.size) || h.size < 0) throw corrupt("invalid size in tar header", at);
            if (h.size > MAX_META_SIZE) throw corrupt(`meta header too large (${h.size} bytes)`, at);
            if (tf !== TF.PAX_GLOBAL) {
              if (firstMeta < 0) firstMeta = at;
              metaTotal += h.size;
              if (metaTotal > MAX_META_SIZE) throw corrupt("meta headers too large", at);
            }
            meta = new Uint8Array(h.size);
            metaFill = 0;
            metaKind = tf;
            metaOffset = at;
            state = S_META;
            if (h.size === 0) applyMeta();
            continue;
          }
          if (h.sparse?.extended) {
            sparseHeader = h;
            state = S_SPARSE_EXT;
            continue;
          }
          built = finish(h, at, compressed);
        }
        if (built === null) continue;

        const { entry, stored, content, sparse } = built;
        entries++;
        yield { kind: "entry", entry };
        if (wantContent !== undefined && wantContent(entry)) {
          if (sparse) {
            throw new LayerslayerError("UNSUPPORTED", `content of sparse file ${JSON.stringify(entry.path)} is not supported`);
          }
          if (content === 0) {
            yield { kind: "data", entry, chunk: EMPTY, done: true };
          } else {
            dataEntry = entry;
            dataLeft = content;
            dataAfter = stored - content + pad(stored);
            state = S_DATA;
            continue;
          }
        }
        skip = stored + pad(stored);
        state = skip > 0 ? S_SKIP : S_HEADER;
      }
      base += n;
      if (state === S_DONE && !opts.drain) break;
    }
    // End of input. After one zero block, GNU tar calls that the end of the archive.
    const complete = state === S_DONE || state === S_END;
    if (state !== S_DONE || opts.drain) tarBytes = base;
    return { complete, entries, tarBytes };
  } finally {
    if (!sourceDone) await it.return?.();
  }
}
