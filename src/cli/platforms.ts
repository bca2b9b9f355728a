import { defineCommand } from "citty";
import { platformsJson } from "../output/image-json.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { accessArgs, cacheArg, imageArg, outputArgs, printJson, setup, writeOut, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "platforms", description: "List the platforms a multi-platform image offers" },
  args: {
    ...imageArg,
    all: { type: "boolean", description: "Also list attestation and other non-image entries" },
    ...outputArgs,
    ...accessArgs,
    ...cacheArg,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const doc = await platformsJson(source, !!args.all);
    const rows = doc.platforms;
    if (ctx.json) {
      printJson(doc);
      return;
    }
    const table = [["PLATFORM", "DIGEST", "SIZE"], ...rows.map((r) => [escapeName(r.platform) + (r.attestation ? " (attestation)" : ""), r.digest, humanSize(r.size)])];
    writeOut(formatTable(table, ["left", "left", "right"]).join("\n"));
  },
});
