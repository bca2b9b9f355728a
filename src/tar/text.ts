/**
 * Names from a tar archive are bytes, not text: Linux takes any byte but "/" and NUL, and two
 * names that differ in one byte are two files. We keep them as JavaScript strings without losing
 * a byte, the way Python's "surrogateescape" does: valid UTF-8 decodes to its characters, and
 * each byte that is not part of a valid UTF-8 sequence becomes the lone surrogate U+DC00 + byte
 * (0x80 → U+DC80). Valid UTF-8 never decodes to a lone surrogate, so the mapping is one to one:
 * equal strings ⇔ equal bytes, and `encodeName(decodeName(b))` gives back `b` exactly.
 *
 * Output escapes those surrogates as `\xNN` (names.ts), `--json` adds the raw bytes in
 * base64 (output/json.ts), and paths typed by users are read back in the same escaped form.
 */

const strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

const ESCAPE_BASE = 0xdc00;

function isAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/** Length of the valid UTF-8 sequence starting at b[i] (RFC 3629: no overlongs, surrogates or > U+10FFFF), or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const d = b[i + 1];
    if (d === undefined) return 0;
    if (c === 0xe0 && d < 0xa0) return 0; // overlong
    if (c === 0xed && d >= 0xa0) return 0; // a surrogate
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const d = b[i + 1];
    if (d === undefined) return 0;
    if (c === 0xf0 && d < 0x90) return 0; // overlong
    if (c === 0xf4 && d >= 0x90) return 0; // beyond U+10FFFF
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Bytes → string, losslessly (see the module comment). */
export function decodeName(b: Uint8Array): string {
  if (b.length === 0) return "";
  if (isAscii(b)) return String.fromCharCode.apply(null, b as unknown as number[]);
  try {
    return strict.decode(b);
  } catch {
    // Not UTF-8: decode sequence by sequence, escaping the bytes that fit no sequence.
  }
  let out = "";
  let i = 0;
  while (i < b.length) {
    const n = sequenceLength(b, i);
    if (n === 0) {
      out += String.fromCharCode(ESCAPE_BASE + b[i]!);
      i++;
    } else {
      out += strict.decode(b.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/** True when the string holds an escaped byte (its bytes are not UTF-8). */
export function hasRawBytes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff) {
        const next = s.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
      }
      if (c >= 0xdc80 && c <= 0xdcff) return true;
    }
  }
  return false;
}

/**
 * String → the bytes it stands for: escaped bytes (lone U+DC80..U+DCFF) become themselves, the
 * rest is UTF-8 (any other lone surrogate becomes U+FFFD, as TextEncoder does).
 */
export function encodeName(s: string): Uint8Array {
  if (!hasRawBytes(s)) return encoder.encode(s);
  const parts: number[] = [];
  let run = "";
  const flush = () => {
    if (run !== "") for (const x of encoder.encode(run)) parts.push(x);
    run = "";
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        run += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      flush();
      parts.push(c - ESCAPE_BASE);
    } else run += s[i]!;
  }
  flush();
  return Uint8Array.from(parts);
}

/** The byte an escaped-byte code unit stands for, or -1. */
export function rawByteOf(code: number): number {
  return code >= 0xdc80 && code <= 0xdcff ? code - ESCAPE_BASE : -1;
}
