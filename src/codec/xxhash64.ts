/**
 * Streaming XXH64 (seed 0), for the zstd frame checksum (its low 32 bits). Bun.hash.xxHash64 has
 * no streaming form, and BigInt arithmetic is far too slow, so 64-bit values are kept as two
 * unsigned 32-bit halves and multiplied in 16-bit pieces (exact in doubles).
 */

// The five XXH64 primes, as [high, low] 32-bit halves.
const P1H = 0x9e3779b1,
  P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d,
  P2L = 0x27d4eb4f;
const P3H = 0x165667b1,
  P3L = 0x9e3779f9;
const P4H = 0x85ebca77,
  P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f,
  P5L = 0x165667c5;

const TWO32 = 0x1_0000_0000;

// Results of the 64-bit helpers (avoids allocating pairs).
let rh = 0;
let rl = 0;

/** (ah:al) * (bh:bl) mod 2^64 into rh:rl. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  // Low word: the low 32 bits of al * bl. High word: the high 32 bits of al * bl (schoolbook on
  // 16-bit halves, every partial sum below 2^32) plus the low 32 bits of the cross products.
  const a0 = al & 0xffff,
    a1 = al >>> 16,
    b0 = bl & 0xffff,
    b1 = bl >>> 16;
  const t = Math.imul(a0, b0) >>> 0;
  const m1 = ((Math.imul(a1, b0) >>> 0) + (t >>> 16)) >>> 0;
  const m2 = ((Math.imul(a0, b1) >>> 0) + (m1 & 0xffff)) >>> 0;
  rl = Math.imul(al, bl) >>> 0;
  rh = ((Math.imul(a1, b1) >>> 0) + (m1 >>> 16) + (m2 >>> 16) + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64 into rh:rl. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const low = al + bl;
  rl = low >>> 0;
  rh = (ah + bh + (low >= TWO32 ? 1 : 0)) >>> 0;
}

/** Rotate left by n (0 < n < 32) into rh:rl. */
function rotl(h: number, l: number, n: number): void {
  rh = ((h << n) | (l >>> (32 - n))) >>> 0;
  rl = ((l << n) | (h >>> (32 - n))) >>> 0;
}

/** round(acc, lane) = rotl(acc + lane * P2, 31) * P1, into rh:rl. */
function round(acch: number, accl: number, lh: number, ll: number): void {
  mul(lh, ll, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

export class XxHash64 {
  // Four accumulators as halves.
  private v = new Uint32Array(8);
  private readonly tail = new Uint8Array(32);
  private tailLen = 0;
  private total = 0;

  constructor() {
    const v = this.v;
    add(P1H, P1L, P2H, P2L);
    ((v[0] = rh), (v[1] = rl)); // seed + P1 + P2
    ((v[2] = P2H), (v[3] = P2L)); // seed + P2
    ((v[4] = 0), (v[5] = 0)); // seed
    add(0, 0, ~P1H >>> 0, ~P1L >>> 0);
    add(rh, rl, 0, 1);
    ((v[6] = rh), (v[7] = rl)); // seed - P1
  }

  update(data: Uint8Array): this {
    this.total += data.length;
    let i = 0;
    if (this.tailLen > 0) {
      const take = Math.min(32 - this.tailLen, data.length);
      this.tail.set(data.subarray(0, take), this.tailLen);
      this.tailLen += take;
      i = take;
      if (this.tailLen < 32) return this;
      this.stripes(this.tail, 0, 32);
      this.tailLen = 0;
    }
    const whole = i + ((data.length - i) & ~31);
    if (whole > i) this.stripes(data, i, whole);
    if (whole < data.length) {
      this.tail.set(data.subarray(whole));
      this.tailLen = data.length - whole;
    }
    return this;
  }

  /**
   * Consumes whole 32-byte stripes of d[from, to): lane k of each stripe goes to accumulator k % 4.
   * This is round() and mul() written out, on locals, because it is the hot loop.
   */
  private stripes(d: Uint8Array, from: number, to: number): void {
    const v = this.v;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (let p = from, k = 0; p < to; p += 8, k = (k + 2) & 7) {
      const ll = dv.getUint32(p, true),
        lh = dv.getUint32(p + 4, true);
      // x = lane * P2
      let a0 = ll & 0xffff,
        a1 = ll >>> 16;
      let t = Math.imul(a0, P2L & 0xffff) >>> 0;
      let m1 = ((Math.imul(a1, P2L & 0xffff) >>> 0) + (t >>> 16)) >>> 0;
      let m2 = ((Math.imul(a0, P2L >>> 16) >>> 0) + (m1 & 0xffff)) >>> 0;
      const xl = Math.imul(ll, P2L) >>> 0;
      const xh = ((Math.imul(a1, P2L >>> 16) >>> 0) + (m1 >>> 16) + (m2 >>> 16) + Math.imul(ll, P2H) + Math.imul(lh, P2L)) >>> 0;
      // acc += x
      const sum = v[k + 1]! + xl;
      const sl = sum >>> 0;
      const sh = (v[k]! + xh + (sum > 0xffffffff ? 1 : 0)) >>> 0;
      // rotate left 31
      const yh = ((sh << 31) | (sl >>> 1)) >>> 0;
      const yl = ((sl << 31) | (sh >>> 1)) >>> 0;
      // acc = y * P1
      ((a0 = yl & 0xffff), (a1 = yl >>> 16));
      t = Math.imul(a0, P1L & 0xffff) >>> 0;
      m1 = ((Math.imul(a1, P1L & 0xffff) >>> 0) + (t >>> 16)) >>> 0;
      m2 = ((Math.imul(a0, P1L >>> 16) >>> 0) + (m1 & 0xffff)) >>> 0;
      v[k + 1] = Math.imul(yl, P1L);
      v[k] = (Math.imul(a1, P1L >>> 16) >>> 0) + (m1 >>> 16) + (m2 >>> 16) + Math.imul(yl, P1H) + Math.imul(yh, P1L);
    }
  }

  /** The low 32 bits of the digest (what a zstd frame stores). */
  digestLow32(): number {
    return this.digest()[1];
  }

  /** The digest as [high, low] unsigned 32-bit halves. */
  digest(): [number, number] {
    const v = this.v;
    let hh: number, hl: number;
    if (this.total >= 32) {
      rotl(v[0]!, v[1]!, 1);
      let sh = rh,
        sl = rl;
      rotl(v[2]!, v[3]!, 7);
      (add(sh, sl, rh, rl), (sh = rh), (sl = rl));
      rotl(v[4]!, v[5]!, 12);
      (add(sh, sl, rh, rl), (sh = rh), (sl = rl));
      rotl(v[6]!, v[7]!, 18);
      (add(sh, sl, rh, rl), (sh = rh), (sl = rl));
      for (let k = 0; k < 8; k += 2) {
        round(0, 0, v[k]!, v[k + 1]!);
        mul((sh ^ rh) >>> 0, (sl ^ rl) >>> 0, P1H, P1L);
        (add(rh, rl, P4H, P4L), (sh = rh), (sl = rl));
      }
      ((hh = sh), (hl = sl));
    } else {
      ((hh = P5H), (hl = P5L));
    }
    (add(hh, hl, Math.floor(this.total / TWO32) >>> 0, this.total >>> 0), (hh = rh), (hl = rl));
    const t = this.tail;
    const dv = new DataView(t.buffer, t.byteOffset, this.tailLen);
    let p = 0;
    for (; p + 8 <= this.tailLen; p += 8) {
      round(0, 0, dv.getUint32(p + 4, true), dv.getUint32(p, true));
      rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 27);
      mul(rh, rl, P1H, P1L);
      (add(rh, rl, P4H, P4L), (hh = rh), (hl = rl));
    }
    if (p + 4 <= this.tailLen) {
      mul(0, dv.getUint32(p, true), P1H, P1L);
      rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 23);
      mul(rh, rl, P2H, P2L);
      (add(rh, rl, P3H, P3L), (hh = rh), (hl = rl));
      p += 4;
    }
    for (; p < this.tailLen; p++) {
      mul(0, t[p]!, P5H, P5L);
      rotl((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 11);
      (mul(rh, rl, P1H, P1L), (hh = rh), (hl = rl));
    }
    // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
    hl = (hl ^ (hh >>> 1)) >>> 0;
    (mul(hh, hl, P2H, P2L), (hh = rh), (hl = rl));
    const sl = ((hl >>> 29) | (hh << 3)) >>> 0;
    hh = (hh ^ (hh >>> 29)) >>> 0;
    hl = (hl ^ sl) >>> 0;
    (mul(hh, hl, P3H, P3L), (hh = rh), (hl = rl));
    hl = (hl ^ hh) >>> 0;
    return [hh, hl];
  }
}
