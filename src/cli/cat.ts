import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { extractFile, type ExtractResult } from "../image/extract.ts";
import { humanSize } from "../output/format.ts";
import { escapeName, unescapeName } from "../names.ts";
import { absolutePath } from "../output/json.ts";
import { formatName } from "../toc/index.ts";
import { layerProgress } from "./layer-progress.ts";
import { FileSink, stdoutSink } from "./output-file.ts";
import { imageArg, globalArgs, printJson, resolveFor, setup, type Context, type GlobalArgs } from "./common.ts";

function report(ctx: Context, r: ExtractResult): void {
  const pct = r.layerSize > 0 ? ` (${((100 * r.bytesDownloaded) / r.layerSize).toFixed(1)}%)` : "";
  const extra = r.totalDownloaded > r.bytesDownloaded ? `; ${humanSize(r.totalDownloaded)} in all` : "";
  const check = r.toc
    ? `; read as the layer's ${formatName(r.toc.format)} TOC declares it, by its chunks (the tar stream was not read), ${r.toc.checked ? "every chunk checked against its digest" : "unverified: the TOC gives no digests"}`
    : r.verified
      ? ", layer verified"
      : "; unverified: stopped before the end of the layer (--verify reads on and checks it)";
  ctx.note(`/${escapeName(r.path)}: ${humanSize(r.size)} from layer ${r.layer}, downloaded ${humanSize(r.bytesDownloaded)} of ${humanSize(r.layerSize)}${pct}${extra}${check}`);
}

export default defineCommand({
  meta: { name: "cat", description: "Print one file of the image (alias carve): stops downloading the moment the file is complete" },
  args: {
    ...imageArg,
    path: { type: "positional", required: true, description: "Path in the image, e.g. /etc/passwd" },
    output: {
      type: "string",
      alias: "o",
      valueHint: "FILE",
      description: "Write to FILE (atomically, with the mode its tar header gives, less setuid, setgid and sticky) instead of stdout (default: stdout)",
    },
    verify: {
      type: "boolean",
      description: "Read the layer on to its end and check its digest before succeeding (-o is written only then; stdout gets the bytes as they come and the exit status says)",
    },
    ...globalArgs,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    if (ctx.json && !args.output) throw new LayerslayerError("USAGE", "cat --json needs -o FILE (the file's bytes go to stdout otherwise)");
    const img = await resolveFor(ctx, source);
    const cache = ctx.useCache ? ctx.cache : undefined;
    const file = args.output ? new FileSink(args.output) : undefined;
    // Ctrl-C, kill or a closed terminal abort the read (ctx.signal): the temp file is abandoned
    // below, nothing is left under the final name, and no half-written listing in the cache.
    let result: ExtractResult;
    try {
      const progress = layerProgress(ctx, img.manifest.image.layers);
      const write = file ? (c: Uint8Array) => file.write(c) : stdoutSink();
      // The file's bytes and the progress line may share a terminal: the line goes, the next event redraws it.
      const sink = (c: Uint8Array) => {
        progress?.clear();
        return write(c);
      };
      try {
        result = await extractFile(img, unescapeName(args.path as string), sink, {
          ...(cache ? { cache, indexes: cache } : {}),
          onWarning: ctx.warn,
          signal: ctx.signal,
          ...(args.verify ? { verify: true } : {}),
          ...(progress ? { onProgress: progress.listener } : {}),
        });
      } finally {
        progress?.clear();
      }
      // The mode the tar header gives, without setuid, setgid and sticky (as tar does for a user).
      file?.commit(result.entry.mode & 0o777);
    } catch (e) {
      file?.abandon();
      throw e;
    }
    if (ctx.json) {
      printJson({
        path: absolutePath(result.path),
        output: args.output,
        layer: result.layer,
        size: result.size,
        bytesDownloaded: result.bytesDownloaded,
        totalDownloaded: result.totalDownloaded,
        layerSize: result.layerSize,
        verified: result.verified,
        ...(result.toc ? { toc: result.toc } : {}),
      });
    } else report(ctx, result);
  },
});
