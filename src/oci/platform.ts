/** Platforms (os/arch/variant): how they are written, parsed, read from a config and chosen from an index. */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { ImageConfig } from "./config.ts";
import { imageEntries, type IndexManifest, type Descriptor } from "./manifest.ts";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return "unknown";
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(s: string): Platform {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new LayerslayerError("USAGE", `invalid platform "${s}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** This machine's platform in OCI terms. */
export function hostPlatform(): Platform {
  const archMap: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return { os: "linux", architecture: archMap[process.arch] ?? process.arch };
}

/** The platform an image config declares, or undefined when it names no os and architecture. */
export function platformOf(c: Pick<ImageConfig, "os" | "architecture" | "variant">): Platform | undefined {
  if (!c.os || !c.architecture) return undefined;
  return { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
}

function defaultVariant(arch: string): string | undefined {
  return arch === "arm64" ? "v8" : arch === "arm" ? "v7" : undefined;
}

/** True when `have` is the platform `want` asks for (a variant left out of `have` is its architecture's default). */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  if (!want.variant) return true;
  return (have.variant ?? defaultVariant(have.architecture)) === want.variant;
}

/**
 * Picks the image for a platform from an index. With no platform asked for, an index with one real
 * image uses it; otherwise the host's. Attestations are never chosen. No match → an error listing what there is.
 */
export function choosePlatform(index: IndexManifest, asked: Platform | undefined, what: string): Descriptor {
  const images = imageEntries(index);
  if (images.length === 0) throw new LayerslayerError("NOT_FOUND", `${what}: the index holds no image manifests`);
  if (!asked && images.length === 1) return images[0]!;
  const want = asked ?? hostPlatform();
  const hits = images.filter((d) => platformMatches(want, d.platform));
  // Prefer an entry without a variant or with the default variant when the user named none.
  const exact = hits.find((d) => !want.variant && (d.platform?.variant ?? defaultVariant(want.architecture)) === defaultVariant(want.architecture));
  const hit = exact ?? hits[0];
  if (hit) return hit;
  const shown = images.slice(0, 20).map((d) => escapeName(formatPlatform(d.platform)));
  const available = `${shown.join(", ")}${images.length > shown.length ? `, … (${images.length} in all)` : ""}`;
  throw new LayerslayerError("NOT_FOUND", `${what}: no image for platform ${escapeName(formatPlatform(want))}; available: ${available}`);
}
