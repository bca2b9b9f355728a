/**
 * What a scan covers: references named on the command line, read from a file (one per line,
 * blank lines and "#" comments ignored), or walked from a registry's catalog; then, for a shard,
 * the references whose stable hash falls to it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { LayerslayerError } from "../errors.ts";
import { globToRegExp } from "../image/glob.ts";
import { formatImageName, parseImageName } from "../ref/name.ts";
import { formatReference } from "../ref/reference.ts";
import { escapeName } from "../names.ts";
import type { RegistryClient } from "../registry/client.ts";
import { ListWalk } from "../registry/pages.ts";

/** At most this many references from one --from file (a bound on what a file can make us do). */
const MAX_LIST = 10_000_000;

export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    if (out.length >= MAX_LIST) throw new LayerslayerError("USAGE", `--from: more than ${MAX_LIST} references`);
    out.push(t);
  }
  return out;
}

/** References from a file, or standard input for "-". */
export async function readList(file: string): Promise<string[]> {
  try {
    return parseList(file === "-" ? await Bun.stdin.text() : readFileSync(file, "utf8"));
  } catch (e) {
    if (e instanceof LayerslayerError) throw e;
    throw new LayerslayerError("IO", `--from ${file}: ${(e as Error).message}`);
  }
}

/**
 * References of a registry's repositories: repo:latest each, or every tag with `allTags`. A name
 * that is not a repository name or a tag is skipped, and `onInvalid` gets a line (escaped) saying so.
 */
export async function catalogReferences(client: RegistryClient, host: string, opts: { match?: string; allTags?: boolean; onInvalid?: (line: string) => void }): Promise<string[]> {
  const match = opts.match ? globToRegExp(opts.match) : undefined;
  const invalid = (what: string, kind: string) => (name: string) => opts.onInvalid?.(`${what}: "${escapeName(name)}" is not ${kind}; skipped`);
  const repos: string[] = [];
  // One budget for the catalog and every tag list: the bound is on the whole walk.
  const walk = new ListWalk(`${host} catalog`);
  for await (const page of client.catalog(host, undefined, { walk, onInvalid: invalid(`${host} catalog`, "a repository name") })) {
    repos.push(...page.filter((r) => !match || match.test(r)));
  }
  const out: string[] = [];
  for (const repo of repos) {
    if (!opts.allTags) {
      out.push(`${host}/${repo}:latest`);
      continue;
    }
    const tags = await client.listTags({ registry: host, repository: repo }, { walk, onInvalid: invalid(`${host}/${repo} tags`, "a tag") });
    for (const tag of tags) out.push(`${host}/${repo}:${tag}`);
  }
  return out;
}

export interface Shard {
  /** From 0, whatever the user wrote (`--shard 1/4` is index 0). */
  index: number;
  count: number;
}

/**
 * `--shard I/N` with I from 1, as Jest, Vitest and Playwright count (`--shard 1/2` is the first of
 * two), or `--shard N` with the index from an environment variable: `--shard-from-env VAR`, else
 * JOB_COMPLETION_INDEX, from 0 as Kubernetes Indexed Jobs define it.
 */
export function parseShard(flag: string | undefined, fromEnv: string | undefined, env: Record<string, string | undefined> = process.env): Shard | undefined {
  if (flag === undefined) {
    if (fromEnv !== undefined) throw new LayerslayerError("USAGE", "--shard-from-env needs --shard N (the number of shards)");
    return undefined;
  }
  const m = /^(?:(\d+)\/)?(\d+)$/.exec(flag.trim());
  if (!m) throw new LayerslayerError("USAGE", `--shard ${flag}: expected I/N (e.g. 1/4, counting from 1) or N with the index from the environment`);
  const count = Number(m[2]);
  if (!(count >= 1) || count > 1_000_000) throw new LayerslayerError("USAGE", `--shard ${flag}: the number of shards must be 1 to 1000000`);
  let index: number;
  if (m[1] !== undefined) {
    if (fromEnv !== undefined) throw new LayerslayerError("USAGE", "--shard I/N and --shard-from-env cannot be used together");
    const i = Number(m[1]);
    if (i < 1 || i > count) throw new LayerslayerError("USAGE", `--shard ${flag}: the shard must be 1 to ${count} (shards count from 1)`);
    index = i - 1;
  } else {
    const name = fromEnv ?? "JOB_COMPLETION_INDEX";
    const value = env[name];
    if (value === undefined || !/^\d+$/.test(value.trim()))
      throw new LayerslayerError("USAGE", `--shard ${flag}: the shard index comes from $${name}, which is ${value === undefined ? "not set" : "not a number"}`);
    index = Number(value.trim());
  }
  if (index >= count) throw new LayerslayerError("USAGE", `--shard: the index ${index} from the environment is not below the number of shards ${count} (it counts from 0)`);
  return { index, count };
}

/** The shard a reference belongs to: the first 48 bits of sha256(canonical reference) mod N (the same on every machine). */
export function shardOf(reference: string, count: number): number {
  let canonical = reference;
  try {
    canonical = formatImageName(parseImageName(reference), formatReference);
  } catch {}
  const h = createHash("sha256").update(canonical).digest();
  return h.readUIntBE(0, 6) % count;
}

/** The references of one shard (all of them without a shard), de-duplicated, in the given order. */
export function selectShard(references: readonly string[], shard: Shard | undefined): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of references) {
    if (seen.has(r)) continue;
    seen.add(r);
    if (!shard || shardOf(r, shard.count) === shard.index) out.push(r);
  }
  return out;
}
