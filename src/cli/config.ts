import { defineCommand } from "citty";
import { rawJsonFor } from "../output/json.ts";
import { imageArg, globalArgs, printJson, setupImage, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "config", description: "Print the image config blob byte for byte" },
  args: {
    ...imageArg,
    ...globalArgs,
  },
  async run({ args }) {
    const { ctx, img } = await setupImage(args as GlobalArgs & { image: string });
    if (ctx.json) printJson({ digest: img.manifest.image.config.digest, mediaType: img.manifest.image.config.mediaType, config: img.config });
    else process.stdout.write(rawJsonFor(img.configBytes, process.stdout.isTTY));
  },
});
