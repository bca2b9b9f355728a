import { defineCommand } from "citty";
import type { CacheInfo, CacheStore, ClearResult } from "../cache/cache.ts";
import { openCache } from "../cache/open.ts";
import { LayerslayerError } from "../errors.ts";
import { humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { selectLayers } from "../image/select.ts";
import { warmLayer, type WarmResult } from "../image/warm.ts";
import { isForeignLayer } from "../oci/manifest.ts";
import { formatName } from "../toc/index.ts";
import { globalArgs, imageArg, printJson, setupImage, writeOut, type GlobalArgs } from "./common.ts";
import { layerProgress } from "./layer-progress.ts";

/** The global options that mean something here (the rest name an image or a registry). */
const cacheArgs = {
  json: globalArgs.json,
  quiet: globalArgs.quiet,
  verbose: globalArgs.verbose,
} as const;

interface CacheArgs {
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  verbose?: boolean | undefined;
}

/** Options given before the sub-command (`cache --json info`) reach it through here. */
let parentArgs: CacheArgs = {};

function merged(args: CacheArgs): CacheArgs {
  return {
    json: args.json || parentArgs.json,
    quiet: args.quiet || parentArgs.quiet,
    verbose: args.verbose || parentArgs.verbose,
  };
}

/** The store, with warnings kept (this command reports problems itself rather than warning). */
function open(): { store: CacheStore; warnings: string[] } {
  const warnings: string[] = [];
  return { store: openCache({ enabled: true, warn: (m) => warnings.push(m) }), warnings };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function renderInfo(i: CacheInfo): string {
  const lines = [
    `Path:       ${escapeName(i.path)}`,
    `Size:       ${humanSize(i.sizeBytes)}`,
    `Listings:   ${plural(i.listings, "layer")} (${plural(i.entries, "entry", "entries")})`,
    `Blobs:      ${plural(i.blobs, "manifest or config", "manifests and configs")}`,
  ];
  if (i.problem) lines.push(`Problem:    ${escapeName(i.problem)}`);
  return lines.join("\n");
}

export function renderClear(r: ClearResult & { discarded: boolean }): string {
  if (r.discarded) return `Removed the unreadable cache file ${escapeName(r.path)} (${humanSize(r.bytesFreed)} freed)`;
  if (r.listings === 0 && r.blobs === 0) return `The cache ${escapeName(r.path)} was already empty`;
  return `Removed ${plural(r.listings, "layer listing")} (${plural(r.entries, "entry", "entries")}) and ${plural(r.blobs, "manifest or config", "manifests and configs")} from ${escapeName(r.path)} (${humanSize(r.bytesFreed)} freed)`;
}

const info = defineCommand({
  meta: { name: "info", description: "Show where the cache is, its size and what it holds" },
  args: cacheArgs,
  run({ args }) {
    const a = merged(args);
    const { store } = open();
    try {
      const i = store.info();
      if (a.json) printJson(i);
      else writeOut(renderInfo(i));
    } finally {
      store.close();
    }
  },
});

const clear = defineCommand({
  meta: { name: "clear", description: "Remove everything from the cache" },
  args: cacheArgs,
  run({ args }) {
    const a = merged(args);
    const { store, warnings } = open();
    try {
      const r = store.clear();
      if (r.problem) throw new LayerslayerError("IO", `cannot clear the cache: ${r.problem}`);
      // The store warned that the file is unreadable, then removed it: say that, not the warning.
      const result = { ...r, discarded: warnings.length > 0 };
      if (a.json) printJson(result);
      else writeOut(renderClear(result));
    } finally {
      store.close();
    }
  },
});

const warm = defineCommand({
  meta: { name: "warm", description: "Read every layer once and keep its complete listing and gzip checkpoints, so later cat reads start near the file" },
  args: {
    ...imageArg,
    layer: { type: "string", alias: "L", valueHint: "N|sha256:…|all", description: "Layer(s) to warm: index, -1 for the last, 0,2 or 1-3, a digest, or all (default)" },
    ...globalArgs,
  },
  async run({ args }) {
    const { ctx, img } = await setupImage({ ...parentArgs, ...(args as GlobalArgs & { image: string }) });
    if (!ctx.useCache) throw new LayerslayerError("USAGE", "cache warm fills the cache: it cannot run with --no-cache");
    const layers = img.manifest.image.layers;
    const picked = selectLayers(args.layer as string | undefined, layers);
    // The progress line of every command that reads layers ("warming layers 1/3"), from the listing's events.
    const bar = layerProgress(
      ctx,
      layers,
      picked.filter((i) => !isForeignLayer(layers[i]!)),
      undefined,
      "warming",
    );
    const results: WarmResult[] = [];
    try {
      for (const i of picked) {
        const desc = layers[i]!;
        if (isForeignLayer(desc)) {
          ctx.note(`layer ${i}: skipped: a foreign layer, not in the registry`);
          continue;
        }
        const r = await warmLayer(img, i, ctx.cache, { onWarning: ctx.warn, signal: ctx.signal, ...(bar ? { onProgress: bar.listener } : {}) });
        bar?.clear();
        results.push(r);
        if (!ctx.json) {
          const how = r.status === "cached" ? "already in the cache" : `downloaded ${humanSize(r.bytesDownloaded)} of ${humanSize(desc.size)}`;
          const what = `${plural(r.checkpoints, "checkpoint")}${r.tocMatched ? `, its ${formatName(r.tocMatched)} TOC matches the tar stream` : ""}`;
          writeOut(`layer ${i} ${desc.digest}: ${plural(r.entries, "entry", "entries")}, ${what}, ${how}`);
        }
      }
    } finally {
      bar?.clear();
    }
    if (ctx.json) printJson({ layers: results });
  },
});

export default defineCommand({
  meta: { name: "cache", description: "Show, clear or warm the local cache of layer listings, checkpoints, manifests and configs" },
  args: cacheArgs,
  setup({ args }) {
    parentArgs = { json: !!args.json, quiet: !!args.quiet, verbose: !!args.verbose };
  },
  subCommands: { info, clear, warm },
});
