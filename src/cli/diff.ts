import { defineCommand } from "citty";
import { diffImages, type FileChange, type ImageDiff } from "../analysis/image-diff.ts";
import { diffPackages } from "../analysis/package-diff.ts";
import { LayerslayerError } from "../errors.ts";
import { selectLayers } from "../image/select.ts";
import { escapeName } from "../names.ts";
import { diffDocument, diffIsSame } from "../output/analysis-json.ts";
import { formatTime, humanSize, modeString } from "../output/format.ts";
import type { Entry } from "../types.ts";
import { globalArgs, printJson, resolveFor, setup, writeLines, type GlobalArgs } from "./common.ts";
import { imagePackages } from "./package-view.ts";

const TYPE_WORDS: Record<Entry["type"], string> = {
  file: "file",
  contiguous: "file",
  dir: "directory",
  symlink: "symlink",
  hardlink: "hard link",
  char: "character device",
  block: "block device",
  fifo: "fifo",
  "pax-global": "PAX global header",
};

/** "size 1034 → 1100, mtime … → …": each field that differs, old to new. */
function fieldText(c: FileChange): string {
  const a = c.a!;
  const b = c.b!;
  const parts = c.fields.map((f) => {
    switch (f) {
      case "type":
        return `type ${TYPE_WORDS[a.type]} → ${TYPE_WORDS[b.type]}`;
      case "size":
        return `size ${a.size} → ${b.size}`;
      case "mode":
        return `mode ${modeString(a.type, a.mode)} → ${modeString(b.type, b.mode)}`;
      case "owner":
        return `owner ${a.uid}:${a.gid} → ${b.uid}:${b.gid}`;
      case "link":
        return `link ${escapeName(a.linkname ?? "")} → ${escapeName(b.linkname ?? "")}`;
      case "device":
        return `device ${a.devmajor ?? 0},${a.devminor ?? 0} → ${b.devmajor ?? 0},${b.devminor ?? 0}`;
      case "mtime":
        return `mtime ${formatTime(a.mtime)} → ${formatTime(b.mtime)}`;
      case "content":
        return "content differs";
    }
  });
  return parts.join(", ");
}

function changeLine(c: FileChange): string {
  const path = escapeName(c.path);
  const what = (e: Entry | undefined, below: number | undefined) =>
    e ? ` (${TYPE_WORDS[e.type]}${e.type === "dir" ? (below ? `, ${below} paths below` : "") : e.type === "file" ? `, ${e.size} bytes` : ""})` : "";
  if (c.kind === "removed") return `Only in A: ${path}${c.overSharedBase ? " (deleted by B's own layers from the shared layers)" : what(c.a, c.below)}`;
  if (c.kind === "added") return `Only in B: ${path}${c.overSharedBase ? " (deleted by A's own layers from the shared layers)" : what(c.b, c.below)}`;
  if (c.overSharedBase)
    return `Changed: ${path}: written by ${c.a ? `A's layer ${c.layerA}` : `B's layer ${c.layerB}`} over the shared layers (not read, so what they hold there is not compared)`;
  return `Changed: ${path}: ${fieldText(c)}`;
}

function* textLines(d: ImageDiff, refA: string, refB: string): Generator<string> {
  yield `--- A ${escapeName(refA)}`;
  yield `+++ B ${escapeName(refB)}`;
  if (d.shared.length > 0) yield `Shared layers: ${d.shared.map((s) => `${s.index} ${s.digest}`).join(", ")}${d.sharedRead ? " (listings from the cache)" : " (not read)"}`;
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
    content: { type: "boolean", description: "Also compare the bytes of regular files of equal size from different layers (reads those layers up to the last such file)" },
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
      { ...(ctx.useCache ? { cache: ctx.cache } : {}), ignoreMtime: !!args["ignore-mtime"], content: !!args.content, onWarning: ctx.warn },
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
