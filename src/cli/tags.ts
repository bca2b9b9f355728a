import { defineCommand } from "citty";
import { EXIT_CODES, LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { tagTable } from "../output/hub.ts";
import { DEFAULT_REGISTRY, formatReference, type ImageRef } from "../ref/reference.ts";
import { accessArgs, outputArgs, printJson, setupRegistry, wholeNumber, writeOut, type GlobalArgs } from "./common.ts";
import { hubClient, printHubList } from "./hub-args.ts";
import { log } from "./log.ts";

/** Tags shown by --details unless --limit says otherwise (newest first), and at most. */
const DETAILS_LIMIT = 50;
const MAX_DETAILS_LIMIT = 10_000;

/** `tags --details`: Docker Hub's tag list with each tag's push time, size and platform images, newest first. */
async function details(ref: ImageRef, args: GlobalArgs & { limit?: string }): Promise<void> {
  if (ref.registry !== DEFAULT_REGISTRY) {
    throw new LayerslayerError("UNSUPPORTED", `--details reads Docker Hub's API; ${escapeName(ref.registry)} is not Docker Hub (tags without --details lists its tags)`);
  }
  const parts = ref.repository.split("/");
  if (parts.length !== 2) throw new LayerslayerError("USAGE", `${escapeName(ref.repository)} is not a Docker Hub repository (NAMESPACE/NAME)`);
  const limit = wholeNumber(args.limit, "--limit", DETAILS_LIMIT, 1, MAX_DETAILS_LIMIT);
  const list = await hubClient(args).tags(parts[0]!, parts[1]!, limit);
  printHubList(args, { repository: formatReference({ registry: ref.registry, repository: ref.repository }) }, "tags", list, tagTable);
}

export default defineCommand({
  meta: { name: "tags", description: "List the tags of a repository" },
  args: {
    image: { type: "positional", required: true, description: "Repository, e.g. alpine or localhost:5000/team/app" },
    details: { type: "boolean", description: "Docker Hub repositories: each tag's last push, size and platforms with their digests, newest first" },
    limit: { type: "string", valueHint: "N", description: `With --details: tags to show at most (default ${DETAILS_LIMIT})` },
    ...outputArgs,
    ...accessArgs,
  },
  async run({ args }) {
    const { ref, client, ctx } = await setupRegistry(args as GlobalArgs & { image: string }, { allowBare: true });
    if (ref.digest) throw new LayerslayerError("USAGE", "tags takes a repository, not a digest reference");
    if (args.details) return await details(ref, args as GlobalArgs & { limit?: string });
    if (args.limit !== undefined) throw new LayerslayerError("USAGE", "--limit goes with --details");
    // A tag that is not a tag is reported (escaped) and skipped; the exit code says so at the end.
    let skipped = 0;
    const onInvalid = (tag: string) => {
      log.error(`${formatReference(ref)} tags: "${escapeName(tag)}" is not a tag; skipped`);
      skipped++;
    };
    const tags = await client.listTags(ref, { onInvalid });
    if (ctx.json) printJson({ repository: formatReference({ registry: ref.registry, repository: ref.repository }), tags, ...(skipped ? { complete: false } : {}) });
    else if (tags.length) writeOut(tags.map(escapeName).join("\n"));
    if (skipped) process.exitCode = EXIT_CODES.CORRUPT;
  },
});
