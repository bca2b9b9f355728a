import { defineCommand } from "citty";
import { EXIT_CODES, LayerslayerError, printable } from "../errors.ts";
import { escapeName } from "../names.ts";
import { formatReference } from "../ref/reference.ts";
import { globalArgs, printJson, setupRegistry, writeOut, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "tags", description: "List the tags of a repository" },
  args: {
    image: { type: "positional", required: true, description: "Repository, e.g. alpine or localhost:5000/team/app" },
    ...globalArgs,
  },
  async run({ args }) {
    const { ref, client, ctx } = await setupRegistry(args as GlobalArgs & { image: string }, { allowBare: true });
    if (ref.digest) throw new LayerslayerError("USAGE", "tags takes a repository, not a digest reference");
    // A tag that is not a tag is reported (escaped) and skipped; the exit code says so at the end.
    let skipped = 0;
    const onInvalid = (tag: string) => {
      process.stderr.write(`layerslayer: ${printable(`${formatReference(ref)} tags: "${escapeName(tag)}" is not a tag; skipped`)}\n`);
      skipped++;
    };
    const tags = await client.listTags(ref, { onInvalid });
    if (ctx.json) printJson({ repository: formatReference({ registry: ref.registry, repository: ref.repository }), tags, ...(skipped ? { complete: false } : {}) });
    else if (tags.length) writeOut(tags.map(escapeName).join("\n"));
    if (skipped) process.exitCode = EXIT_CODES.CORRUPT;
  },
});
