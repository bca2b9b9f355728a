/**
 * Mutations of one input: bit flips, interesting bytes, truncation, deletion and duplication of a
 * slice, splices with another seed, and (for tar) numeric header fields overwritten with junk.
 * Everything is driven by one seeded PRNG, so a case is reproduced from its number alone.
 */

/** The PRNG seed of case `i` of a run with seed `seed` (a cheap integer hash, well spread). */
export function caseSeed(seed: number, i: number): number {
  let h = Math.imul(seed ^ 0x85ebca6b, 0xc2b2ae35) ^ Math.imul(i + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

export type Rng = () => number;

export const int = (rnd: Rng, n: number): number => Math.floor(rnd() * n);

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x20, 0x30, 0x37, 0x38, 0x2f, 0x2e];

/** Tar header fields that hold numbers or names (offset, length). */
const TAR_FIELDS: Array<[number, number]> = [
  [0, 100], // name
  [100, 8], // mode
  [108, 8], // uid
  [116, 8], // gid
  [124, 12], // size
  [136, 12], // mtime
  [148, 8], // checksum
  [156, 1], // typeflag
  [157, 100], // linkname
  [257, 8], // magic + version
  [329, 8], // devmajor
  [337, 8], // devminor
  [345, 155], // prefix
  [483, 12], // GNU sparse: realsize / first map entry
];

/** Junk for a numeric field: octal out of range, base-256, spaces, NULs, a digit string. */
function junkNumber(rnd: Rng, len: number): Uint8Array {
  const out = new Uint8Array(len);
  switch (int(rnd, 5)) {
    case 0: // base-256, positive or negative
      out[0] = rnd() < 0.5 ? 0x80 : 0xff;
      for (let i = 1; i < len; i++) out[i] = int(rnd, 256);
      break;
    case 1: // all sevens: the largest octal value
      out.fill(0x37, 0, len - 1);
      break;
    case 2: // spaces and NULs
      for (let i = 0; i < len; i++) out[i] = rnd() < 0.5 ? 0x20 : 0;
      break;
    case 3: // random ASCII digits, maybe not octal
      for (let i = 0; i < len; i++) out[i] = 0x30 + int(rnd, 10);
      break;
    default:
      for (let i = 0; i < len; i++) out[i] = int(rnd, 256);
  }
  return out;
}

/** Offsets of blocks that look like tar headers ("ustar" at 257). */
function headerBlocks(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= b.length; at += 512) {
    if (b[at + 257] === 0x75 && b[at + 258] === 0x73 && b[at + 259] === 0x74) out.push(at);
  }
  return out;
}

/** Overwrite one field of one header, fixing the checksum half of the time (so the junk is parsed). */
function mutateTarField(rnd: Rng, b: Uint8Array): Uint8Array {
  const blocks = headerBlocks(b);
  if (blocks.length === 0) return flipBits(rnd, b);
  const at = blocks[int(rnd, blocks.length)]!;
  const [off, len] = TAR_FIELDS[int(rnd, TAR_FIELDS.length)]!;
  const out = b.slice();
  if (off === 156) out[at + off] = rnd() < 0.5 ? int(rnd, 256) : "0123456789xXgLKSDAMNV".charCodeAt(int(rnd, 21));
  else out.set(junkNumber(rnd, len), at + off);
  if (off !== 148 && rnd() < 0.7) {
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : out[at + i]!;
    const s = `${sum.toString(8).padStart(6, "0")}\0 `;
    for (let i = 0; i < 8; i++) out[at + 148 + i] = s.charCodeAt(i);
  }
  return out;
}

/** Rewrites a PAX record's value or length ("17 path=..."), where one is found. */
function mutatePaxRecord(rnd: Rng, b: Uint8Array): Uint8Array {
  const s = new TextDecoder("latin1").decode(b);
  const keys = ["path=", "size=", "linkpath=", "mtime=", "GNU.sparse.", "uid=", "uname="];
  const key = keys[int(rnd, keys.length)]!;
  const at = s.indexOf(key);
  if (at < 0) return flipBits(rnd, b);
  const out = b.slice();
  const junk = ["-1", "99999999999999999999", "1e400", "0x10", "", "\0", "NaN", "18446744073709551616", "../../x"][int(rnd, 9)]!;
  const start = rnd() < 0.3 ? Math.max(0, s.lastIndexOf("\n", at) + 1) : at + key.length;
  for (let i = 0; i < junk.length && start + i < out.length; i++) out[start + i] = junk.charCodeAt(i);
  return out;
}

function flipBits(rnd: Rng, b: Uint8Array): Uint8Array {
  const out = b.slice();
  const n = 1 + int(rnd, 4);
  for (let i = 0; i < n && out.length > 0; i++) out[int(rnd, out.length)]! ^= 1 << int(rnd, 8);
  return out;
}

function setBytes(rnd: Rng, b: Uint8Array): Uint8Array {
  const out = b.slice();
  const n = 1 + int(rnd, 3);
  for (let i = 0; i < n && out.length > 0; i++) out[int(rnd, out.length)] = INTERESTING[int(rnd, INTERESTING.length)]!;
  return out;
}

function truncate(rnd: Rng, b: Uint8Array): Uint8Array {
  return b.slice(0, int(rnd, b.length + 1));
}

function deleteSlice(rnd: Rng, b: Uint8Array): Uint8Array {
  const at = int(rnd, b.length + 1);
  const end = Math.min(b.length, at + 1 + int(rnd, 64));
  const out = new Uint8Array(b.length - (end - at));
  out.set(b.subarray(0, at));
  out.set(b.subarray(end), at);
  return out;
}

function duplicateSlice(rnd: Rng, b: Uint8Array): Uint8Array {
  const at = int(rnd, b.length + 1);
  const n = Math.min(1 + int(rnd, 600), b.length - at);
  const out = new Uint8Array(b.length + n);
  out.set(b.subarray(0, at + n));
  out.set(b.subarray(at), at + n);
  return out;
}

function splice(rnd: Rng, a: Uint8Array, other: Uint8Array): Uint8Array {
  const cut = int(rnd, a.length + 1);
  const from = int(rnd, other.length + 1);
  const out = new Uint8Array(cut + other.length - from);
  out.set(a.subarray(0, cut));
  out.set(other.subarray(from), cut);
  return out;
}

/** One to three mutations of `b`; `other` is a second seed for splices. */
export function mutate(rnd: Rng, b: Uint8Array, other: Uint8Array, isTar: boolean): Uint8Array {
  let out = b;
  const rounds = 1 + int(rnd, 3);
  for (let r = 0; r < rounds; r++) {
    const pick = int(rnd, isTar ? 10 : 7);
    if (pick === 0 || pick === 1) out = flipBits(rnd, out);
    else if (pick === 2) out = setBytes(rnd, out);
    else if (pick === 3) out = truncate(rnd, out);
    else if (pick === 4) out = deleteSlice(rnd, out);
    else if (pick === 5) out = duplicateSlice(rnd, out);
    else if (pick === 6) out = splice(rnd, out, other);
    else if (pick === 9) out = mutatePaxRecord(rnd, out);
    else out = mutateTarField(rnd, out);
  }
  return out;
}
