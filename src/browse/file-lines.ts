/**
 * A file's bytes as the viewer shows them: text with line numbers, or a hex dump for binary.
 * Every line is made safe for the terminal here (the bytes come from the image: untrusted).
 */
import { escapeName } from "../names.ts";

/** Binary when it has a NUL byte or is not UTF-8 (a cut at the end of a truncated read allowed). */
export function isBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return true;
  try {
    // stream: a character cut at the end (a truncated read) is held back, not an error.
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
    return false;
  } catch {
    return true;
  }
}

/** Text lines, numbered, tabs expanded to 8 columns, control characters escaped. */
export function textLines(bytes: Uint8Array): string[] {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const width = String(lines.length).length;
  return lines.map((line, i) => `${String(i + 1).padStart(width)} │ ${escapeName(expandTabs(line.replace(/\r$/, "")))}`);
}

function expandTabs(line: string): string {
  if (!line.includes("\t")) return line;
  let out = "";
  for (const ch of line) {
    if (ch === "\t") out += " ".repeat(8 - (out.length % 8));
    else out += ch;
  }
  return out;
}

/** `hexdump -C` style lines: offset, 16 bytes in hex, the printable ASCII of them. */
export function hexLines(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    let hex = "";
    let ascii = "";
    for (let i = 0; i < 16; i++) {
      const b = row[i];
      hex += b === undefined ? "   " : `${b.toString(16).padStart(2, "0")} `;
      if (i === 7) hex += " ";
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
    }
    out.push(`${off.toString(16).padStart(8, "0")}  ${hex} |${ascii}|`);
  }
  return out;
}
