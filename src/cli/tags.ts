import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { formatReference } from "../ref/reference.ts";
import { accessArgs, outputArgs, printJson, setupRegistry, writeOut, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "tags", description: "List the tags of a repository" },
  args: {
    image: { type: "positional", required: true, description: "Repository, e.g. alpine or localhost:5000/team/app" },
    ...outputArgs,
    ...accessArgs,
  },
  async run({ args }) {
    const { ref, client, ctx } = await setupRegistry(args as GlobalArgs & { image: string }, { allowBare: true });
    if (ref.digest) throw new LayerslayerError("USAGE", "tags takes a repository, not a digest reference");
    const tags = await client.listTags(ref);
    if (ctx.json) printJson({ repository: formatReference({ registry: ref.registry, repository: ref.repository }), tags });
    else if (tags.length) writeOut(tags.map(escapeName).join("\n"));
  },
});
