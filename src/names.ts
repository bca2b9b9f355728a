/**
 * Printing untrusted names safely, and reading back what was printed: used by every stage that
 * names a path, a host or a message from a server (errors, listings, the CLI), so it sits below
 * all of them, beside the name decoding of tar/text.ts that it inverts.
 */
import { decodeName, encodeName, rawByteOf } from "./tar/text.ts";

const SHORT_ESCAPES: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\" };
/**
 * Characters that must not reach a terminal raw: C0 controls, DEL, C1 controls, line/paragraph
 * separators, bidi overrides/isolates/marks (which can reorder what is shown), lone surrogates,
 * and the backslash (so that every backslash in the output starts an escape).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/**
 * Make an untrusted name safe to print: "\x1b[31m" → "\\x1b[31m", newline → "\\n", tab → "\\t",
 * "\\" → "\\\\", U+009B (C1 CSI) → "\\u009b", U+202E → "\\u202e". Printable Unicode is kept.
 * C0 controls and DEL are shown as \xHH (same value as the byte); a byte of a name that is not
 * UTF-8 (kept as U+DC80..U+DCFF, see tar/text.ts) as \xHH too, the byte itself ("\x80");
 * everything else as \uHHHH (a code point, not a byte of the UTF-8 encoding).
 * `unescapeName` reads this form back.
 */
export function escapeName(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (ch) => {
    const short = SHORT_ESCAPES[ch];
    if (short) return short;
    const code = ch.charCodeAt(0);
    const raw = rawByteOf(code);
    if (raw >= 0) return `\\x${hex(raw, 2)}`;
    return code < 0x80 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

const UNESCAPE = /\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|([\\ntr]))/g;
const SHORT_UNESCAPES: Record<string, string> = { "\\": "\\", n: "\n", t: "\t", r: "\r" };

/**
 * Read a name in the form `escapeName` prints (a path typed by a user after `ls` showed it):
 * \\ \n \t \r, \xHH (a byte) and \uHHHH (a character); a backslash before anything else is
 * itself. Bytes are put together and decoded as the tar stage decodes names, so "\xc3\xa9" is
 * "é" and "\x80" the byte 0x80 of a name that is not UTF-8.
 */
export function unescapeName(s: string): string {
  if (!s.includes("\\")) return s;
  const bytes: number[] = [];
  let last = 0;
  const text = (t: string) => {
    for (const b of encodeName(t)) bytes.push(b);
  };
  UNESCAPE.lastIndex = 0;
  for (let m = UNESCAPE.exec(s); m !== null; m = UNESCAPE.exec(s)) {
    text(s.slice(last, m.index));
    if (m[1] !== undefined) bytes.push(parseInt(m[1], 16));
    else if (m[2] !== undefined) text(String.fromCharCode(parseInt(m[2], 16)));
    else text(SHORT_UNESCAPES[m[3]!]!);
    last = UNESCAPE.lastIndex;
  }
  text(s.slice(last));
  return decodeName(Uint8Array.from(bytes));
}
