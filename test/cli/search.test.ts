import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { useRegistry } from "../support/registry.ts";
import { compress, pushImage } from "../support/fixtures.ts";
import { concat, END, member, paxMember } from "../tar/helpers.ts";
import { pushScanImages, type ScanFixture } from "./scan-fixtures.ts";

const reg = useRegistry();
let pg: TestPostgres;
let fx: ScanFixture;
const dir = mkdtempSync(join(tmpdir(), "ls-search-"));
const dbs: Record<string, string> = {};

interface Hit {
  reference: string;
  platform: string;
  layer: number;
  action: string;
  fate?: string;
  fateLayer?: number;
  type: string;
  size: number;
  path: string;
  partial: boolean;
}

async function search(db: string, ...args: string[]): Promise<Hit[]> {
  const r = await runCli(["search", ...args, "--json", "--db", db]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { hits: Hit[] }).hits;
}

/** Hits as "repo L<n> action[→fate@L]" for compact assertions. */
function brief(hits: Hit[]): string[] {
  return hits.map((h) => {
    const repo = h.reference.slice(reg.host.length + 1);
    const fate = h.fate && h.fate !== "present" ? `→${h.fate}@L${h.fateLayer}` : "";
    return `${repo} L${h.layer} ${h.action}${fate} ${h.path}${h.partial ? " partial" : ""}`;
  });
}

beforeAll(async () => {
  pg = await startPostgres();
  fx = await pushScanImages(reg);
  dbs.sqlite = join(dir, "db.sqlite");
  dbs.postgres = await pg.newDatabase("search");
  // A layer that starts with a PAX global header (an entry of its own, of type pax-global).
  const pax = concat(paxMember([["comment", "made by a test"]], "g"), member({ name: "paxtest/file", typeflag: "0" }, new TextEncoder().encode("x")), END);
  await pushImage(reg, "pax/app", "v1", { layers: [{ bytes: compress(pax, "gzip") }] });
  const { app1, app2, app3, big } = fx.refs;
  for (const db of Object.values(dbs)) {
    const g = await runCli(["scan", `${reg.host}/pax/app:v1`, "--full", "--db", db, "-q"]);
    expect(g.code).toBe(0);
    const r = await runCli(["scan", app1, app2, app3, "--full", "--db", db, "-q"]);
    expect(r.code).toBe(0);
    // A budget smaller than the layer: a partial listing.
    const p = await runCli(["scan", big, "--budget", "8K", "--db", db, "-q"]);
    expect(p.code).toBe(0);
  }
});

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(["sqlite", "postgres"])("search in %s", (kind) => {
  const db = () => dbs[kind]!;

  test("a deleted file: added in the shared base, deleted by one image's upper layer", async () => {
    expect(brief(await search(db(), "id_rsa"))).toEqual([
      "other/app3:latest L0 added /root/.ssh/id_rsa",
      "team/app1:v1 L0 added→deleted@L1 /root/.ssh/id_rsa",
      "team/app1:v1 L1 deleted /root/.ssh/id_rsa",
      "team/app2:v1 L0 added /root/.ssh/id_rsa",
    ]);
  });

  test("a modified file and a file hidden by an opaque directory", async () => {
    expect(brief(await search(db(), "etc/shad"))).toEqual([
      "other/app3:latest L0 added /etc/shadow",
      "team/app1:v1 L0 added /etc/shadow",
      "team/app2:v1 L0 added→replaced@L1 /etc/shadow",
      "team/app2:v1 L1 modified /etc/shadow",
    ]);
    expect(brief(await search(db(), ".conf", "--image", "app2:*"))).toEqual([
      "team/app2:v1 L1 added /opt/app/b.conf",
      "team/app2:v1 L0 added→hidden@L1 /opt/app/config/a.conf",
      "team/app2:v1 L1 hidden /opt/app/config/a.conf",
    ]);
  });

  test("an added file only one image has; a substring across the directory boundary", async () => {
    expect(brief(await search(db(), ".env"))).toEqual(["team/app1:v1 L1 added /srv/app/.env"]);
    expect(brief(await search(db(), "app/.e"))).toEqual(["team/app1:v1 L1 added /srv/app/.env"]);
    expect(brief(await search(db(), "/sr"))).toEqual(["team/app1:v1 L1 added /srv", "team/app1:v1 L1 added /srv/app", "team/app1:v1 L1 added /srv/app/.env"]);
  });

  test("hits from a partial listing are marked; paths past the budget are not there", async () => {
    const hits = await search(db(), "first.bin");
    expect(brief(hits)).toEqual(["team/big:latest L0 added /data/first.bin partial"]);
    expect(await search(db(), "zz-last")).toEqual([]);
  });

  test("--regex, --type, --min-size, --max-size", async () => {
    expect(brief(await search(db(), "^/usr/bin/tool", "--regex", "--type", "l"))).toEqual([
      "other/app3:latest L0 added /usr/bin/tool-link",
      "team/app1:v1 L0 added /usr/bin/tool-link",
      "team/app2:v1 L0 added /usr/bin/tool-link",
    ]);
    expect(brief(await search(db(), "/etc/", "--min-size", "32"))).toEqual(["team/app2:v1 L1 modified /etc/shadow"]);
    const small = brief(await search(db(), "/etc/", "--max-size", "31"));
    expect(small.length).toBeGreaterThan(0);
    expect(small).not.toContain("team/app2:v1 L1 modified /etc/shadow");
    expect(brief(await search(db(), "/etc/", "--min-size", "32", "--max-size", "32K"))).toEqual(["team/app2:v1 L1 modified /etc/shadow"]);
  });

  test("a PAX global header reads back as pax-global: found by name, never by --type f", async () => {
    const hits = await search(db(), "PaxHeader");
    expect(hits.map((h) => [h.path, h.type])).toEqual([["/PaxHeader", "pax-global"]]);
    expect(await search(db(), "PaxHeader", "--type", "f")).toEqual([]);
    expect((await search(db(), "paxtest", "--type", "f")).map((h) => h.path)).toEqual(["/paxtest/file"]);
  });

  test("the text output names image, digest, platform, layer, change, mode, size and path", async () => {
    const r = await runCli(["search", "first.bin", "--db", db()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${fx.refs.big}@${fx.big.digest} linux/amd64 L0 added -rw-r--r-- 64K /data/first.bin  (partial listing)`);
    const none = await runCli(["search", "no-such-thing", "--db", db()]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("no recorded path matches no-such-thing");
  });
});

test("both databases give the same answers", async () => {
  for (const args of [["id_rsa"], ["conf"], ["/"], ["\\.(pem|bin)$", "--regex"]]) {
    expect(await search(dbs.postgres!, ...args)).toEqual(await search(dbs.sqlite!, ...args));
  }
});

test("bad options are usage errors", async () => {
  const r = await runCli(["search", "x", "--type", "q", "--db", dbs.sqlite!]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("--type q");
  const bad = await runCli(["search", "(", "--regex", "--db", dbs.sqlite!]);
  expect(bad.code).toBe(2);
  const url = await runCli(["search", "x", "--db", "mysql://host/db"]);
  expect(url.code).toBe(2);
});
