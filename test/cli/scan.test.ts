import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db/open.ts";
import type { ImageOutcome } from "../../src/scan/image.ts";
import { MAIN, runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { READER, withRegistry, useRegistry } from "../support/registry.ts";
import { BASE, pushScanImages, type ScanFixture } from "./scan-fixtures.ts";
import { pushImage } from "../support/fixtures.ts";

const reg = useRegistry();
let pg: TestPostgres;
let fx: ScanFixture;
let proxy: FaultProxy;
const dir = mkdtempSync(join(tmpdir(), "ls-scan-"));

type Record = ImageOutcome & { digest: string | null };

function records(stdout: string): Record[] {
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record)
    .sort((a, b) => (a.reference + a.platform < b.reference + b.platform ? -1 : 1));
}

/** Layer blob GETs that went through the proxy (configs and manifests not counted). */
function layerGets(): number {
  const layers = new Set([fx.app1, fx.app2, fx.app3, fx.big].flatMap((i) => i.layers.map((l) => l.digest)));
  return proxy.requests.filter((r) => r.method === "GET" && layers.has(r.path.split("/").pop()!)).length;
}

beforeAll(async () => {
  pg = await startPostgres();
  fx = await pushScanImages(reg);
  proxy = startFaultProxy(reg.url);
});

afterAll(async () => {
  proxy?.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const via = (ref: string) => ref.replace(reg.host, proxy.host);

test("a list scan records every image; a failing one is recorded, the scan goes on, the exit code and summary say so", async () => {
  const db = join(dir, "list.sqlite");
  const list = join(dir, "list.txt");
  writeFileSync(list, `# images\n${via(fx.refs.app2)}\n\n${via(fx.refs.missing)}\n`);
  const r = await runCli(["scan", via(fx.refs.app1), "--from", list, "--full", "--json", "--db", db]);
  expect(r.code).toBe(4);
  const recs = records(r.stdout);
  expect(recs.map((x) => [x.reference.replace(proxy.host, ""), x.platform, x.layers, x.partialLayers, x.error?.code ?? null])).toEqual([
    ["/team/app1:v1", "linux/amd64", 2, 0, null],
    ["/team/app2:v1", "linux/amd64", 2, 0, null],
    ["/team/nothere:v1", "", 0, 0, "NOT_FOUND"],
  ]);
  // The shared base layer is read once, not once per image.
  expect(recs[0]!.layersRead + recs[1]!.layersRead).toBe(3);
  expect(recs[0]!.digest).toBe(fx.app1.digest);
  expect(r.stderr).toContain("3 images from 3 references: 2 recorded, 1 failed");
  // The failure is in the database too, beside the recorded images.
  const opened = await openDatabase(db);
  const images = (await opened.images()).sort((a, b) => (a.reference < b.reference ? -1 : 1));
  await opened.close();
  expect(images.map((i) => [i.reference.replace(proxy.host, ""), i.layers, i.errorCode])).toEqual([
    ["/team/app1:v1", 2, null],
    ["/team/app2:v1", 2, null],
    ["/team/nothere:v1", 0, "NOT_FOUND"],
  ]);

  // A re-scan downloads no layer byte.
  const before = layerGets();
  const again = await runCli(["scan", via(fx.refs.app1), via(fx.refs.app2), "--json", "--db", db]);
  expect(again.code).toBe(0);
  for (const rec of records(again.stdout)) {
    expect(rec.bytesDownloaded).toBe(0);
    expect(rec.layersSkipped).toBe(rec.layers);
  }
  expect(layerGets()).toBe(before);
});

test("completeness: a budgeted record is upgraded by --full, and a complete one serves any budget", async () => {
  const db = join(dir, "budget.sqlite");
  const first = records((await runCli(["scan", via(fx.refs.big), "--budget", "4K", "--json", "--db", db])).stdout)[0]!;
  expect(first.partialLayers).toBe(1);
  expect(first.bytesDownloaded).toBe(4096);
  // Same budget again: nothing read. A bigger one: read again.
  expect(records((await runCli(["scan", via(fx.refs.big), "--budget", "4K", "--json", "--db", db])).stdout)[0]!.layersSkipped).toBe(1);
  const bigger = records((await runCli(["scan", via(fx.refs.big), "--budget", "8K", "--json", "--db", db])).stdout)[0]!;
  expect([bigger.layersRead, bigger.bytesDownloaded]).toEqual([1, 8192]);
  const full = records((await runCli(["scan", via(fx.refs.big), "--full", "--json", "--db", db])).stdout)[0]!;
  expect([full.layersRead, full.partialLayers, full.entries]).toEqual([1, 0, 5]);
  const after = records((await runCli(["scan", via(fx.refs.big), "--budget", "1K", "--json", "--db", db])).stdout)[0]!;
  expect([after.layersSkipped, after.partialLayers, after.bytesDownloaded, after.entries]).toEqual([1, 0, 0, 5]);
});

test("a catalog scan with --match, --all-tags and --all-platforms", async () => {
  const db = join(dir, "catalog.sqlite");
  const r = await runCli(["scan", "--catalog", reg.host, "--match", "team/app*", "--all-tags", "--json", "--db", db]);
  expect(r.code).toBe(0);
  expect(records(r.stdout).map((x) => x.reference.slice(reg.host.length))).toEqual(["/team/app1:latest", "/team/app1:v1", "/team/app2:v1"]);
  const multi = await runCli(["scan", fx.refs.multi, "--all-platforms", "--json", "--db", db]);
  expect(records(multi.stdout).map((x) => [x.platform, x.layers])).toEqual([
    ["linux/amd64", 2],
    ["linux/arm64", 1],
  ]);
  const latest = await runCli(["scan", "--catalog", reg.host, "--match", "other/*", "--json", "--db", db]);
  expect(records(latest.stdout).map((x) => x.reference.slice(reg.host.length))).toEqual(["/other/app3:latest"]);
});

test("two shards written at once into PostgreSQL equal the unsharded scan in SQLite", async () => {
  const refs = Object.values(fx.refs).filter((r) => r !== fx.refs.missing);
  const list = join(dir, "all.txt");
  writeFileSync(list, refs.join("\n"));
  const sqlite = join(dir, "whole.sqlite");
  expect((await runCli(["scan", "--from", list, "--budget", "8K", "-q", "--db", sqlite])).code).toBe(0);
  const url = await pg.newDatabase("shards");
  const shard = (i: number) => runCli(["scan", "--from", list, "--budget", "8K", "--shard", "2", "--json", "--db", url], { env: { JOB_COMPLETION_INDEX: String(i) } });
  const [a, b] = await Promise.all([shard(0), shard(1)]);
  expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""].map((x, i) => (i < 2 ? x : expect.stringContaining("shard"))) as never);
  const ra = records(a.stdout).map((x) => x.reference);
  const rb = records(b.stdout).map((x) => x.reference);
  expect(ra.filter((x) => rb.includes(x))).toEqual([]);
  expect(new Set([...ra, ...rb])).toEqual(new Set(refs));
  for (const args of [["/"], ["id_rsa"], ["\\.bin$", "--regex"]]) {
    const fromPg = await runCli(["search", ...args, "--json", "--db", url]);
    const fromSqlite = await runCli(["search", ...args, "--json", "--db", sqlite]);
    expect(JSON.parse(fromPg.stdout).hits.length).toBeGreaterThan(0);
    expect(fromPg.stdout).toBe(fromSqlite.stdout);
  }
});

test("--shard I/N counts from 1 and the environment's index from 0: 1/2 is the shard JOB_COMPLETION_INDEX=0 picks", async () => {
  const refs = [fx.refs.app1, fx.refs.app2, fx.refs.app3];
  const scan = (shard: string, env: { [name: string]: string } = {}) =>
    runCli(["scan", ...refs, "--budget", "8K", "--shard", shard, "--json", "--db", join(dir, `shard-${shard.replace("/", "-")}-${Object.keys(env).length}.sqlite`)], { env });
  const [first, second, env0, env1] = await Promise.all([scan("1/2"), scan("2/2"), scan("2", { JOB_COMPLETION_INDEX: "0" }), scan("2", { JOB_COMPLETION_INDEX: "1" })]);
  for (const r of [first, second, env0, env1]) expect(r.code).toBe(0);
  const names = (r: { stdout: string }) => records(r.stdout).map((x) => x.reference);
  expect(names(first)).toEqual(names(env0));
  expect(names(second)).toEqual(names(env1));
  expect(new Set([...names(first), ...names(second)])).toEqual(new Set(refs));
  expect(names(first).filter((x) => names(second).includes(x))).toEqual([]);
  expect(first.stderr).toContain("(shard 1/2 of 3)");
  expect(env1.stderr).toContain("(shard 2/2 of 3)");
  const zero = await runCli(["scan", ...refs, "--shard", "0/2", "--db", join(dir, "zero.sqlite")]);
  expect(zero.code).toBe(2);
  expect(zero.stderr).toBe("layerslayer: --shard 0/2: the shard must be 1 to 2 (shards count from 1)\n");
});

test("--shard-from-env, and usage errors", async () => {
  const url = await pg.newDatabase("env");
  const r = await runCli(["scan", fx.refs.app1, fx.refs.app2, fx.refs.app3, "--shard", "3", "--shard-from-env", "MY_INDEX", "--json", "--db", url], { env: { MY_INDEX: "1" } });
  expect(r.code).toBe(0);
  const none = await runCli(["scan", fx.refs.app1, "--shard", "3", "--db", url]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain("JOB_COMPLETION_INDEX");
  const out = await runCli(["scan", fx.refs.app1, "--shard", "4/3", "--db", url]);
  expect(out.code).toBe(2);
  expect((await runCli(["scan", "--db", url])).code).toBe(2);
  expect((await runCli(["scan", fx.refs.app1, "--concurrency", "0", "--db", url])).code).toBe(2);
  const down = await runCli(["scan", fx.refs.app1, "--db", "postgres://postgres@127.0.0.1:1/x", "-q"]);
  expect(down.code).toBe(6);
  expect(down.stderr.trim().split("\n")).toHaveLength(1);
});

test("the main usage lists scan and search", async () => {
  const proc = Bun.spawnSync([process.execPath, MAIN, "--help"]);
  expect(proc.stdout.toString()).toContain("scan");
  expect(proc.stdout.toString()).toContain("search");
});

test("a local OCI layout (made by skopeo) is scanned and searched like a registry image", async () => {
  const layout = join(dir, "layout");
  const p = Bun.spawnSync(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${fx.refs.app1}`, `oci:${layout}:v1`]);
  expect(p.exitCode).toBe(0);
  const db = join(dir, "local.sqlite");
  const r = await runCli(["scan", `oci:${layout}:v1`, "--full", "--json", "--db", db]);
  expect(r.code).toBe(0);
  expect(records(r.stdout).map((x) => [x.layers, x.error ?? null])).toEqual([[2, null]]);
  const s = await runCli(["search", "id_rsa", "--json", "--db", db]);
  expect(JSON.parse(s.stdout).hits.map((h: { reference: string; layer: number; action: string }) => `${h.reference} L${h.layer} ${h.action}`)).toEqual([
    `oci:${layout}:v1 L0 added`,
    `oci:${layout}:v1 L1 deleted`,
  ]);
});

test("each registry of a scan gets its own saved credentials; --password-stdin is read once", async () => {
  await withRegistry(
    async (locked) => {
      await pushImage(locked, "team/private", "v1", { layers: [{ bytes: BASE }] });
      const conf = mkdtempSync(join(dir, "docker-"));
      writeFileSync(join(conf, "config.json"), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${READER.username}:${READER.password}`).toString("base64") } } }));
      const db = join(dir, "auth.sqlite");
      // The first reference's registry has no saved login: the second one's is still used for it.
      const r = await runCli(["scan", fx.refs.app3, `${locked.host}/team/private:v1`, "--json", "--db", db], { env: { DOCKER_CONFIG: conf } });
      expect(r.code).toBe(0);
      expect(records(r.stdout).map((x) => x.error ?? null)).toEqual([null, null]);
      const stdin = await runCli(["scan", `${locked.host}/team/private:v1`, `${locked.host}/team/nothere:v1`, "-u", READER.username, "--password-stdin", "--json", "--db", db], {
        stdin: `${READER.password}\n`,
      });
      expect(records(stdin.stdout).map((x) => x.error?.code ?? null)).toEqual(["NOT_FOUND", null]);
    },
    { auth: "htpasswd" },
  );
});

test("a corrupt layer: what was read is recorded, the image is marked failed, the scan goes on, exit 7", async () => {
  const db = join(dir, "corrupt.sqlite");
  const bad = fx.app1.layers[1]!.digest;
  proxy.rule = (req) => (new URL(req.url).pathname.endsWith(bad) ? { kind: "flip", offsets: [40, 41, 42] } : undefined);
  try {
    const r = await runCli(["scan", via(fx.refs.app1), via(fx.refs.app3), "--full", "--json", "--db", db]);
    expect(r.code).toBe(7);
    const [app3, app1] = records(r.stdout);
    expect(app1!.error?.code).toBe("CORRUPT");
    expect(app1!.error?.message).toContain("layer 1");
    expect(app3!.error).toBeUndefined();
    expect(r.stderr).toContain("2 images from 2 references: 1 recorded, 1 failed");
  } finally {
    proxy.rule = () => undefined;
  }
  // The base layer was recorded whole; the damaged one is read again on the next scan, and now it is fine.
  const again = records((await runCli(["scan", via(fx.refs.app1), "--full", "--json", "--db", db])).stdout)[0]!;
  expect([again.layersSkipped, again.layersRead, again.error ?? null]).toEqual([1, 1, null]);
});

test("on a terminal a progress line counts references on stderr; -q and --json draw none", async () => {
  const db = join(dir, "tty.sqlite");
  const run = async (extra: string) => {
    const cmd = `'${process.execPath}' '${MAIN}' scan ${fx.refs.app1} ${fx.refs.app2} --db '${db}' ${extra} > '${join(dir, "tty-out.txt")}'`;
    const p = Bun.spawn(["script", "-qec", cmd, "/dev/null"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, XDG_CACHE_HOME: dir, TERM: "dumb" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, tty] = await Promise.all([p.exited, new Response(p.stdout).text()]);
    return { code, tty };
  };
  const r = await run("");
  expect(r.code).toBe(0);
  expect(r.tty).toContain("\r\x1b[Kscan: 0/2 references, 0 failed");
  expect(r.tty).toContain("\r\x1b[Kscan: 2/2 references, 0 failed");
  expect(r.tty).toContain("\r\x1b[K2 images from 2 references: 2 recorded, 0 failed");
  for (const extra of ["-q", "--json"]) {
    const quiet = await run(extra);
    expect(quiet.code).toBe(0);
    expect(quiet.tty).not.toContain("scan: ");
  }
});
