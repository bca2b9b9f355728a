/**
 * dpkg's database: `/var/lib/dpkg/status` (deb822 stanzas, one per package) and distroless's
 * `/var/lib/dpkg/status.d/NAME` (the same stanzas, one file per package). A package is listed when
 * its Status is not "not-installed", as `dpkg-query -W` lists them.
 */
import type { Package } from "./model.ts";

/** The fields of each stanza (continuation lines are folded into their field). */
export function parseStanzas(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (cur.size) out.push(cur);
      cur = new Map();
      last = undefined;
      continue;
    }
    if ((line[0] === " " || line[0] === "\t") && last) {
      cur.set(last, `${cur.get(last)}\n${line.slice(1)}`);
      continue;
    }
    const i = line.indexOf(":");
    if (i <= 0) continue;
    last = line.slice(0, i);
    cur.set(last, line.slice(i + 1).trim());
  }
  if (cur.size) out.push(cur);
  return out;
}

export function parseDpkgStatus(text: string): Package[] {
  const out: Package[] = [];
  for (const s of parseStanzas(text)) {
    const name = s.get("Package");
    const version = s.get("Version");
    const status = (s.get("Status") ?? "install ok installed").split(/\s+/);
    if (!name || version === undefined || status[2] === "not-installed") continue;
    // "Source: glibc" or "Source: glibc (2.36-9)": the name is the first word.
    const source = s.get("Source")?.split(/\s+/)[0];
    out.push({ manager: "dpkg", name, version, architecture: s.get("Architecture") ?? "", ...(source ? { source } : { source: name }) });
  }
  return out;
}

/** Where dpkg keeps the list of a package's files: written when the package is installed or upgraded. */
export function dpkgListPaths(p: Pick<Package, "name" | "architecture">): string[] {
  return [`var/lib/dpkg/info/${p.name}.list`, `var/lib/dpkg/info/${p.name}:${p.architecture}.list`];
}
