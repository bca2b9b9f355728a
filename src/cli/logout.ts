import { defineCommand } from "citty";
import { escapeName } from "../names.ts";
import { parseRegistry } from "../ref/reference.ts";
import { removeLogin } from "../registry/auth-store.ts";
import { globalArgs } from "./common.ts";
import { log } from "./log.ts";

export default defineCommand({
  meta: { name: "logout", description: "Remove the saved login for a registry" },
  args: {
    registry: { type: "positional", required: true, description: "Registry, e.g. localhost:5000, ghcr.io or docker.io" },
    authfile: { ...globalArgs.authfile, description: "Remove it from this file only (default: from every file docker and podman read, and their credential helpers)" },
    quiet: globalArgs.quiet,
    verbose: globalArgs.verbose,
  },
  async run({ args }) {
    const registry = parseRegistry(args.registry as string);
    const removed = await removeLogin(registry, { ...(args.authfile ? { authfile: args.authfile } : {}) });
    if (removed.length === 0) log.info(`Not logged in to ${registry}: no saved login was found`);
    else log.info(`Removed the login for ${registry} from ${removed.map(escapeName).join(", ")}`);
  },
});
