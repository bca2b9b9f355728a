/**
 * Scan jobs over HTTP: start one (POST, a JSON body), list them, watch one by polling (GET) or as
 * server-sent events, cancel one (DELETE). The job runs apart from the request (jobs.ts): a client
 * that closes its event stream leaves it running.
 */
import { ndjsonLine } from "../output/json.ts";
import { outcomeJson } from "../output/scan-json.ts";
import { BASE_HEADERS, jsonResponse, Pipe } from "./http.ts";
import type { JobEvent } from "./jobs.ts";
import type { Call, ParamDef, Query, RouteDef } from "./route-def.ts";
import { SCAN_BODY, SCAN_EVENT, SCAN_JOB, SCAN_JOBS, scanJobJson } from "./scan-request.ts";

const id: ParamDef = { type: "string", in: "path", description: "The job's id, as POST /v1/scans answered it" };

/** Events queued for a slow reader past which progress and keep-alives are dropped. */
const MAX_BEHIND = 64;

/** A comment line every so often, so that proxies (and Bun's idle timeout) keep a quiet stream open. */
const KEEPALIVE_MS = 15_000;

/** One server-sent event: its name and one line of JSON (versioned, as every record). */
function sse(event: string, data: object): string {
  return `event: ${event}\ndata: ${ndjsonLine(data).trimEnd()}\n\n`;
}

/**
 * The events of a job: a `progress` snapshot and the images scanned so far, then each new image
 * and progress as they come, and `end` with the whole job. A client that closes the stream stops
 * watching; the job runs on.
 */
function events(q: Query, call: Call): Response {
  const jobs = call.core.scans;
  const job = jobs.get(String(q.id));
  let stop = () => {};
  const pipe = new Pipe(() => {
    stop();
    call.abort();
  });
  // Writes in order, each after the one before (the client may be slower than the job). Behind a
  // slow reader, progress snapshots and keep-alives are dropped (the next one says the same, newer):
  // only images and the end queue up, and there are at most MAX_JOB_REFERENCES images per platform.
  let chain = Promise.resolve();
  let pending = 0;
  const send = (text: string, last = false, droppable = false) => {
    if (droppable && pending > MAX_BEHIND) return;
    pending++;
    chain = chain
      .then(() => pipe.write(text))
      .finally(() => pending--)
      .then(() => {
        if (last) {
          stop();
          pipe.close();
        }
      })
      .catch(() => stop());
  };
  const keepalive = setInterval(() => send(": keepalive\n\n", false, true), KEEPALIVE_MS);
  const unwatch = jobs.watch(job.id, (e: JobEvent) => {
    if (e.kind === "image") send(sse("image", { image: outcomeJson(e.outcome) }));
    else if (e.kind === "progress") send(sse("progress", { progress: scanJobJson(job, false) }), false, true);
    else send(sse("end", { end: scanJobJson(job) }), true);
  });
  stop = () => {
    clearInterval(keepalive);
    unwatch();
  };
  send(sse("progress", { progress: scanJobJson(job, false) }));
  for (const o of job.images) send(sse("image", { image: outcomeJson(o) }));
  if (job.finished) send(sse("end", { end: scanJobJson(job) }), true);
  return new Response(pipe.stream, { headers: { ...BASE_HEADERS, "Content-Type": "text/event-stream; charset=utf-8" } });
}

export const SCAN_ROUTES: RouteDef[] = [
  {
    path: "/v1/scans",
    method: "POST",
    operationId: "startScan",
    summary: "Start a scan job: record images in the server's database (--db) for /v1/search, as `scan` does",
    params: {},
    body: { description: "What to scan, as `scan` takes it", schema: SCAN_BODY },
    response: { status: 202, contentType: "application/json", description: "The job, queued or running; its id names it in the other scan routes", schema: SCAN_JOB },
    handle: async (_q, call) => {
      const job = call.core.scans.start(call.core.scanRequest(call.body), call.client);
      return jsonResponse(scanJobJson(job), { Location: `/v1/scans/${job.id}` });
    },
  },
  {
    path: "/v1/scans",
    operationId: "listScans",
    summary: "The scan jobs the server holds, oldest first (without their images)",
    params: {},
    response: { contentType: "application/json", description: "Every job held", schema: SCAN_JOBS },
    handle: async (_q, call) => jsonResponse({ jobs: call.core.scans.list().map((j) => scanJobJson(j, false)) }),
  },
  {
    path: "/v1/scans/{id}",
    operationId: "scan",
    summary: "A scan job: its state, progress, and the images scanned so far (all of them once it is done)",
    params: { id },
    response: { contentType: "application/json", description: "The job, each image as `scan --json` prints it", schema: SCAN_JOB },
    handle: async (q, call) => jsonResponse(scanJobJson(call.core.scans.get(String(q.id)))),
  },
  {
    path: "/v1/scans/{id}",
    method: "DELETE",
    operationId: "cancelScan",
    summary: "Cancel a scan job (it stops reading; what it recorded stays), or forget a finished one",
    params: { id },
    response: { contentType: "application/json", description: "The job as it ended", schema: SCAN_JOB },
    handle: async (q, call) => jsonResponse(scanJobJson(await call.core.scans.cancel(String(q.id)))),
  },
  {
    path: "/v1/scans/{id}/events",
    operationId: "scanEvents",
    summary: "A scan job's progress as server-sent events: progress, image (each scanned), end (the whole job)",
    params: { id },
    response: {
      contentType: "text/event-stream",
      description: "Events `progress`, `image` and `end`; the data of each is one JSON record. Closing the stream leaves the job running.",
      schema: SCAN_EVENT,
    },
    handle: async (q, call) => events(q, call),
  },
];
