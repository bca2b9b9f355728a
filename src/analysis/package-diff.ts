/**
 * What differs between two images' installed packages: a package (by manager, name and
 * architecture) on one side only, or on both with another version.
 */
import type { Package } from "../packages/model.ts";

export interface PackageChange {
  manager: Package["manager"];
  name: string;
  architecture: string;
  kind: "added" | "removed" | "changed";
  a?: string;
  b?: string;
}

export function diffPackages(a: readonly Package[], b: readonly Package[]): PackageChange[] {
  const key = (p: Package) => `${p.manager}\0${p.name}\0${p.architecture}`;
  const left = new Map(a.map((p) => [key(p), p]));
  const right = new Map(b.map((p) => [key(p), p]));
  const out: PackageChange[] = [];
  for (const k of [...new Set([...left.keys(), ...right.keys()])].sort()) {
    const x = left.get(k);
    const y = right.get(k);
    const p = (x ?? y)!;
    const base = { manager: p.manager, name: p.name, architecture: p.architecture };
    if (!y) out.push({ ...base, kind: "removed", a: x!.version });
    else if (!x) out.push({ ...base, kind: "added", b: y.version });
    else if (x.version !== y.version) out.push({ ...base, kind: "changed", a: x.version, b: y.version });
  }
  return out;
}
