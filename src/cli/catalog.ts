import { defineCommand } from "citty";
import { EXIT_CODES, LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { writeInOrder } from "../output/ordered.ts";
import { parseRegistry } from "../ref/reference.ts";
import { CATALOG_PAGE_SIZE, type RegistryClient } from "../registry/client.ts";
import { DEFAULT_WALK_LIMITS, ListWalk, type WalkLimits } from "../registry/pages.ts";
import { accessArgs, outputArgs, printJson, registryContext, type GlobalArgs } from "./common.ts";
import { log } from "./log.ts";
import { writeStdout } from "./stdout.ts";

/** Tag lists fetched at once by `catalog --tags` (output stays in catalog order). */
const TAGS_CONCURRENCY = 8;

interface Repository {
  name: string;
  tags?: string[];
  error?: LayerslayerError;
}

function asError(e: unknown): LayerslayerError {
  return e instanceof LayerslayerError ? e : new LayerslayerError("NETWORK", String((e as Error)?.message ?? e));
}

/**
 * A repository's tags (the name is a valid repository name: the client yields no other). A failure
 * of this list is the repository's; the walk's bound reached ends the whole walk.
 */
async function tagsOf(client: RegistryClient, registry: string, name: string, opts: { walk: ListWalk; onInvalid: (tag: string) => void }): Promise<Repository> {
  try {
    return { name, tags: await client.listTags({ registry, repository: name }, opts) };
  } catch (e) {
    if (opts.walk.stopped) throw opts.walk.stopped;
    return { name, error: asError(e) };
  }
}

/** One error line on stderr (log.error); server-supplied parts are escaped where they enter it, the log's `printable` is the last guard. */
function report(line: string): void {
  log.error(line);
}

function pageSizeFrom(value: string | undefined): number {
  if (value === undefined) return CATALOG_PAGE_SIZE;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new LayerslayerError("USAGE", `--page-size must be a positive whole number, not "${value}"`);
  return n;
}

function maxRequestsFrom(value: string | undefined): WalkLimits {
  if (value === undefined) return DEFAULT_WALK_LIMITS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new LayerslayerError("USAGE", `--max-requests must be a positive whole number, not "${escapeName(value)}"`);
  return { ...DEFAULT_WALK_LIMITS, requests: n };
}

function textLines(repo: Repository): string {
  if (!repo.tags) return "";
  const name = escapeName(repo.name);
  if (repo.tags.length === 0) return `${name}\n`;
  return repo.tags.map((t) => `${name}:${escapeName(t)}\n`).join("");
}

export default defineCommand({
  meta: { name: "catalog", description: "List every repository of a registry (and with --tags, every tag)" },
  args: {
    registry: { type: "positional", required: true, description: "Registry, e.g. localhost:5000 or registry.example.com" },
    tags: { type: "boolean", description: "List each repository's tags too: one REPOSITORY:TAG a line" },
    "page-size": { type: "string", valueHint: "N", description: `Repositories asked for per page (default ${CATALOG_PAGE_SIZE}, distribution's maximum)` },
    "max-requests": { type: "string", valueHint: "N", description: `Pages the whole walk may ask for, catalog and tag lists together (default ${DEFAULT_WALK_LIMITS.requests})` },
    ...outputArgs,
    ...accessArgs,
  },
  async run({ args }) {
    const registry = parseRegistry(args.registry);
    const pageSize = pageSizeFrom(args["page-size"]);
    const limits = maxRequestsFrom(args["max-requests"]);
    const { client, ctx } = await registryContext(args as GlobalArgs, registry);
    const found: Repository[] = [];
    let failure: LayerslayerError | undefined;
    const fail = (e: LayerslayerError, name?: string) => {
      report(`${name ? `${escapeName(name)}: ` : ""}${e.message}`);
      failure ??= e;
    };
    // A name that is not a repository name (or a tag that is not a tag) is reported and skipped;
    // the rest is listed, and the exit code says the registry's answer was corrupt.
    let skipped = 0;
    const skip = (what: string, name: string, kind: string) => {
      report(`${what}: "${escapeName(name)}" is not ${kind}; skipped`);
      skipped++;
    };
    let pages = 0;
    // One budget for the catalog and every tag list: the bound is on the whole walk.
    const walk = new ListWalk(`${registry} catalog`, limits);
    const onInvalid = (name: string) => skip(`${registry} catalog`, name, "a repository name");
    try {
      for await (const page of client.catalog(registry, pageSize, { walk, onInvalid })) {
        pages++;
        if (!args.tags) {
          found.push(...page.map((name) => ({ name })));
          if (!ctx.json && page.length) writeStdout(page.map((n) => `${escapeName(n)}\n`).join(""));
          continue;
        }
        await writeInOrder(
          page.map((name) => async (emit: (text: string) => void) => {
            const repo = await tagsOf(client, registry, name, { walk, onInvalid: (tag) => skip(`${registry}/${escapeName(name)} tags`, tag, "a tag") });
            if (!ctx.json) emit(textLines(repo));
            return repo;
          }),
          TAGS_CONCURRENCY,
          (text) => writeStdout(text),
          (repo) => {
            found.push(repo);
            if (repo.error) fail(repo.error, repo.name);
          },
        );
      }
    } catch (e) {
      let err = asError(e);
      if (pages === 0 && err.code === "NOT_FOUND") {
        err = new LayerslayerError("UNSUPPORTED", `${registry} does not offer a catalog (GET /v2/_catalog answered 404)`);
      } else if (pages === 0 && err.message.includes("PAGINATION_NUMBER_INVALID")) {
        // The registry refuses the page size it was asked for: the user's choice, so a usage error.
        err = new LayerslayerError("USAGE", `${err.message}: ask for smaller pages (--page-size; distribution allows at most ${CATALOG_PAGE_SIZE})`);
      }
      // Nothing listed before the failure is lost: it is printed (the JSON says the list is incomplete).
      if (!ctx.json || found.length === 0) throw err;
      fail(err);
    }
    if (ctx.json) {
      printJson({
        registry,
        repositories: args.tags ? found.map((r) => ({ name: r.name, ...(r.tags ? { tags: r.tags } : { error: r.error!.message }) })) : found.map((r) => r.name),
        ...(failure || skipped ? { complete: false } : {}),
      });
    }
    if (failure) process.exitCode = failure.exitCode;
    else if (skipped) process.exitCode = EXIT_CODES.CORRUPT;
  },
});
