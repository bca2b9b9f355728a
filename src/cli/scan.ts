import { defineCommand } from "citty";
import { databaseLocation, openDatabase } from "../db/open.ts";
import { EXIT_CODES, LayerslayerError, type ErrorCode } from "../errors.ts";
import { humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { ndjsonLine } from "../output/json.ts";
import { parseReference, parseRegistry } from "../ref/reference.ts";
import { parsePlatform } from "../oci/platform.ts";
import { scanReference, type ImageOutcome } from "../scan/image.ts";
import { outcomeJson } from "../output/scan-json.ts";
import { Limiter, mapLimited } from "../scan/limit.ts";
import { catalogReferences, parseShard, readList, selectShard } from "../scan/targets.ts";
import { budgetArgs, budgetFrom } from "./budget.ts";
import { dbArg, globalArgs, registryContext, wholeNumber, type GlobalArgs } from "./common.ts";
import { drawsProgress } from "./layer-progress.ts";
import { log } from "./log.ts";
import { writeStdout } from "./stdout.ts";

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;

function concurrencyFrom(text: string | undefined): number {
  return wholeNumber(text, "--concurrency", DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY);
}

function outcomeLine(o: ImageOutcome): string {
  const name = `${escapeName(o.reference)}${o.platform ? ` ${escapeName(o.platform)}` : ""}`;
  // Messages about a whole reference usually start with it already.
  if (o.error && o.layers === 0) return `failed  ${o.error.message.startsWith(o.reference) ? escapeName(o.error.message) : `${name}: ${escapeName(o.error.message)}`}`;
  const state = o.partialLayers ? `${o.partialLayers} partial` : "complete";
  const tail = o.error ? `; ${escapeName(o.error.message)}` : "";
  return `${o.error ? "failed " : "scanned"} ${name}: ${o.layers} layers (${o.layersRead} read, ${o.layersSkipped} already recorded, ${state}), ${o.entries} entries, downloaded ${humanSize(o.bytesDownloaded)}${tail}`;
}

export default defineCommand({
  meta: { name: "scan", description: "Record many images (config, history, the listing of every layer) in the database for `search`" },
  args: {
    refs: { type: "positional", required: false, valueHint: "REF...", description: "Image references (more may follow)" },
    from: { type: "string", valueHint: "FILE|-", description: "Read references from a file, one per line (- for standard input; default: none)" },
    catalog: { type: "string", valueHint: "REGISTRY", description: "Scan the repositories of a registry's catalog (their :latest, or every tag with --all-tags; default: none)" },
    match: { type: "string", valueHint: "GLOB", description: "With --catalog: only repositories matching the glob (default: every repository)" },
    "all-tags": { type: "boolean", description: "With --catalog: every tag of each repository" },
    "all-platforms": { type: "boolean", description: "Every platform of a multi-platform image (default: one, see --platform)" },
    ...budgetArgs,
    concurrency: { type: "string", valueHint: "N", description: `Images and layers read at once (default ${DEFAULT_CONCURRENCY})` },
    shard: {
      type: "string",
      valueHint: "I/N|N",
      description:
        "Scan only shard I of N, I from 1 (stable hash of each reference); with N alone, the index comes from $JOB_COMPLETION_INDEX or --shard-from-env, counting from 0 (default: everything)",
    },
    "shard-from-env": { type: "string", valueHint: "VAR", description: "The environment variable holding the shard index, from 0 (default: JOB_COMPLETION_INDEX)" },
    ...dbArg,
    ...globalArgs,
  },
  async run({ args }) {
    const a = args as typeof args & GlobalArgs & { _: string[] };
    const budget = budgetFrom(a);
    const concurrency = concurrencyFrom(a.concurrency);
    if (a.platform && a["all-platforms"]) throw new LayerslayerError("USAGE", "--platform and --all-platforms cannot be used together");
    if ((a.match || a["all-tags"]) && !a.catalog) throw new LayerslayerError("USAGE", "--match and --all-tags go with --catalog REGISTRY");
    const shard = parseShard(a.shard, a["shard-from-env"]);
    databaseLocation(a.db); // a malformed --db is a usage error before any registry is asked
    const platform = a["all-platforms"] ? ("all" as const) : a.platform ? parsePlatform(a.platform) : undefined;
    if (a["password-stdin"] && a.from === "-") throw new LayerslayerError("USAGE", "--password-stdin and --from - both want standard input");
    if (a["password-stdin"]) {
      // Read once for every registry's client (each would otherwise read standard input again).
      const password = (await Bun.stdin.text()).replace(/\r?\n$/, "");
      if (!password) throw new LayerslayerError("USAGE", "--password-stdin was given but standard input was empty");
      process.env.LAYERSLAYER_PASSWORD = password;
      a["password-stdin"] = false;
    }
    const named = [...(a._ ?? [])];
    if (a.from !== undefined) named.push(...(await readList(a.from)));
    const catalog = a.catalog ? parseRegistry(a.catalog) : undefined;
    // One client per registry, so each gets its own credentials (never another registry's).
    const clients = new Map<string, ReturnType<typeof registryContext>>();
    const contextOf = (registry: string) => {
      let c = clients.get(registry);
      if (!c) clients.set(registry, (c = registryContext(a, registry)));
      return c;
    };
    const clientFor = async (registry: string) => (await contextOf(registry)).client;
    const { ctx } = await contextOf(catalog ?? (named[0] ? safeRegistry(named[0]) : "docker.io"));
    // Names from the catalog that are not names are reported and skipped; the exit code says so at the end.
    let skipped = 0;
    const onInvalid = (line: string) => {
      log.error(line);
      skipped++;
    };
    if (catalog) named.push(...(await catalogReferences(await clientFor(catalog), catalog, { ...(a.match ? { match: a.match } : {}), allTags: !!a["all-tags"], onInvalid })));
    if (named.length === 0) throw new LayerslayerError("USAGE", "nothing to scan: name images, --from FILE, or --catalog REGISTRY");
    const refs = selectShard(named, shard);
    const db = await openDatabase(a.db);
    const progress = drawsProgress(ctx);
    let done = 0;
    let failed = 0;
    let bytes = 0;
    const draw = () => {
      if (progress) process.stderr.write(`\r\x1b[Kscan: ${done}/${refs.length} references, ${failed} failed, ${humanSize(bytes)} downloaded`);
    };
    const outcomes: ImageOutcome[] = [];
    draw();
    try {
      const layers = new Limiter(concurrency);
      const reading = new Map();
      await mapLimited(refs, concurrency, async (text) => {
        const results = await scanReference(
          {
            clientFor,
            db,
            budget,
            ...(a.verify ? { verify: true } : {}),
            platform,
            layers,
            reading,
            ...(ctx.useCache ? { cache: ctx.cache } : {}),
            // Ctrl-C stops every read under way; nothing half-read is recorded.
            signal: ctx.signal,
            onBytes: (n) => {
              bytes += n;
            },
          },
          text,
        );
        done++;
        for (const o of results) {
          outcomes.push(o);
          if (o.error) failed++;
          if (progress) process.stderr.write("\r\x1b[K");
          if (ctx.json) writeStdout(ndjsonLine(outcomeJson(o)));
          else writeStdout(`${outcomeLine(o)}\n`);
        }
        draw();
      });
    } finally {
      if (progress) process.stderr.write("\r\x1b[K");
      await db.close();
    }
    const downloaded = outcomes.reduce((n, o) => n + o.bytesDownloaded, 0);
    const images = outcomes.length;
    const summary = `${images} image${images === 1 ? "" : "s"} from ${refs.length} reference${refs.length === 1 ? "" : "s"}${shard ? ` (shard ${shard.index + 1}/${shard.count} of ${named.length})` : ""}: ${images - failed} recorded, ${failed} failed; downloaded ${humanSize(downloaded)} into ${db.location}`;
    // Shown with -q too when something failed.
    if (failed > 0) log.always(summary);
    else log.info(summary);
    // The exit code of the first failure (in reference order).
    const first = outcomes.find((o) => o.error);
    if (first) process.exitCode = EXIT_CODES[first.error!.code as ErrorCode] ?? 1;
    else if (skipped) process.exitCode = EXIT_CODES.CORRUPT;
  },
});

function safeRegistry(text: string): string {
  try {
    return parseReference(text).registry;
  } catch {
    return "docker.io";
  }
}
