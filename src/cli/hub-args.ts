/** What the Docker Hub commands (discover, repos, tags --details) share: their options, the client, the end of a list. */
import type { LayerslayerError } from "../errors.ts";
import { HubClient, hubEndpoint } from "../hub/client.ts";
import { hubListDocument } from "../output/hub.ts";
import { globalArgs, printJson, writeOut } from "./common.ts";
import { log } from "./log.ts";

/** The options of a command that talks to Docker Hub's API. */
export const hubArgs = {
  json: globalArgs.json,
  insecure: globalArgs.insecure,
  quiet: globalArgs.quiet,
  verbose: globalArgs.verbose,
} as const;

/** The client for LAYERSLAYER_HUB_URL (default https://hub.docker.com). */
export function hubClient(args: { insecure?: boolean | undefined; verbose?: boolean | undefined }): HubClient {
  return new HubClient({ endpoint: hubEndpoint(), insecure: !!args.insecure, ...(args.verbose ? { log: log.debug } : {}) });
}

/**
 * A Docker Hub list on stdout: one JSON document (`doc` with the items under `key`, and
 * `complete: false` when the list was cut short) or the table (its heading left out with -q); then
 * how the list ended (endOfList).
 */
export function printHubList<T>(
  args: { json?: boolean | undefined; quiet?: boolean | undefined },
  doc: Record<string, unknown>,
  key: string,
  list: { items: T[]; skipped: number; error?: LayerslayerError },
  table: (items: T[]) => string[],
): void {
  if (args.json) printJson(hubListDocument(doc, key, list));
  else if (list.items.length)
    writeOut(
      table(list.items)
        .slice(args.quiet ? 1 : 0)
        .join("\n"),
    );
  endOfList(list);
}

/**
 * After a list was printed: a warning for items left out for lack of a name, and the error that
 * ended the list early (on stderr, with its exit code; what was found before it is printed).
 */
export function endOfList(list: { skipped: number; error?: LayerslayerError }): void {
  if (list.skipped) log.warn(`${list.skipped} result${list.skipped === 1 ? "" : "s"} without a name left out`);
  if (list.error) {
    log.error(list.error.message);
    process.exitCode = list.error.exitCode;
  }
}
