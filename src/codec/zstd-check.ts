/**
 * A dry run of a compressed zstd block's structure (RFC 8878 §3.1.1.3) before fzstd decodes it.
 *
 * fzstd 0.1.1 trusts the block: a damaged sequences section can ask for up to ~98k sequences of up
 * to ~200 KiB each, which it "copies" into a 128 KiB buffer (writes past the end are dropped, the
 * loops still run: minutes of CPU for a 1 KiB block), and a Huffman weight table whose FSE states
 * read no bits makes its weight loop spin forever. Real zstd stops both at the block's size. So
 * each compressed block is walked first, without producing output: the literals section's sizes,
 * the Huffman weights' count, and every sequence's literal and match lengths, decoded with the
 * block's own FSE tables. A block whose sequences would produce more than a block may hold, use
 * more literals than it has, or read past its bit stream is CORRUPT, before fzstd sees it. The
 * walk costs one pass over the sequence codes (no byte copying), a few percent of the decode.
 */
import { LayerslayerError } from "../errors.ts";

export const MAX_BLOCK_OUTPUT = 128 * 1024;

/** An FSE decoding table: per state, the symbol, the bits to read and the base of the next state. */
interface FseTable {
  log: number;
  symbol: Uint8Array;
  bits: Uint8Array;
  base: Uint16Array;
}

class Corrupt extends Error {}

const highBit = (n: number): number => 31 - Math.clz32(n);

/** Little-endian bits [pos, pos+n) of `d` (n ≤ 24), zeros past either end. */
function bitsAt(d: Uint8Array, pos: number, n: number): number {
  if (n === 0) return 0;
  const b = pos >> 3;
  const word = (d[b] ?? 0) | ((d[b + 1] ?? 0) << 8) | ((d[b + 2] ?? 0) << 16) | ((d[b + 3] ?? 0) << 24);
  return (word >>> (pos & 7)) & ((1 << n) - 1);
}

/** The decoding table for normalized counts (-1 = "less than one"), RFC 8878 §4.1.1. */
function buildTable(counts: readonly number[], log: number): FseTable {
  const size = 1 << log;
  const symbol = new Uint8Array(size);
  const bits = new Uint8Array(size);
  const base = new Uint16Array(size);
  const next = new Array<number>(counts.length);
  let high = size - 1;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] === -1) {
      symbol[high--] = s;
      next[s] = 1;
    } else next[s] = counts[s]!;
  }
  const step = (size >> 1) + (size >> 3) + 3;
  let pos = 0;
  for (let s = 0; s < counts.length; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      symbol[pos] = s;
      do pos = (pos + step) & (size - 1);
      while (pos > high);
    }
  }
  if (pos !== 0) throw new Corrupt("FSE table does not fill its states");
  for (let u = 0; u < size; u++) {
    const ns = next[symbol[u]!]!++;
    const nb = log - highBit(ns);
    bits[u] = nb;
    base[u] = (ns << nb) - size;
  }
  return { log, symbol, bits, base };
}

/** Reads an FSE table description at byte `at`; returns the table and the byte after it. */
function readFse(d: Uint8Array, at: number, end: number, maxLog: number, maxSymbol: number): [FseTable, number] {
  let pos = at * 8;
  const log = bitsAt(d, pos, 4) + 5;
  pos += 4;
  if (log > maxLog) throw new Corrupt(`FSE accuracy log ${log} over ${maxLog}`);
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  const counts: number[] = [];
  let previousZero = false;
  while (remaining > 1) {
    if (previousZero) {
      let repeat: number;
      do {
        repeat = bitsAt(d, pos, 2);
        pos += 2;
        for (let i = 0; i < repeat; i++) counts.push(0);
      } while (repeat === 3);
      if (counts.length > maxSymbol + 1) throw new Corrupt("FSE table has too many symbols");
    }
    const max = 2 * threshold - 1 - remaining;
    let value = bitsAt(d, pos, nbBits - 1);
    if (value < max) pos += nbBits - 1;
    else {
      value = bitsAt(d, pos, nbBits);
      if (value >= threshold) value -= max;
      pos += nbBits;
    }
    const count = value - 1;
    remaining -= count < 0 ? -count : count;
    counts.push(count);
    if (counts.length > maxSymbol + 1) throw new Corrupt("FSE table has too many symbols");
    previousZero = count === 0;
    while (remaining < threshold && threshold > 1) {
      nbBits--;
      threshold >>= 1;
    }
  }
  if (remaining !== 1) throw new Corrupt("FSE probabilities do not add up");
  const next = (pos + 7) >> 3;
  if (next > end) throw new Corrupt("FSE table runs past the block");
  return [buildTable(counts, log), next];
}

function rle(sym: number): FseTable {
  return { log: 0, symbol: Uint8Array.of(sym), bits: Uint8Array.of(0), base: Uint16Array.of(0) };
}

// Default distributions (RFC 8878 §3.1.1.3.2.2).
const LL_DEFAULT = buildTable([4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1], 6);
const ML_DEFAULT = buildTable([1, 4, 3, 2, 2, 2, 2, 2, 2, ...new Array<number>(37).fill(1), -1, -1, -1, -1, -1, -1, -1], 6);
const OF_DEFAULT = buildTable([1, 1, 1, 1, 1, 1, 2, 2, 2, ...new Array<number>(15).fill(1), -1, -1, -1, -1, -1], 5);

// Extra bits and baselines of literal-length and match-length codes (RFC 8878 §3.1.1.3.2.1.1).
const LL_BITS = [...new Array<number>(16).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const ML_BITS = [...new Array<number>(32).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
function baselines(bits: readonly number[], first: number): number[] {
  const out: number[] = [];
  for (const b of bits) {
    out.push(first);
    first += 1 << b;
  }
  return out;
}
const LL_BASE = baselines(LL_BITS, 0);
const ML_BASE = baselines(ML_BITS, 3);
const MAX_LL = 35;
const MAX_ML = 52;
const MAX_OF = 31;

/** Reads a zstd backward bit stream: the last byte's highest set bit marks its start. */
class BackwardBits {
  pos: number;
  constructor(
    private readonly d: Uint8Array,
    start: number,
    end: number,
  ) {
    const last = d[end - 1] ?? 0;
    if (end <= start || last === 0) throw new Corrupt("bit stream without its end marker");
    this.pos = (end - 1 - start) * 8 + highBit(last);
    this.d = d.subarray(start, end);
  }
  read(n: number): number {
    this.pos -= n;
    if (this.pos < 0) throw new Corrupt("bit stream read past its start");
    if (n <= 24) return bitsAt(this.d, this.pos, n);
    return bitsAt(this.d, this.pos, 24) + bitsAt(this.d, this.pos + 24, n - 24) * 2 ** 24;
  }
}

/** The Huffman tree description: too many FSE-coded weights is corrupt (fzstd would spin). */
function checkHuffmanWeights(d: Uint8Array, at: number, end: number): void {
  const header = d[at]!;
  if (header >= 128) return; // direct 4-bit weights: a bounded loop in fzstd
  const stop = at + 1 + header;
  if (stop > end) throw new Corrupt("Huffman weights run past the literals");
  const [table, from] = readFse(d, at + 1, stop, 6, 255);
  const bits = new BackwardBits(d, from, stop);
  // Two interleaved states, as fzstd reads them: stop when the stream cannot feed the next read.
  let s1 = 0;
  let s2 = 0;
  let n1 = table.log;
  let n2 = table.log;
  let weights = 0;
  for (;;) {
    if (bits.pos - n1 < 0) break;
    s1 += bits.read(n1);
    weights++;
    if (bits.pos - n2 < 0) break;
    s2 += bits.read(n2);
    weights++;
    if (weights > 255) throw new Corrupt("more than 255 Huffman weights");
    n1 = table.bits[s1] ?? 0;
    s1 = table.base[s1] ?? 0;
    n2 = table.bits[s2] ?? 0;
    s2 = table.base[s2] ?? 0;
  }
  if (weights + 1 > 256) throw new Corrupt("more than 255 Huffman weights");
}

/** Per frame: the sequence tables a "repeat" mode refers to. */
export class ZstdBlockCheck {
  private tables: [FseTable, FseTable, FseTable] | undefined;

  /** `block` is a whole compressed block, its 3-byte header included; `at` its offset (for messages). */
  check(block: Uint8Array, at: number): void {
    try {
      this.walk(block);
    } catch (e) {
      if (!(e instanceof Corrupt)) throw e;
      throw new LayerslayerError("CORRUPT", `invalid zstd block at offset ${at}: ${e.message}`);
    }
  }

  private walk(d: Uint8Array): void {
    const end = d.length;
    let pos = 3;
    const b0 = d[pos] ?? 0;
    const type = b0 & 3;
    const sf = (b0 >> 2) & 3;
    let regen: number;
    let size: number;
    if (type < 2) {
      if (sf === 1) [regen, pos] = [(b0 >> 4) + ((d[pos + 1] ?? 0) << 4), pos + 2];
      else if (sf === 3) [regen, pos] = [(b0 >> 4) + ((d[pos + 1] ?? 0) << 4) + ((d[pos + 2] ?? 0) << 12), pos + 3];
      else [regen, pos] = [b0 >> 3, pos + 1];
      size = type === 0 ? regen : 1;
    } else {
      const b1 = d[pos + 1] ?? 0;
      const b2 = d[pos + 2] ?? 0;
      const b3 = d[pos + 3] ?? 0;
      const b4 = d[pos + 4] ?? 0;
      if (sf < 2) [regen, size, pos] = [(b0 >> 4) + ((b1 & 63) << 4), (b1 >> 6) + (b2 << 2), pos + 3];
      else if (sf === 2) [regen, size, pos] = [(b0 >> 4) + (b1 << 4) + ((b2 & 3) << 12), (b2 >> 2) + (b3 << 6), pos + 4];
      else [regen, size, pos] = [(b0 >> 4) + (b1 << 4) + ((b2 & 63) << 12), (b2 >> 6) + (b3 << 2) + (b4 << 10), pos + 5];
    }
    if (regen > MAX_BLOCK_OUTPUT) throw new Corrupt(`${regen} bytes of literals in one block`);
    if (pos + size > end) throw new Corrupt("literals run past the block");
    if (type === 2) checkHuffmanWeights(d, pos, pos + size);
    pos += size;
    if (pos >= end) return;
    let ns = d[pos++]!;
    if (ns === 0) return;
    if (ns === 255) {
      ns = (d[pos] ?? 0) + ((d[pos + 1] ?? 0) << 8) + 0x7f00;
      pos += 2;
    } else if (ns >= 128) ns = ((ns - 128) << 8) + (d[pos++] ?? 0);
    const modes = d[pos++] ?? 0;
    if (modes & 3) throw new Corrupt("reserved bits set in the sequence modes");
    const prev = this.tables;
    const table = (shift: number, fallback: FseTable, maxLog: number, maxSymbol: number, which: number): FseTable => {
      const mode = (modes >> shift) & 3;
      if (mode === 0) return fallback;
      if (mode === 1) {
        const sym = d[pos++] ?? 0;
        if (sym > maxSymbol) throw new Corrupt(`RLE code ${sym} out of range`);
        return rle(sym);
      }
      if (mode === 2) {
        const [t, next] = readFse(d, pos, end, maxLog, maxSymbol);
        pos = next;
        return t;
      }
      if (!prev) throw new Corrupt("repeated sequence table with none before it");
      return prev[which]!;
    };
    const ll = table(6, LL_DEFAULT, 9, MAX_LL, 2);
    const of = table(4, OF_DEFAULT, 8, MAX_OF, 1);
    const ml = table(2, ML_DEFAULT, 9, MAX_ML, 0);
    this.tables = [ml, of, ll];
    const bits = new BackwardBits(d, pos, end);
    let sLL = bits.read(ll.log);
    let sOF = bits.read(of.log);
    let sML = bits.read(ml.log);
    let produced = 0;
    let literals = 0;
    for (let i = 0; i < ns; i++) {
      const llCode = ll.symbol[sLL]!;
      const mlCode = ml.symbol[sML]!;
      const ofCode = of.symbol[sOF]!;
      if (llCode > MAX_LL || mlCode > MAX_ML || ofCode > MAX_OF) throw new Corrupt("sequence code out of range");
      bits.read(ofCode);
      const matchLength = ML_BASE[mlCode]! + bits.read(ML_BITS[mlCode]!);
      const literalLength = LL_BASE[llCode]! + bits.read(LL_BITS[llCode]!);
      literals += literalLength;
      produced += literalLength + matchLength;
      if (literals > regen) throw new Corrupt("sequences use more literals than the block has");
      if (produced > MAX_BLOCK_OUTPUT) throw new Corrupt("sequences produce more than a block may hold");
      if (i + 1 < ns) {
        sLL = ll.base[sLL]! + bits.read(ll.bits[sLL]!);
        sML = ml.base[sML]! + bits.read(ml.bits[sML]!);
        sOF = of.base[sOF]! + bits.read(of.bits[sOF]!);
      }
    }
  }
}
