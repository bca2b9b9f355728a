import { defineCommand } from "citty";
import { repositoryTable } from "../output/hub.ts";
import { HUB_MAX_PAGES, HUB_PAGE_SIZE } from "../hub/client.ts";
import { wholeNumber } from "./common.ts";
import { hubArgs, hubClient, printHubList } from "./hub-args.ts";

const MAX_LIMIT = HUB_MAX_PAGES * HUB_PAGE_SIZE;

export default defineCommand({
  meta: { name: "repos", description: "List every repository of a Docker Hub user or organisation, with pulls, stars and last update" },
  args: {
    namespace: { type: "positional", required: true, description: "A Docker Hub user or organisation, e.g. bitnami (library: the official images)" },
    limit: { type: "string", valueHint: "N", description: `Repositories to list at most (default and maximum ${MAX_LIMIT})` },
    ...hubArgs,
  },
  async run({ args }) {
    const limit = wholeNumber(args.limit, "--limit", MAX_LIMIT, 1, MAX_LIMIT);
    const list = await hubClient(args).repositories(args.namespace as string, limit);
    printHubList(args, { namespace: (args.namespace as string).toLowerCase() }, "repositories", list, repositoryTable);
  },
});
