import { defineCommand } from "citty";
import { rawJsonFor } from "../output/json.ts";
import { LayerslayerError } from "../errors.ts";
import { manifestJson } from "../output/image-json.ts";
import { imageArg, globalArgs, printJson, setupImage, type GlobalArgs } from "./common.ts";
import { writeStdout } from "./stdout.ts";

export default defineCommand({
  meta: { name: "manifest", description: "Print the resolved image manifest byte for byte (--index: the index itself)" },
  args: {
    ...imageArg,
    index: { type: "boolean", description: "Print the index (manifest list) the reference names instead" },
    ...globalArgs,
  },
  async run({ args }) {
    const { ctx, img } = await setupImage(args as GlobalArgs & { image: string });
    const chosen = args.index ? img.index : img.manifest;
    const doc = manifestJson(img, !!args.index);
    if (!chosen || !doc) throw new LayerslayerError("USAGE", `${args.image} names a single image, not an index`);
    if (ctx.json) {
      printJson(doc);
    } else {
      writeStdout(rawJsonFor(chosen.bytes, process.stdout.isTTY));
    }
  },
});
