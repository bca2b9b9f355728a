import { defineCommand } from "citty";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { blobFileName, downloadBlob, partialPathFor, type DownloadStatus } from "../blob/download.ts";
import { LayerslayerError } from "../errors.ts";
import { checkSavedToc } from "../image/saved-toc.ts";
import { isForeignLayer } from "../oci/manifest.ts";
import { checkForeignUrls } from "../registry/url-policy.ts";
import { selectLayers } from "../image/select.ts";
import { humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { downloadProgress } from "../layer/progress.ts";
import { defaultDirectory } from "./downloads.ts";
import { saveImage } from "./save-image.ts";
import { layerProgress } from "./layer-progress.ts";
import { imageArg, globalArgs, printJson, resolveFor, setup, writeOut, type GlobalArgs } from "./common.ts";
import { log } from "./log.ts";

export interface SavedLayer {
  index: number;
  digest: string;
  path?: string;
  size: number;
  status: DownloadStatus | "skipped";
  reason?: string;
  /** The layer's TOC format, when it has one and it matches the saved tar stream. */
  tocMatched?: "estargz" | "zstd:chunked";
  /** Why the saved layer is not what it says (its TOC differs from its tar stream). */
  error?: string;
}

export default defineCommand({
  meta: { name: "save", description: "Download layer blobs, verified against their digests, resuming partial downloads" },
  args: {
    ...imageArg,
    layer: { type: "string", alias: "L", valueHint: "N|sha256:…|all", description: "Layer(s) to save: index, -1 for the last, 0,2 or 1-3, a digest, or all (default)" },
    output: {
      type: "string",
      alias: "o",
      valueHint: "DIR|FILE",
      description: "Directory to save into, or the archive file with --format docker-archive (default for blobs: ./downloads/<repository>/<tag or digest>)",
    },
    format: {
      type: "string",
      valueHint: "blobs|oci|docker-archive",
      description:
        "blobs: the layer blobs alone, into a directory; oci: an OCI image layout (-o DIR) skopeo, umoci and podman read; docker-archive: what docker save writes (-o FILE), for docker or podman load (default: blobs)",
    },
    "all-platforms": { type: "boolean", description: "With --format oci: every platform of an index, and the index (default: the platform chosen)" },
    "keep-partial": {
      type: "boolean",
      description: "When stopped by Ctrl-C, kill or a closed terminal, keep the bytes downloaded as a .partial file the next save resumes (default: removed)",
    },
    ...globalArgs,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    if (args.output !== undefined && args.output.trim() === "") throw new LayerslayerError("USAGE", "-o/--output needs a directory");
    const format = args.format ?? "blobs";
    if (format !== "blobs" && format !== "oci" && format !== "docker-archive")
      throw new LayerslayerError("USAGE", `--format ${escapeName(format)}: expected blobs, oci or docker-archive`);
    if (format === "blobs" && args["all-platforms"]) throw new LayerslayerError("USAGE", "--all-platforms needs --format oci");
    if (format !== "blobs") {
      if (!args.output) throw new LayerslayerError("USAGE", `--format ${format} needs -o ${format === "oci" ? "DIR" : "FILE"}`);
      if (args.layer !== undefined) throw new LayerslayerError("USAGE", `--layer saves blobs; --format ${format} saves the whole image`);
      const r = await saveImage(ctx, await resolveFor(ctx, source), format, args.output, !!args["all-platforms"]);
      if (ctx.json) printJson(r);
      else writeOut(`saved ${escapeName(r.path)} (${format}: ${r.images} image${r.images === 1 ? "" : "s"}, ${r.layers} layers, ${r.digest})`);
      return;
    }
    const directory = args.output ?? defaultDirectory(source);
    const img = await resolveFor(ctx, source);
    const layers = img.manifest.image.layers;
    const picked = selectLayers(args.layer, layers);

    // Ctrl-C, kill or a closed terminal abort the command's signal: the transfer stops, its temp
    // file is removed (or, with --keep-partial, kept for a resume), and the exit code is 128 + N.
    const signal = ctx.signal;
    const saved = picked.filter((i) => !isForeignLayer(layers[i]!));
    // The progress line of every command that reads layers, from the same events.
    const progress = layerProgress(ctx, layers, saved, undefined, "saving");
    const results: SavedLayer[] = [];
    let current: string | undefined;
    let mismatch: LayerslayerError | undefined;
    try {
      for (const i of picked) {
        const desc = layers[i]!;
        if (isForeignLayer(desc)) {
          checkForeignUrls(desc.urls, `layer ${i}: foreign layer URL`);
          ctx.note(`layer ${i}: skipped: a foreign layer hosted at ${escapeName(desc.urls![0]!)}, not in the registry`);
          results.push({ index: i, digest: desc.digest, size: desc.size, status: "skipped", reason: "foreign layer" });
          continue;
        }
        const path = join(directory, blobFileName(desc));
        current = path;
        const r = await downloadBlob({ source, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, label: `layer ${i} (${desc.digest})` }, path, {
          signal,
          ...(progress ? { onProgress: (p) => progress.listener(downloadProgress(i, desc, p)) } : {}),
        });
        progress?.listener(downloadProgress(i, desc, { done: desc.size, downloaded: r.bytesDownloaded }, true));
        progress?.clear();
        if (r.status === "resumed") ctx.note(`layer ${i}: resumed a partial download at byte ${r.resumedFrom}`);
        if (!ctx.json) writeOut(`${r.status === "present" ? "present" : "saved"} ${escapeName(path)} (${humanSize(desc.size)})`);
        // Runtimes apply the saved tar stream: a TOC that declares something else is corrupt data.
        let tocMatched: SavedLayer["tocMatched"];
        let error: string | undefined;
        try {
          tocMatched = await checkSavedToc(source, desc, i, path, signal);
        } catch (e) {
          if (!(e instanceof LayerslayerError) || signal.aborted) throw e;
          log.error(e.message);
          mismatch ??= e;
          error = e.message;
        }
        results.push({ index: i, digest: desc.digest, path, size: desc.size, status: r.status, ...(tocMatched ? { tocMatched } : {}), ...(error ? { error } : {}) });
      }
    } catch (e) {
      progress?.clear();
      if (signal.aborted) {
        const partial = current ? partialPathFor(current) : undefined;
        let said = "";
        if (partial && existsSync(partial)) {
          if (args["keep-partial"]) said = `; the partial download is kept in ${escapeName(partial)}: run the command again to resume`;
          else {
            rmSync(partial, { force: true });
            said = "; the partial download was removed (--keep-partial keeps it for a resume)";
          }
        }
        // The one line; main.ts gives the exit code of the signal.
        log.error(`interrupted${said}`);
        return;
      }
      throw e;
    }
    if (ctx.json) printJson({ directory, layers: results });
    if (mismatch) process.exitCode = mismatch.exitCode;
  },
});
