/**
 * The server's own credentials (its docker config) go to allowed registries only: never to a
 * registry outside the allow-list, whether a caller names it or an allowed registry redirects
 * there. The other side is a recording server on another loopback address and port (and the
 * real registry's redirect target, which records every request's Authorization header).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { READER, useRegistry } from "../support/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "ls-serve-creds-"));
process.env.LAYERSLAYER_CACHE_DIR = join(dir, "cache");
const { serveConfig } = await import("../../src/serve/config.ts");
const { startServer } = await import("../../src/serve/server.ts");
type Running = ReturnType<typeof startServer>;

/** Every request the recording server saw: its path and Authorization header. */
const recorded: { path: string; authorization: string | null }[] = [];
let recorder: ReturnType<typeof Bun.serve>;
const locked = useRegistry({ auth: "htpasswd", redirect: true });
const servers: Running[] = [];
const saved = { REGISTRY_AUTH_FILE: process.env.REGISTRY_AUTH_FILE, DOCKER_CONFIG: process.env.DOCKER_CONFIG };
const basic = (u: string, p: string) => btoa(`${u}:${p}`);
/** A login the server holds for the recorder: it must never be sent. */
const RECORDER_SECRET = { username: "recorder-user", password: "recorder-secret-never-sent" };

function serve(flags: Parameters<typeof serveConfig>[0]): Running {
  const s = startServer(serveConfig({ listen: "127.0.0.1:0", cache: false, accessLog: false, ...flags }));
  servers.push(s);
  return s;
}

const recorderHost = () => `127.0.0.2:${recorder.port}`;
const cdnHost = () => new URL(locked.redirect!.url).host;

beforeAll(async () => {
  // A registry-like server that asks for a login on every request, as a registry wanting credentials would.
  recorder = Bun.serve({
    hostname: "127.0.0.2",
    port: 0,
    fetch(req) {
      recorded.push({ path: new URL(req.url).pathname, authorization: req.headers.get("authorization") });
      return new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', { status: 401, headers: { "WWW-Authenticate": 'Basic realm="recorder"', "Content-Type": "application/json" } });
    },
  });
  await pushImage(locked, "creds/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/os-release", content: "ID=creds\n" }]) }] });
  // The server's docker config: its login for the locked registry, and logins for the recorder
  // and the redirect target (neither allow-listed, so neither may be used).
  const config = join(dir, "docker");
  mkdirSync(config);
  writeFileSync(
    join(config, "config.json"),
    JSON.stringify({
      auths: {
        [locked.host]: { auth: basic(READER.username, READER.password) },
        [recorderHost()]: { auth: basic(RECORDER_SECRET.username, RECORDER_SECRET.password) },
        [cdnHost()]: { auth: basic(RECORDER_SECRET.username, RECORDER_SECRET.password) },
      },
    }),
  );
  process.env.DOCKER_CONFIG = config;
  delete process.env.REGISTRY_AUTH_FILE;
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  recorder?.stop(true);
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A scan job once it ended. */
async function finished(s: Running, id: string): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const doc = (await (await fetch(`${s.url}/v1/scans/${id}`)).json()) as any;
    if (doc.state !== "queued" && doc.state !== "running") return doc;
    await Bun.sleep(50);
  }
  throw new Error("the scan job did not end");
}

/** No request anywhere carried a login other than the locked registry's own. */
function noLeak(): void {
  const leaked = [...recorded, ...locked.redirect!.requests].filter((r) => r.authorization !== null);
  expect(leaked).toEqual([]);
}

test("the allowed registry gets the server's login (so the others are refused for a reason that matters)", async () => {
  const s = serve({ allowRegistry: [locked.host, cdnHost()] });
  const res = await fetch(`${s.url}/v1/cat?${new URLSearchParams({ ref: `${locked.host}/creds/app:v1`, path: "/etc/os-release" })}`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("ID=creds\n");
});

describe("a registry outside the allow-list never gets a login", () => {
  for (const [what, flags] of [
    ["an allow-list without it", { allowRegistry: () => [locked.host] }],
    ["no allow-list on loopback (it is a loopback address)", { allowRegistry: () => [] }],
  ] as const) {
    test(`named by a caller, with ${what}: refused before any request`, async () => {
      const s = serve({ allowRegistry: flags.allowRegistry() });
      const before = recorded.length;
      for (const path of [`/v1/inspect?ref=${recorderHost()}/x/y:1`, `/v1/tags?repository=${recorderHost()}/x/y`, `/v1/catalog?registry=${recorderHost()}`]) {
        const res = await fetch(`${s.url}${path}`);
        expect(res.status).toBe(403);
      }
      const scan = await fetch(`${s.url}/v1/scans`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ references: [`${recorderHost()}/x/y:1`] }),
      });
      if (flags.allowRegistry().length) expect(scan.status).toBe(403);
      else {
        // Any public registry may be named on loopback: the job starts, and the address policy refuses the loopback address.
        expect(scan.status).toBe(202);
        const doc = await finished(s, ((await scan.json()) as any).id);
        expect(JSON.stringify(doc.images.map((i: any) => i.error ?? null).concat(doc.error ?? null))).toContain("refusing to reach 127.0.0.2");
      }
      expect(recorded.length).toBe(before);
      noLeak();
    });
  }
});

describe("after a redirect from an allowed registry", () => {
  test("to a host outside the allow-list: refused, nothing sent there", async () => {
    const s = serve({ allowRegistry: [locked.host] });
    const before = locked.redirect!.requests.length;
    const res = await fetch(`${s.url}/v1/cat?${new URLSearchParams({ ref: `${locked.host}/creds/app:v1`, path: "/etc/os-release" })}`);
    expect(res.status).toBe(403);
    expect(locked.redirect!.requests.length).toBe(before);
    noLeak();
  });

  test("to an allowed host that holds a login of its own: reached, but the registry's login is not carried over", async () => {
    const s = serve({ allowRegistry: [locked.host, cdnHost()] });
    const before = locked.redirect!.requests.length;
    const cat = await fetch(`${s.url}/v1/cat?${new URLSearchParams({ ref: `${locked.host}/creds/app:v1`, path: "/etc/os-release", verify: "true" })}`);
    expect(await cat.text()).toBe("ID=creds\n");
    // A scan job follows the same redirect through its own client.
    const job = (await (
      await fetch(`${s.url}/v1/scans`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ references: [`${locked.host}/creds/app:v1`], full: true }),
      })
    ).json()) as any;
    const doc = await finished(s, job.id);
    expect(doc.state).toBe("done");
    expect(doc.failed).toBe(0);
    expect(locked.redirect!.requests.length).toBeGreaterThan(before);
    noLeak();
  });
});
