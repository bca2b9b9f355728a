/**
 * The image routes of the API (table.ts puts every route together): each route's path,
 * parameters (with their schema), answer (with its schema) and handler.
 */
import { createHash } from "node:crypto";
import { DEFAULT_BUDGET } from "../cli/budget.ts";
import { LayerslayerError } from "../errors.ts";
import { findEvents, findQuery } from "../image/find.ts";
import { globToRegExp, TYPE_LETTERS, userRegExp } from "../image/glob.ts";
import { resolvePath } from "../image/resolve.ts";
import { escapeName, unescapeName } from "../names.ts";
import { jsonDocumentParts } from "../output/json.ts";
import { configJson, describeImage, findHitJson, historyJson, lsDocumentParts, manifestJson, platformsJson } from "../output/image-json.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { errorRecord, jsonResponse, Pipe, BASE_HEADERS } from "./http.ts";
import { layerSel, opened, platform, ref, s, streamed, writeBatched, type Call, type Query, type RouteDef } from "./route-def.ts";
import * as S from "./schemas.ts";

/** Files up to this size are read whole before the answer starts (so it states their length and verification). */
const CAT_WHOLE = 1024 * 1024;

function etagOf(layerDigest: string, path: string): string {
  return `"${createHash("sha256").update(`${layerDigest}\0${path}`).digest("hex").slice(0, 40)}"`;
}

/**
 * `cat`: bytes as they are read. A file that fits in CAT_WHOLE is answered whole, with its length,
 * its ETag (layer digest and path) and whether its layer was verified; a larger one is streamed as
 * it arrives, marked unverified (`verify=true` then checks the layer at the end, cutting the
 * transfer short when it does not match).
 */
async function cat(q: Query, call: Call): Promise<Response> {
  const img = await opened(call, q);
  const path = unescapeName(String(q.path));
  const verify = q.verify === true;
  const held: Uint8Array[] = [];
  let size = 0;
  let pipe: Pipe | undefined;
  let started: ((r: Response) => void) | undefined;
  const early = new Promise<Response>((r) => (started = r));
  const sink = async (chunk: Uint8Array): Promise<void> => {
    if (pipe) return pipe.write(chunk);
    held.push(chunk.slice());
    size += chunk.byteLength;
    if (size <= CAT_WHOLE) return;
    pipe = new Pipe(call.abort);
    started!(new Response(pipe.stream, { headers: { ...BASE_HEADERS, "Content-Type": "application/octet-stream", "X-Layerslayer-Verified": verify ? "at-end" : "false" } }));
    for (const c of held.splice(0)) await pipe.write(c);
  };
  const done = call.core.cat(img, path, sink, { verify, signal: call.signal }).then(
    (r) => {
      if (pipe) return pipe.close();
      const headers = {
        ...BASE_HEADERS,
        "Content-Type": "application/octet-stream",
        "Content-Length": String(size),
        ETag: etagOf(img.img.manifest.image.layers[r.layer]!.digest, r.path),
        "X-Layerslayer-Verified": r.verified || r.toc?.checked ? "true" : "false",
        "X-Layerslayer-Layer": String(r.layer),
      };
      return started!(new Response(Buffer.concat(held), { headers }));
    },
    (e) => {
      if (pipe) pipe.fail(e);
      else throw e;
    },
  );
  return await Promise.race([early, done.then(() => early)]);
}

async function peek(q: Query, call: Call): Promise<Response> {
  if (q.full === true && q.budget !== undefined) throw new LayerslayerError("USAGE", "full and budget cannot be used together");
  const budget = q.full === true ? undefined : ((q.budget as number | undefined) ?? Math.min(DEFAULT_BUDGET, call.caps.maxBudget));
  if (budget !== undefined && budget > call.caps.maxBudget) throw new LayerslayerError("USAGE", `budget ${budget}: more than this server allows (${call.caps.maxBudget})`);
  const img = await opened(call, q);
  const layers = call.core.layers(img.img, s(q.layer));
  return streamed(call, "application/x-ndjson", async (pipe) => {
    try {
      await call.core.peek(img, layers, budget, (text) => pipe.write(text), call.signal);
    } catch (e) {
      if (call.signal.aborted) throw e;
      await pipe.write(errorRecord(e));
    }
  });
}

/** Longest pattern `find` takes over HTTP. */
const MAX_PATTERN = 256;

/**
 * A caller's pattern, bounded: a regular expression (or a glob with many stars) can take time that
 * grows without bound on long paths, and one request would stall the server for everyone. So a
 * pattern is at most MAX_PATTERN characters, and `regex` is taken only from loopback callers.
 */
export function checkedPattern(q: Query, call: Call, key = "pattern"): string {
  const pattern = String(q[key]);
  if (pattern.length > MAX_PATTERN) throw new LayerslayerError("USAGE", `${key} is longer than ${MAX_PATTERN} characters`);
  if (key === "pattern" && q.regex === true && !call.loopbackOnly)
    throw new LayerslayerError("USAGE", "regex is not taken when the server listens beyond loopback (a regular expression can take unbounded time): use a glob");
  if ((pattern.match(/\*/g) ?? []).length > 8) throw new LayerslayerError("USAGE", `${key} has more than 8 stars`);
  return pattern;
}

/** A route that answers one document about the image a reference resolves to, as `NAME --json` prints it. */
function imageDocument(name: string, summary: string, schema: S.JsonSchema, doc: (img: ResolvedImage) => object): RouteDef {
  return {
    path: `/v1/${name}`,
    operationId: name,
    summary,
    params: { ref, platform },
    response: { contentType: "application/json", description: `as \`${name} --json\``, schema },
    handle: async (q, call) => jsonResponse(doc((await opened(call, q)).img)),
  };
}

/** The routes about one image (or a registry's lists): what `inspect`, `peek`, `ls`, `find`, `cat` and their kin answer. */
export const IMAGE_ROUTES: RouteDef[] = [
  imageDocument("inspect", "An image's digest, platform, config and layers with the build step of each", S.INSPECT, describeImage),
  imageDocument("history", "The build steps of an image and the layer each one produced", S.HISTORY, historyJson),
  {
    path: "/v1/manifest",
    operationId: "manifest",
    summary: "The resolved image manifest (index=true: the index the reference names)",
    params: { ref, platform, index: { type: "boolean", description: "The index instead of the image manifest" } },
    response: { contentType: "application/json", description: "as `manifest --json`", schema: S.MANIFEST },
    handle: async (q, call) => {
      const doc = manifestJson((await opened(call, q)).img, q.index === true);
      if (!doc) throw new LayerslayerError("USAGE", `${escapeName(String(q.ref))} names a single image, not an index`);
      return jsonResponse(doc);
    },
  },
  imageDocument("config", "The image config", S.CONFIG, configJson),
  {
    path: "/v1/platforms",
    operationId: "platforms",
    summary: "The platforms a multi-platform image offers",
    params: { ref, all: { type: "boolean", description: "Also attestation and other non-image entries" } },
    response: { contentType: "application/json", description: "as `platforms --json`", schema: S.PLATFORMS },
    handle: async (q, call) => jsonResponse(await platformsJson(call.core.source(call.core.reference(String(q.ref))), q.all === true)),
  },
  {
    path: "/v1/tags",
    operationId: "tags",
    summary: "The tags of a repository",
    params: { repository: { type: "string", required: true, description: "Repository, e.g. registry.example.com/team/app" } },
    response: { contentType: "application/json", description: "as `tags --json`", schema: S.TAGS },
    handle: async (q, call) => jsonResponse(await call.core.tags(String(q.repository))),
  },
  {
    path: "/v1/catalog",
    operationId: "catalog",
    summary: "The repositories of a registry",
    params: {
      registry: { type: "string", required: true, description: "Registry host[:port]" },
      limit: { type: "integer", minimum: 1, maximum: 100_000, description: "Names at most (default 10000); `truncated` says there were more" },
    },
    response: { contentType: "application/json", description: "as `catalog --json`, plus `truncated`", schema: S.CATALOG },
    handle: async (q, call) => jsonResponse(await call.core.catalog(String(q.registry), (q.limit as number | undefined) ?? 10_000)),
  },
  {
    path: "/v1/peek",
    operationId: "peek",
    summary: "The files in the image's layers, downloading at most a budget of compressed bytes per layer (or full=true: whole layers)",
    params: {
      ref,
      platform,
      layer: layerSel,
      budget: { type: "integer", minimum: 1, description: "Compressed bytes per layer (default 262144; at most the server's --max-budget)" },
      full: { type: "boolean", description: "Whole layers: complete listings" },
    },
    response: {
      contentType: "application/x-ndjson",
      description: "as `peek --json`: one record a line, each entry then each layer's stats; a last `error` record when the stream was cut short",
      schema: S.PEEK_RECORD,
    },
    downloads: true,
    handle: peek,
  },
  {
    path: "/v1/ls",
    operationId: "ls",
    summary: "A directory of the image's merged filesystem (whiteouts applied)",
    params: {
      ref,
      platform,
      path: { type: "string", description: "Directory or file in the image (default /)" },
      layer: { type: "string", description: "One layer alone, not merged" },
      recursive: { type: "boolean", description: "Everything below the directory" },
      history: { type: "boolean", description: "Also what lower layers had, deleted or hid" },
    },
    response: { contentType: "application/json", description: "as `ls --json`", schema: S.LS },
    downloads: true,
    handle: async (q, call) => {
      const img = await opened(call, q);
      const { tree, layers } = await call.core.view(img, s(q.layer), call.signal);
      const target = resolvePath(tree, unescapeName(s(q.path) ?? "/"), { followFinal: true });
      const parts = lsDocumentParts(tree, target, { ...(q.layer !== undefined ? { layer: layers[0]! } : {}), recursive: q.recursive === true, history: q.history === true });
      return streamed(call, "application/json; charset=utf-8", (pipe) => writeBatched(pipe, parts));
    },
  },
  {
    path: "/v1/find",
    operationId: "find",
    summary: "Paths in every layer matching a pattern: where each was added, modified, deleted or hidden",
    params: {
      ref,
      platform,
      pattern: { type: "string", required: true, description: "Glob (*, ?, **, [..]); without '/' it matches base names" },
      regex: { type: "boolean", description: "The pattern is a regular expression searched in /path (loopback servers only)" },
      ignoreCase: { type: "boolean", description: "Letters match either case" },
      type: { type: "string", description: "Only entries of this type: f, d, l, c, b or p" },
      present: { type: "boolean", description: "Only paths that exist in the final image" },
    },
    response: { contentType: "application/json", description: "as `find --json`", schema: S.FIND },
    downloads: true,
    handle: async (q, call) => {
      const pattern = checkedPattern(q, call);
      // Checked before any download: a bad pattern or type is the caller's mistake.
      const query = findQuery(pattern, {
        regex: q.regex === true,
        ignoreCase: q.ignoreCase === true,
        ...(q.type !== undefined ? { type: String(q.type) } : {}),
        present: q.present === true,
      });
      const img = await opened(call, q);
      const { tree, stepOfLayer } = await call.core.view(img, undefined, call.signal);
      const hits = findEvents(tree, query);
      // Written as it is encoded: a pattern that matches a million paths is never one string.
      const parts = jsonDocumentParts(
        { pattern, hits: [] },
        "hits",
        (function* () {
          for (const e of hits) yield findHitJson(tree, stepOfLayer, e);
        })(),
      );
      return streamed(call, "application/json; charset=utf-8", (pipe) => writeBatched(pipe, parts));
    },
  },
  {
    path: "/v1/search",
    operationId: "search",
    summary: "Paths containing a pattern in every image recorded by `scan` (the server's --db)",
    params: {
      pattern: { type: "string", required: true, description: "Text to find in paths (case-sensitive)" },
      regex: { type: "boolean", description: "The pattern is a regular expression searched in /path (loopback servers only)" },
      image: { type: "string", description: "Only images whose reference matches this glob" },
      type: { type: "string", description: "Only entries of this type: f, d, l, c, b or p" },
      minSize: { type: "integer", minimum: 0, description: "Only entries at least this many bytes" },
    },
    response: { contentType: "application/json", description: "as `search --json`", schema: S.SEARCH },
    handle: async (q, call) => {
      const pattern = checkedPattern(q, call);
      if (pattern === "") throw new LayerslayerError("USAGE", "the pattern is empty");
      const types = q.type === undefined ? undefined : TYPE_LETTERS[String(q.type)];
      if (q.type !== undefined && !types) throw new LayerslayerError("USAGE", `type ${escapeName(String(q.type))}: expected one of f, d, l, c, b, p`);
      const hits = await call.core.search({
        pattern,
        ...(q.regex === true ? { regex: userRegExp(pattern) } : {}),
        ...(q.image !== undefined ? { image: globToRegExp(checkedPattern(q, call, "image")) } : {}),
        ...(types ? { types } : {}),
        ...(q.minSize !== undefined ? { minSize: q.minSize as number } : {}),
      });
      return jsonResponse({ pattern, hits });
    },
  },
  {
    path: "/v1/cat",
    operationId: "cat",
    summary: "One file of the image, its bytes as they are read (the download stops when the file is complete)",
    params: {
      ref,
      platform,
      path: { type: "string", required: true, description: "Path in the image, e.g. /etc/os-release" },
      verify: { type: "boolean", description: "Read the layer to its end and check its digest" },
    },
    response: {
      contentType: "application/octet-stream",
      description:
        "The file's bytes. Files up to 1 MiB come whole with Content-Length, an ETag (layer digest and path) and X-Layerslayer-Verified: true|false; larger ones are streamed with X-Layerslayer-Verified: false (or at-end with verify=true: the transfer is cut short if the layer does not match its digest)",
      schema: S.BYTES,
      headers: { "X-Layerslayer-Verified": "true, false or at-end" },
    },
    downloads: true,
    handle: cat,
  },
  {
    path: "/v1/layer",
    operationId: "layer",
    summary: "One layer blob, verified: hashed as it streams, the transfer cut short when it does not match its digest",
    params: { ref, platform, layer: { ...layerSel, required: true, description: "The layer: an index, -1 for the last, or a digest" } },
    response: {
      contentType: "application/octet-stream",
      description: "The blob's bytes (chunked), X-Layerslayer-Size its size, Docker-Content-Digest its digest, X-Layerslayer-Verified: at-end",
      schema: S.BYTES,
      headers: { "Docker-Content-Digest": "the layer's digest", "X-Layerslayer-Size": "the layer's size in bytes", "X-Layerslayer-Verified": "at-end" },
    },
    downloads: true,
    handle: async (q, call) => {
      const img = await opened(call, q);
      const { desc } = call.core.layer(img.img, String(q.layer));
      const chunks = call.core.blob(img, desc, call.signal);
      return streamed(
        call,
        "application/octet-stream",
        async (pipe) => {
          for await (const c of chunks) await pipe.write(c);
        },
        // Bun 1.4.5 sends a streamed body chunked whatever Content-Length says: the size goes in its own header.
        { "X-Layerslayer-Size": String(desc.size), "Docker-Content-Digest": desc.digest, ETag: `"${desc.digest}"`, "X-Layerslayer-Verified": "at-end" },
      );
    },
  },
];
