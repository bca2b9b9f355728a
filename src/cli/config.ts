import { defineCommand } from "citty";
import { configJson } from "../output/image-json.ts";
import { rawJsonFor } from "../output/json.ts";
import { imageArg, globalArgs, printJson, setupImage, type GlobalArgs } from "./common.ts";
import { writeStdout } from "./stdout.ts";

export default defineCommand({
  meta: { name: "config", description: "Print the image config blob byte for byte" },
  args: {
    ...imageArg,
    ...globalArgs,
  },
  async run({ args }) {
    const { ctx, img } = await setupImage(args as GlobalArgs & { image: string });
    if (ctx.json) printJson(configJson(img));
    else writeStdout(rawJsonFor(img.configBytes, process.stdout.isTTY));
  },
});
