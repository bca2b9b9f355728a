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
 * Semantics are Go's archive/tar (what container runtimes apply; docs/tar-semantics.md): the
 * last of several PAX headers before an entry wins whole, 'X' is read as 'x', a global 'g' header
 * is an entry of its own ("pax-global") applied to nothing, malformed PAX records are CORRUPT,
 * a v7 name ending in "/" is a directory without data, GNU sparse files (old 'S', PAX 0.0, 0.1,
 * 1.0) have their real size and their content is rebuilt with zeros in the holes.
 *
 * Ending: `complete` is true only when the end-of-archive marker was seen: two zero blocks, or
 * one zero block followed by the end of input (Go and GNU tar accept that). The reader stops at
 * the marker and closes its source (unless `drain`). When input ends anywhere else it returns
 * `complete: false` without error, with `cleanEnd` saying whether Go would call that end clean
 * (the caller knows whether the input was the whole layer or a budget ran out). A bad header
 * throws CORRUPT after every good entry before it was yielded.
 */
import { escapeName } from "../names.ts";
import type { DecodedChunk, Entry } from "../types.ts";
import { buildEntry, globalEntry, validSparseMap, type BuiltEntry, type MetaState } from "./entry.ts";
import { BLOCK, corrupt, isZeroBlock, parseHeader, parseSparseExtension, TF, type TarHeader } from "./header.ts";
import { gnuLongName, MAX_META_SIZE, parsePax } from "./pax.ts";
import { parseSparseMap1x0, sparseDataBytes, sparsePieces } from "./sparse.ts";

export type TarEvent = { kind: "entry"; entry: Entry } | { kind: "data"; entry: Entry; chunk: Uint8Array; done: boolean };

export interface TarSummary {
  /** The end-of-archive marker was reached (two zero blocks, or one zero block and the end of input). */
  complete: boolean;
  /**
   * No marker, but the input ended where Go's archive/tar sees a clean end of archive: at a header
   * boundary, or inside the padding after a member. Only meaningful when the input is the whole layer.
   */
  cleanEnd: boolean;
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
   * that event): true → the entry's content follows as "data" events (sparse files rebuilt,
   * holes as zeros).
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
const S_SPARSE_MAP = 5;
const S_END = 6;
const S_DONE = 7;

const EMPTY = new Uint8Array(0);
const ZEROS = new Uint8Array(64 * 1024);

const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

const isMetaFlag = (tf: number): boolean => tf === TF.PAX || tf === TF.PAX_SOLARIS || tf === TF.PAX_GLOBAL || tf === TF.GNU_LONGNAME || tf === TF.GNU_LONGLINK;

export async function* readTar(source: AsyncIterable<DecodedChunk>, opts: ReadTarOptions = {}): AsyncGenerator<TarEvent, TarSummary> {
  const { layer, wantContent } = opts;
  const carry = new Uint8Array(BLOCK);
  let carryLen = 0;
  let state = S_HEADER;
  let skip = 0; // S_SKIP: bytes left to skip
  let skipPad = 0; // S_SKIP: how many of the last of them are padding (an end of input there is clean)
  let pieces: number[] = []; // S_DATA: > 0 stored bytes to hand out, < 0 a hole of zeros
  let piece = 0; // S_DATA: index of the current piece
  let pieceLeft = 0; // S_DATA: bytes left of it
  let dataAfter = 0; // S_DATA: bytes to skip after the content (the padding)
  let dataEntry: Entry | null = null;
  let meta: Uint8Array = EMPTY; // S_META: buffer being filled
  let metaFill = 0;
  let metaHeader: TarHeader | null = null;
  let metaOffset = 0;
  let metaTotal = 0; // bytes of meta data attached to the pending entry
  let firstMeta = -1; // tar offset of the pending entry's first meta header
  const pending: MetaState = { pax: null, longName: null, longLink: null };
  let sparseHeader: TarHeader | null = null; // S_SPARSE_EXT: the 'S' header whose map continues
  let mapBlocks: Uint8Array[] = []; // S_SPARSE_MAP: blocks of a PAX 1.0 map read so far
  let mapEntry: BuiltEntry | null = null; // S_SPARSE_MAP: the entry waiting for its map
  let base = 0; // tar offset of the current chunk's first byte
  let entries = 0;
  let tarBytes = 0;

  const clearPending = (): void => {
    pending.pax = null;
    pending.longName = null;
    pending.longLink = null;
    firstMeta = -1;
    metaTotal = 0;
  };

  const startSkip = (n: number, padding: number): void => {
    skip = n;
    skipPad = padding;
    state = skip > 0 ? S_SKIP : S_HEADER;
  };

  /** A meta header's data is complete: remember what it says for the next entry (a 'g' is an entry itself). */
  const applyMeta = (compressed: number): Entry | null => {
    const h = metaHeader!;
    const tf = h.typeflag;
    let global: Entry | null = null;
    if (tf === TF.PAX || tf === TF.PAX_SOLARIS) {
      pending.pax = parsePax(meta, metaOffset); // the last one wins, whole (as Go)
    } else if (tf === TF.PAX_GLOBAL) {
      // Go returns a global header as an entry, applies it to nothing and forgets any pending meta header.
      global = globalEntry(h, parsePax(meta, metaOffset), metaOffset, compressed, layer);
      clearPending();
    } else if (tf === TF.GNU_LONGNAME) {
      pending.longName = gnuLongName(meta);
    } else {
      pending.longLink = gnuLongName(meta);
    }
    meta = EMPTY;
    metaHeader = null;
    startSkip(pad(metaFill), pad(metaFill));
    return global;
  };

  const finish = (h: TarHeader, lastOffset: number, compressed: number): BuiltEntry => {
    const headerOffset = firstMeta >= 0 ? firstMeta : lastOffset;
    const built = buildEntry(h, pending, headerOffset, compressed, lastOffset, layer);
    clearPending();
    return built;
  };

  /** After an entry was yielded: hand out its content or skip it. `used` = stored bytes already read (a 1.0 map). */
  const afterEntry = (built: BuiltEntry, used: number): void => {
    const { entry, stored, content, sparse } = built;
    const rest = stored - used;
    if (wantContent === undefined || !wantContent(entry)) {
      startSkip(rest + pad(stored), pad(stored));
      return;
    }
    if (sparse) {
      const map = sparse.map!;
      if (sparseDataBytes(map) !== rest) {
        throw corrupt(`sparse file "${escapeName(entry.path)}": its map does not match its ${rest} bytes of data`, entry.headerOffset);
      }
      pieces = sparsePieces(map, entry.size);
    } else pieces = content > 0 ? [content] : [];
    dataEntry = entry;
    piece = 0;
    pieceLeft = Math.abs(pieces[0] ?? 0);
    dataAfter = pad(stored);
    state = S_DATA;
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
      // Holes of a sparse file need no input: they are handed out even when this chunk is used up.
      while ((pos < n || (state === S_DATA && (pieces[piece] ?? 0) <= 0)) && state !== S_DONE) {
        if (state === S_SKIP) {
          const take = Math.min(skip, n - pos);
          pos += take;
          skip -= take;
          if (skip === 0) state = S_HEADER;
          continue;
        }
        if (state === S_DATA) {
          let chunk: Uint8Array;
          if (piece >= pieces.length)
            chunk = EMPTY; // no content at all
          else if (pieces[piece]! < 0) {
            chunk = ZEROS.subarray(0, Math.min(ZEROS.length, pieceLeft));
          } else {
            const take = Math.min(pieceLeft, n - pos);
            chunk = data.subarray(pos, pos + take);
            pos += take;
          }
          pieceLeft -= chunk.length;
          while (pieceLeft === 0 && piece < pieces.length) {
            piece++;
            pieceLeft = Math.abs(pieces[piece] ?? 0);
          }
          const last = piece >= pieces.length;
          if (last) startSkip(dataAfter, dataAfter);
          if (chunk.length > 0 || last) yield { kind: "data", entry: dataEntry!, chunk, done: last };
          continue;
        }
        if (state === S_META) {
          const take = Math.min(meta.length - metaFill, n - pos);
          meta.set(data.subarray(pos, pos + take), metaFill);
          metaFill += take;
          pos += take;
          if (metaFill === meta.length) {
            const global = applyMeta(compressed);
            if (global) {
              entries++;
              yield { kind: "entry", entry: global };
            }
          }
          continue;
        }
        // S_HEADER, S_SPARSE_EXT, S_SPARSE_MAP, S_END: one 512-byte block, straight from the chunk when it is all there.
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
        let used = 0;
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
        } else if (state === S_SPARSE_MAP) {
          const b = mapEntry!;
          mapBlocks.push(blk.slice(bs, bs + BLOCK));
          used = mapBlocks.length * BLOCK;
          if (used > b.stored) throw corrupt("GNU sparse 1.0 map runs past its data", at);
          if (used > MAX_META_SIZE) throw corrupt("GNU sparse 1.0 map too large", at);
          const map = parseSparseMap1x0(concatBlocks(mapBlocks), at);
          if (map === undefined) continue;
          if (!validSparseMap(map, b.entry.size)) throw corrupt("invalid GNU sparse map", at);
          b.sparse!.map = map;
          built = b;
          mapEntry = null;
          mapBlocks = [];
          state = S_HEADER;
        } else {
          const h = parseHeader(blk, bs, at);
          if (h === null) {
            state = S_END;
            continue;
          }
          const tf = h.typeflag;
          if (isMetaFlag(tf)) {
            if (!Number.isSafeInteger(h.size) || h.size < 0) throw corrupt("invalid size in tar header", at);
            if (h.size > MAX_META_SIZE) throw corrupt(`meta header too large (${h.size} bytes)`, at);
            if (tf !== TF.PAX_GLOBAL) {
              if (firstMeta < 0) firstMeta = at;
              metaTotal += h.size;
              if (metaTotal > MAX_META_SIZE) throw corrupt("meta headers too large", at);
            }
            meta = new Uint8Array(h.size);
            metaFill = 0;
            metaHeader = h;
            metaOffset = at;
            state = S_META;
            if (h.size === 0) {
              const global = applyMeta(compressed);
              if (global) {
                entries++;
                yield { kind: "entry", entry: global };
              }
            }
            continue;
          }
          if (h.sparse?.extended) {
            sparseHeader = h;
            state = S_SPARSE_EXT;
            continue;
          }
          built = finish(h, at, compressed);
          if (built.sparse?.mapInData) {
            // Go reads (and checks) a PAX 1.0 map before it returns the entry.
            mapEntry = built;
            state = S_SPARSE_MAP;
            continue;
          }
        }
        if (built === null) continue;
        entries++;
        yield { kind: "entry", entry: built.entry };
        afterEntry(built, used);
      }
      base += n;
      if (state === S_DONE && !opts.drain) break;
    }
    // End of input. After one zero block, Go and GNU tar call that the end of the archive.
    const complete = state === S_DONE || (state === S_END && carryLen === 0);
    const cleanEnd = !complete && carryLen === 0 && (state === S_HEADER || (state === S_SKIP && skip <= skipPad));
    if (state !== S_DONE || opts.drain) tarBytes = base;
    return { complete, cleanEnd, entries, tarBytes };
  } finally {
    if (!sourceDone) await it.return?.();
  }
}

function concatBlocks(blocks: Uint8Array[]): Uint8Array {
  if (blocks.length === 1) return blocks[0]!;
  const out = new Uint8Array(blocks.length * BLOCK);
  blocks.forEach((b, i) => out.set(b, i * BLOCK));
  return out;
}
