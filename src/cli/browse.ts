import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { imageArg, globalArgs, setup, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: {
    name: "browse",
    description: "Browse an image full screen, without pulling it: layers, the merged tree or one layer's changes, view and save files",
  },
  args: { ...imageArg, ...globalArgs },
  async run({ args }) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) throw new LayerslayerError("USAGE", "browse needs a terminal (standard input and output); for scripts see ls, find and cat");
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    // ink paints through chalk, which turns itself off where the environment names a CI (CI=true in
    // a developer's shell too); browse chooses colours itself (NO_COLOR) and marks the cursor in
    // reverse video, so the basic attributes stay on, on this terminal, unless FORCE_COLOR says otherwise.
    process.env.FORCE_COLOR ??= "1";
    const { openImage } = await import("../browse/core.ts");
    // React and ink load while the manifest and config are fetched.
    const [image, { Browser }, { runApp }] = await Promise.all([openImage(ctx, source), import("../browse/state.ts"), import("../browse/app.ts")]);
    await runApp(new Browser(ctx, image));
  },
});
