import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { policyForReads } from "../jit.ts";
import { selectLayers } from "../image/select.ts";
import { alignHistory, type Step } from "../oci/config.ts";
import type { ImageManifest } from "../oci/manifest.ts";
import { writeInOrder } from "../output/ordered.ts";
import { budgetArgs, budgetFrom } from "./budget.ts";
import { imageArg, globalArgs, resolveWhileReading, setup, toStdout, type GlobalArgs } from "./common.ts";
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
    // The layers' reads start as soon as the manifest names them, while the config (the history
    // steps of the headings) is read. Each layer's output waits for its heading: a config that
    // cannot be read stops the reads, and nothing is written.
    const { result: failure } = await resolveWhileReading(ctx, source, ctx.signal, (img, reads, image) => {
      const layers = img.manifest.image.layers;
      const steps = image.then((whole) => alignHistory(whole.config, layers.length).stepOfLayer);
      steps.catch(() => {}); // as `image`: rejected only when the command fails anyway
      return peekLayers(layers, selectLayers(args.layer, layers), reads, steps);
    });
    if (failure) process.exitCode = failure.exitCode;

    /** Peeks `picked` of `layers`, their output in layer order; the first error, if any. */
    async function peekLayers(layers: ImageManifest["layers"], picked: number[], signal: AbortSignal, steps: Promise<(Step | undefined)[]>): Promise<LayerslayerError | undefined> {
      let failure: LayerslayerError | undefined;
      const progress = layerProgress(ctx, layers, picked, budget);
      try {
        await writeInOrder(
          picked.map(
            (i) => (emit: (text: string) => void) =>
              peekLayerText(ctx, source, layers, i, {
                budget,
                step: steps.then((s) => s[i]?.createdBy),
                write: emit,
                entriesOnly: ctx.quiet,
                verify: !!args.verify,
                onProgress: progress?.listener,
                signal,
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
      return failure;
    }
  },
});
