import { LayerslayerError } from "../errors.ts";
import type { Descriptor } from "../oci/manifest.ts";

/**
 * Which layers a `--layer` value names: "all", an index ("0", "-1" for the last), a list or range
 * ("0,2", "1-3"), or a digest (full or a unique prefix, with or without "sha256:").
 */
export function selectLayers(spec: string | undefined, layers: readonly Descriptor[]): number[] {
  const all = layers.map((_, i) => i);
  if (spec === undefined || spec === "" || spec.toLowerCase() === "all") return all;
  const out: number[] = [];
  for (const part of spec.split(",").map((p) => p.trim())) {
    if (/^-?\d+$/.test(part)) {
      let i = Number(part);
      if (i < 0) i += layers.length;
      if (i < 0 || i >= layers.length)
        throw new LayerslayerError("USAGE", `--layer ${part}: the image has ${layers.length} layer${layers.length === 1 ? "" : "s"} (0-${layers.length - 1})`);
      out.push(i);
      continue;
    }
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (a > b || b >= layers.length) throw new LayerslayerError("USAGE", `--layer ${part}: not a range within 0-${layers.length - 1}`);
      for (let i = a; i <= b; i++) out.push(i);
      continue;
    }
    const want = part.includes(":") ? part : `sha256:${part}`;
    if (!/^[a-z0-9]+:[a-f0-9]{4,}$/.test(want)) throw new LayerslayerError("USAGE", `--layer ${part}: expected an index, a range, a digest or "all"`);
    const hits = all.filter((i) => layers[i]!.digest.startsWith(want));
    if (hits.length === 0) throw new LayerslayerError("NOT_FOUND", `--layer ${part}: no layer has that digest`);
    const distinct = new Set(hits.map((i) => layers[i]!.digest));
    if (distinct.size > 1) throw new LayerslayerError("USAGE", `--layer ${part}: the prefix matches ${distinct.size} layers; give more of the digest`);
    out.push(...hits);
  }
  return [...new Set(out)];
}
