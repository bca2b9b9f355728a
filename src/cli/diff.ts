import { defineCommand } from "citty";
import { diffImages, type ImageDiff } from "../analysis/image-diff.ts";
import { diffPackages } from "../analysis/package-diff.ts";
import { LayerslayerError } from "../errors.ts";
import type { ListingOrigin } from "../image/load.ts";
import { selectLayers } from "../image/select.ts";
import { escapeName } from "../names.ts";
import { diffDocument, diffIsSame } from "../output/analysis-json.ts";
import { changeLine } from "../output/diff-text.ts";
import { humanSize } from "../output/format.ts";
import { globalArgs, printJson, resolveFor, setup, writeLines, type GlobalArgs } from "./common.ts";
import { imagePackages } from "./package-view.ts";
import { tocDeclared } from "./peek-layer.ts";

/** The layers of one side whose listings are what their TOCs declare, said as a line (or nothing). */
function declaredLine(side: "A" | "B", origins: readonly ListingOrigin[]): string[] {
  const which = tocDeclared(origins.filter((o) => o.source === "toc").map((o) => o.index));
  return which ? [`Listings: ${side}'s ${which} (the tar stream was not read; --verify reads it)`] : [];
}

function* textLines(d: ImageDiff, refA: string, refB: string): Generator<string> {
  yield `--- A ${escapeName(refA)}`;
  yield `+++ B ${escapeName(refB)}`;
  if (d.shared.length > 0) yield `Shared layers: ${d.shared.map((s) => `${s.index} ${s.digest}`).join(", ")}${d.sharedRead ? " (listings from the cache)" : " (not read)"}`;
  yield* declaredLine("A", d.listings.a);
  yield* declaredLine("B", d.listings.b);
  if (d.contentByToc > 0)
    yield `Content: ${d.contentByToc} of the ${d.contentCompared} files of equal size compared by the digests their layers' TOCs declare (the files were not read; --verify reads them)`;
  for (const c of d.paths) yield changeLine(c);
  for (const c of d.config) yield `Config: ${escapeName(c.key)}: ${c.a === undefined ? "(none)" : escapeName(c.a)} → ${c.b === undefined ? "(none)" : escapeName(c.b)}`;
}

export default defineCommand({
  meta: { name: "diff", description: "Compare two images (or two layers) without pulling them: paths added, removed and changed, config and history; exit 1 when they differ" },
  args: {
    a: { type: "positional", required: true, description: "The first image (A)" },
    b: { type: "positional", required: true, description: "The second image (B)" },
    layer: { type: "string", alias: "L", valueHint: "N", description: "Compare one layer of A (its own changes, not merged) with one layer of B (default: whole images, merged)" },
    "layer-b": { type: "string", valueHint: "M", description: "With --layer: B's layer (default: the same number as A's)" },
    "ignore-mtime": { type: "boolean", description: "Do not report modification times that differ" },
    packages: { type: "boolean", description: "Also compare the installed packages (dpkg, apk, rpm), as `packages` lists them (reads every layer's listing)" },
    content: {
      type: "boolean",
      description: "Also compare the bytes of regular files of equal size from different layers (by their TOC digests when both layers have TOCs, else by reading them)",
    },
    verify: {
      type: "boolean",
      description: "Read each layer's tar stream even when it has a TOC (checked against it: a difference is corrupt data, exit 7); --content then reads the files",
    },
    ...globalArgs,
  },
  async run({ args }) {
    if (args["layer-b"] !== undefined && args.layer === undefined) throw new LayerslayerError("USAGE", "--layer-b goes with --layer");
    const g = args as GlobalArgs & { a: string; b: string };
    const one = async (image: string) => {
      const { source, ctx } = await setup({ ...g, image });
      return { ctx, source, img: await resolveFor(ctx, source) };
    };
    const A = await one(g.a);
    const B = await one(g.b);
    const layerOf = (spec: string | undefined, img: typeof A.img) => {
      if (spec === undefined) return undefined;
      const picked = selectLayers(spec, img.manifest.image.layers);
      if (picked.length !== 1) throw new LayerslayerError("USAGE", `--layer ${escapeName(spec)}: names ${picked.length} layers; give one`);
      return picked[0];
    };
    const la = layerOf(args.layer, A.img);
    const lb = layerOf(args["layer-b"] ?? args.layer, B.img);
    const ctx = A.ctx;
    const d = await diffImages(
      { img: A.img, ...(la !== undefined ? { layer: la } : {}) },
      { img: B.img, ...(lb !== undefined ? { layer: lb } : {}) },
      { ...(ctx.useCache ? { cache: ctx.cache } : {}), ignoreMtime: !!args["ignore-mtime"], content: !!args.content, verify: !!args.verify, onWarning: ctx.warn },
    );
    const packages = args.packages ? diffPackages((await imagePackages(A.ctx, A.source)).packages, (await imagePackages(B.ctx, B.source)).packages) : [];
    const same = diffIsSame(d, packages);
    if (ctx.json) {
      printJson(diffDocument({ img: A.img, layer: la }, { img: B.img, layer: lb }, d, { ...(args.packages ? { packages } : {}), content: !!args.content }));
    } else {
      await writeLines(textLines(d, A.img.source.reference, B.img.source.reference));
      await writeLines(
        packages.map(
          (p) =>
            `Package: ${p.manager} ${escapeName(p.name)} (${escapeName(p.architecture)}): ${p.a === undefined ? "(none)" : escapeName(p.a)} → ${p.b === undefined ? "(none)" : escapeName(p.b)}`,
        ),
      );
      if (ctx.verbose) ctx.note(`${d.paths.length} paths and ${d.config.length} config entries differ; ${humanSize(d.bytesDownloaded)} downloaded`);
    }
    if (!same) process.exitCode = 1;
  },
});
