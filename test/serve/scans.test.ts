/**
 * Scan jobs over HTTP against the real registry: started by POST, watched by polling and by
 * server-sent events, cancelled by DELETE, bounded (running, held, time); every answer checked
 * against the OpenAPI document the server publishes, and what a job records found by /v1/search.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { validate } from "../support/json-schema.ts";
import { useRegistry } from "../support/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "ls-serve-scans-"));
process.env.LAYERSLAYER_CACHE_DIR = join(dir, "cache");
const { serveConfig } = await import("../../src/serve/config.ts");
const { startServer } = await import("../../src/serve/server.ts");
type Running = ReturnType<typeof startServer>;

const reg = useRegistry();
let openapi: Record<string, any>;
const servers: Running[] = [];
const proxies: FaultProxy[] = [];
let dbCount = 0;

function serve(flags: Parameters<typeof serveConfig>[0] = {}): Running {
  const s = startServer(serveConfig({ listen: "127.0.0.1:0", cache: false, accessLog: false, db: join(dir, `db${dbCount++}.sqlite`), ...flags }));
  servers.push(s);
  return s;
}

function slowProxy(delayMs: number): FaultProxy {
  const p = startFaultProxy(reg.url);
  p.delayMs = delayMs;
  proxies.push(p);
  return p;
}

beforeAll(async () => {
  for (const [name, file] of [
    ["jobs/one", "etc/one-release"],
    ["jobs/two", "etc/two-release"],
    ["jobs/three", "etc/three-release"],
  ] as const) {
    await pushImage(reg, name, "v1", {
      layers: [{ bytes: layerFrom([{ path: file, content: `${name}\n` }]) }, { bytes: layerFrom([{ path: "srv/data.txt", content: "data\n" }]) }],
    });
  }
  const s = serve();
  openapi = (await (await fetch(`${s.url}/openapi.json`)).json()) as Record<string, any>;
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const p of proxies) p.stop();
});

function schemaOf(path: string, method: string, status = "200"): Record<string, unknown> {
  const content = openapi.paths[path][method].responses[status].content;
  return content[Object.keys(content)[0]!].schema;
}

async function start(s: Running, body: unknown): Promise<Response> {
  return fetch(`${s.url}/v1/scans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

async function started(s: Running, body: unknown): Promise<any> {
  const res = await start(s, body);
  const doc = (await res.json()) as any;
  expect(res.status, JSON.stringify(doc)).toBe(202);
  expect(validate(doc, schemaOf("/v1/scans", "post", "202"), openapi)).toEqual([]);
  expect(res.headers.get("location")).toBe(`/v1/scans/${doc.id}`);
  return doc;
}

async function job(s: Running, id: string): Promise<any> {
  const res = await fetch(`${s.url}/v1/scans/${id}`);
  const doc = (await res.json()) as any;
  expect(res.status).toBe(200);
  expect(validate(doc, schemaOf("/v1/scans/{id}", "get"), openapi)).toEqual([]);
  return doc;
}

async function until(s: Running, id: string, done: (doc: any) => boolean, ms = 30_000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const doc = await job(s, id);
    if (done(doc) || Date.now() > deadline) return doc;
    await Bun.sleep(50);
  }
}

/** Server-sent events of a stream, parsed, until `stop` says so or the stream ends. */
async function readEvents(res: Response, stop: (e: { event: string; data: any }) => boolean = () => false): Promise<{ event: string; data: any }[]> {
  const out: { event: string; data: any }[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const r = await reader.read();
    if (r.done) return out;
    buf += decoder.decode(r.value, { stream: true });
    let at: number;
    while ((at = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      if (block.startsWith(":")) continue;
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null");
      out.push({ event, data });
      if (stop(out.at(-1)!)) {
        await reader.cancel();
        return out;
      }
    }
  }
}

test("a job scans the references into the server's database, as `scan` does; /v1/search finds what it recorded", async () => {
  const db = join(dir, "shared.sqlite");
  const s = serve({ allowRegistry: [reg.host], db });
  const refs = [`${reg.host}/jobs/one:v1`, `${reg.host}/jobs/two`];
  const first = await started(s, { references: refs, full: true });
  expect(["queued", "running"]).toContain(first.state);
  const doc = await until(s, first.id, (d) => d.state !== "queued" && d.state !== "running");
  expect(doc.state).toBe("done");
  expect(doc.references).toBe(2);
  expect(doc.scanned).toBe(2);
  // The repository alone means its :latest, which does not exist: a failure, as the CLI reports it.
  expect(doc.failed).toBe(1);
  expect(doc.images.find((i: any) => i.reference.endsWith("jobs/two:latest")).error.code).toBe("NOT_FOUND");
  const cli = await runCli(["scan", ...refs, "--full", "--json", "--db", join(dir, "cli.sqlite"), "--no-cache"]);
  const cliImages = cli.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const plain = (o: any) => ({ ...o, schema: undefined });
  expect(doc.images.map(plain).sort((a: any, b: any) => a.reference.localeCompare(b.reference))).toEqual(
    cliImages.map(plain).sort((a: any, b: any) => a.reference.localeCompare(b.reference)),
  );
  expect(doc.images.find((i: any) => i.reference.endsWith("jobs/one:v1")).entries).toBeGreaterThan(0);
  const search = (await (await fetch(`${s.url}/v1/search?pattern=one-release`)).json()) as any;
  expect(search.hits.map((h: any) => h.path)).toEqual(["/etc/one-release"]);
  const list = (await (await fetch(`${s.url}/v1/scans`)).json()) as any;
  expect(validate(list, schemaOf("/v1/scans", "get"), openapi)).toEqual([]);
  expect(list.jobs.map((j: any) => j.id)).toEqual([first.id]);
});

test("a catalog job scans a registry's repositories (matching a glob)", async () => {
  const s = serve({ allowRegistry: [reg.host] });
  const first = await started(s, { catalog: { registry: reg.host, match: "jobs/t*", allTags: true }, budget: 65536 });
  const doc = await until(s, first.id, (d) => d.state === "done" || d.state === "failed");
  expect(doc.state).toBe("done");
  expect(doc.images.map((i: any) => i.reference).sort()).toEqual([`${reg.host}/jobs/three:v1`, `${reg.host}/jobs/two:v1`]);
});

describe("server-sent events", () => {
  test("progress, each image, then the whole job at the end; each event valid", async () => {
    const s = serve({ allowRegistry: [reg.host] });
    const first = await started(s, { references: [`${reg.host}/jobs/one:v1`, `${reg.host}/jobs/three:v1`] });
    const res = await fetch(`${s.url}/v1/scans/${first.id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const events = await readEvents(res);
    for (const e of events) expect(validate(e.data, schemaOf("/v1/scans/{id}/events", "get"), openapi)).toEqual([]);
    expect(events[0]!.event).toBe("progress");
    expect(
      events
        .filter((e) => e.event === "image")
        .map((e) => e.data.image.reference)
        .sort(),
    ).toEqual([`${reg.host}/jobs/one:v1`, `${reg.host}/jobs/three:v1`]);
    expect(events.at(-1)!.event).toBe("end");
    expect(events.at(-1)!.data.end.state).toBe("done");
    // A finished job's stream: what it did, then the end, at once.
    const again = await readEvents(await fetch(`${s.url}/v1/scans/${first.id}/events`));
    expect(again.map((e) => e.event)).toEqual(["progress", "image", "image", "end"]);
  });

  test("a client that closes its event stream leaves the job running", async () => {
    const proxy = slowProxy(150);
    const s = serve({ allowRegistry: [proxy.host] });
    const first = await started(s, { references: ["one", "two", "three"].map((n) => `${proxy.host}/jobs/${n}:v1`) });
    const abort = new AbortController();
    const res = await fetch(`${s.url}/v1/scans/${first.id}/events`, { signal: abort.signal });
    const seen = await readEvents(res, (e) => e.event === "progress");
    expect(seen.length).toBe(1);
    abort.abort();
    const doc = await until(s, first.id, (d) => d.state !== "queued" && d.state !== "running");
    expect(doc.state).toBe("done");
    expect(doc.scanned).toBe(3);
  });
});

test("DELETE cancels a running job: it ends cancelled and stops reading from the registry", async () => {
  const proxy = slowProxy(300);
  const s = serve({ allowRegistry: [proxy.host] });
  const first = await started(s, { references: ["one", "two", "three"].map((n) => `${proxy.host}/jobs/${n}:v1`), full: true });
  await until(s, first.id, (d) => d.state === "running");
  await Bun.sleep(400);
  const res = await fetch(`${s.url}/v1/scans/${first.id}`, { method: "DELETE" });
  const doc = (await res.json()) as any;
  expect(res.status).toBe(200);
  expect(validate(doc, schemaOf("/v1/scans/{id}", "delete"), openapi)).toEqual([]);
  expect(doc.state).toBe("cancelled");
  expect(doc.scanned).toBeLessThan(3);
  const after = proxy.requests.length;
  await Bun.sleep(1000);
  expect(proxy.requests.length).toBe(after);
  // A finished job is forgotten by a second DELETE.
  expect((await fetch(`${s.url}/v1/scans/${first.id}`, { method: "DELETE" })).status).toBe(200);
  expect((await fetch(`${s.url}/v1/scans/${first.id}`)).status).toBe(404);
});

describe("bounds", () => {
  test("jobs beyond the running limit wait their turn; beyond the held limit they are refused", async () => {
    const proxy = slowProxy(200);
    const s = serve({ allowRegistry: [proxy.host], caps: { scanJobs: 1, scanJobsKept: 2 } });
    const body = { references: [`${proxy.host}/jobs/one:v1`] };
    const a = await started(s, body);
    const b = await started(s, body);
    expect(b.state).toBe("queued");
    const c = await start(s, body);
    expect(c.status).toBe(503);
    expect(((await c.json()) as any).error.code).toBe("BUSY");
    expect((await until(s, b.id, (d) => d.state === "done")).state).toBe("done");
    expect((await job(s, a.id)).state).toBe("done");
    // Once one is finished, a new job takes its place.
    await started(s, body);
  });

  test("one client holds at most its download limit of unfinished jobs (429); a finished one frees its place", async () => {
    const proxy = slowProxy(200);
    const s = serve({ allowRegistry: [proxy.host], caps: { downloadsPerClient: 1 } });
    const body = { references: [`${proxy.host}/jobs/one:v1`] };
    const a = await started(s, body);
    const refused = await start(s, body);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.code).toBe("TOO_MANY_REQUESTS");
    expect((await until(s, a.id, (d) => d.state === "done")).state).toBe("done");
    await started(s, body);
  });

  test("a job past its time limit fails with TIMEOUT", async () => {
    const proxy = slowProxy(400);
    const s = serve({ allowRegistry: [proxy.host], caps: { scanJobTimeoutMs: 300 } });
    const first = await started(s, { references: [`${proxy.host}/jobs/one:v1`], full: true });
    const doc = await until(s, first.id, (d) => d.state !== "queued" && d.state !== "running");
    expect(doc.state).toBe("failed");
    expect(doc.error.code).toBe("TIMEOUT");
  });
});

describe("the request body is checked before anything starts", () => {
  const bad: [string, unknown, number, RegExp][] = [
    ["an unknown field", { references: ["x/y:1"], bogus: 1 }, 400, /unknown field bogus/],
    ["nothing to scan", {}, 400, /nothing to scan/],
    ["references not an array", { references: "x/y" }, 400, /array/],
    ["budget and full", { references: ["REG/jobs/one:v1"], budget: 1000, full: true }, 400, /cannot be used together/],
    ["a budget beyond the server's", { references: ["REG/jobs/one:v1"], budget: 1 << 30 }, 400, /more than this server allows/],
    ["verify without full", { references: ["REG/jobs/one:v1"], verify: true }, 400, /goes with full/],
    ["a local image", { references: ["oci:/etc"] }, 400, /only registry references/],
    ["a registry not allowed", { references: ["quay.io/x/y:1"] }, 403, /--allow-registry/],
    ["a catalog of a registry not allowed", { catalog: { registry: "quay.io" } }, 403, /--allow-registry/],
    ["a body that is not an object", ["REG/jobs/one:v1"], 400, /JSON object/],
  ];
  for (const [what, body, status, message] of bad) {
    test(what, async () => {
      const s = serve({ allowRegistry: [reg.host] });
      const res = await start(s, JSON.parse(JSON.stringify(body).replaceAll("REG", reg.host)));
      const doc = (await res.json()) as any;
      expect(res.status).toBe(status);
      expect(doc.error.message).toMatch(message);
      expect((await (await fetch(`${s.url}/v1/scans`)).json()) as any).toMatchObject({ jobs: [] });
    });
  }

  test("not JSON, the wrong type, too large", async () => {
    const s = serve({ allowRegistry: [reg.host] });
    const notJson = await fetch(`${s.url}/v1/scans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" });
    expect(notJson.status).toBe(400);
    const text = await fetch(`${s.url}/v1/scans`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "{}" });
    expect(text.status).toBe(415);
    const huge = await fetch(`${s.url}/v1/scans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ references: ["a".repeat(100_000)] }) });
    expect(huge.status).toBe(413);
    // Sent chunked (no Content-Length): counted as it comes.
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 100; i++) c.enqueue(new TextEncoder().encode(" ".repeat(1024)));
        c.close();
      },
    });
    const chunked = await fetch(`${s.url}/v1/scans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: chunks });
    expect(chunked.status).toBe(413);
    expect((await fetch(`${s.url}/v1/scans/nope`)).status).toBe(404);
    expect((await fetch(`${s.url}/v1/scans`, { method: "PUT", body: "x" })).status).toBe(405);
  });
});
