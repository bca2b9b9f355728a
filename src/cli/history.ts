import { defineCommand } from "citty";
import { alignHistory } from "../oci/config.ts";
import { escapeName } from "../names.ts";
import { historyJson } from "../output/image-json.ts";
import { imageArg, globalArgs, printJson, setupImage, writeOut, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "history", description: "List the build steps of an image and the layer each one produced" },
  args: {
    ...imageArg,
    ...globalArgs,
  },
  async run({ args }) {
    const { ctx, img } = await setupImage(args as GlobalArgs & { image: string });
    const layers = img.manifest.image.layers;
    const { steps, stepOfLayer } = alignHistory(img.config, layers.length);
    if (ctx.json) {
      printJson(historyJson(img));
      return;
    }
    const out: string[] = [];
    const width = String(Math.max(0, steps.length - 1)).length;
    for (const s of steps) {
      const tag = s.layer !== undefined ? `(layer ${s.layer})` : s.empty ? "(metadata only)" : "(no layer)";
      out.push(`[${String(s.index).padStart(width)}] ${escapeName(s.createdBy || "-")} ${tag}`);
    }
    stepOfLayer.forEach((s, i) => {
      if (!s) out.push(`[ ?] layer ${i} has no build step in the history`);
    });
    if (steps.length === 0) out.push("(the image config has no history)");
    writeOut(out.join("\n"));
  },
});
