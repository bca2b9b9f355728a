/**
 * apk's database: `/lib/apk/db/installed`, one block per package separated by blank lines, each
 * line a one-letter key, a colon and the value (P name, V version, A architecture, o origin).
 */
import type { Package } from "./model.ts";

export function parseApkInstalled(text: string): Package[] {
  const out: Package[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split("\n")) if (line.length > 2 && line[1] === ":") f.set(line[0]!, line.slice(2));
    const name = f.get("P");
    const version = f.get("V");
    if (!name || version === undefined) continue;
    out.push({ manager: "apk", name, version, architecture: f.get("A") ?? "", source: f.get("o") ?? name });
  }
  return out;
}
