import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { policyForReads } from "../jit.ts";
import { selectLayers } from "../image/select.ts";
import { alignHistory } from "../oci/config.ts";
import { writeInOrder } from "../output/ordered.ts";
import { budgetArgs, budgetFrom } from "./budget.ts";
import { imageArg, globalArgs, resolveFor, setup, toStdout, type GlobalArgs } from "./common.ts";
import { log } from "./log.ts";
import { layerProgress } from "./layer-progress.ts";
import { peekLayerText } from "./peek-layer.ts";

function reportError(i: number, error: LayerslayerError | undefined): void {
  if (error) log.error(`layer ${i}: ${error.message}`);
}

/** Layers downloaded at once by `peek` of several layers (output stays in layer order). */
const PEEK_CONCURRENCY = 3;

export default defineCommand({
  meta: { name: "peek", description: "List the files in an image's layers, downloading only a budget of compressed bytes" },
  args: {
    ...imageArg,
    layer: { type: "string", alias: "L", valueHint: "N|sha256:…|all", description: "Layer(s) to peek: index, -1 for the last, 0,2 or 1-3, a digest, or all (default)" },
    ...budgetArgs,
    ...globalArgs,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const budget = budgetFrom(args);
    policyForReads(budget);
    const img = await resolveFor(ctx, source);
    const layers = img.manifest.image.layers;
    const picked = selectLayers(args.layer, layers);
    const { stepOfLayer } = alignHistory(img.config, layers.length);
    let failure: LayerslayerError | undefined;
    const progress = layerProgress(ctx, layers, picked, budget);
    try {
      await writeInOrder(
        picked.map(
          (i) => (emit: (text: string) => void) =>
            peekLayerText(ctx, source, layers, i, {
              budget,
              step: stepOfLayer[i]?.createdBy,
              write: emit,
              entriesOnly: ctx.quiet,
              verify: !!args.verify,
              onProgress: progress?.listener,
              signal: ctx.signal,
            }),
        ),
        PEEK_CONCURRENCY,
        (text) => {
          // The listing and the progress line may share a terminal: the line goes, the next event redraws it.
          progress?.clear();
          return toStdout(text);
        },
        (result, n) => {
          progress?.clear();
          reportError(picked[n]!, result.error);
          failure ??= result.error;
        },
      );
    } finally {
      progress?.clear();
    }
    if (failure) process.exitCode = failure.exitCode;
  },
});
