/**
 * diff and efficiency end to end: images built by umoci from root file systems that differ in known
 * ways, pushed to the real registry by skopeo, compared with `diff -r` and lstat of the root file
 * systems umoci unpacks from the same images.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, linkSync, lstatSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { useRegistry } from "../support/registry.ts";
import { umociLab } from "../support/umoci.ts";

/** What `diff -r` says differs (paths, absolute), and the paths lstat finds with another mode or owner. */
function reference(tagA: string, tagB: string): { only: string[]; changed: string[] } {
  const a = unpacked(tagA);
  const b = unpacked(tagB);
  const r = Bun.spawnSync(["diff", "-rq", "--no-dereference", a, b]);
  const rel = (p: string) => p.replace(a, "").replace(b, "") || "/";
  const only: string[] = [];
  const changed = new Set<string>();
  for (const line of r.stdout.toString().split("\n").filter(Boolean)) {
    let m = /^Only in (.+): (.+)$/.exec(line);
    if (m) only.push(`${rel(m[1]!)}/${m[2]}`.replace("//", "/"));
    else if ((m = /^(?:Files|Symbolic links) (.+) and (.+) differ$/.exec(line))) changed.add(rel(m[1]!));
    else if ((m = /^File (.+) is a .+ while file (.+) is a .+$/.exec(line))) changed.add(rel(m[1]!));
    else throw new Error(`diff said: ${line}`);
  }
  const walk = (rel: string) => {
    for (const name of readdirSync(join(a, rel))) {
      const p = `${rel}/${name}`;
      let sa, sb;
      try {
        sa = lstatSync(join(a, p));
        sb = lstatSync(join(b, p));
      } catch {
        continue;
      }
      if ((sa.mode & 0o7777) !== (sb.mode & 0o7777) || sa.uid !== sb.uid || sa.gid !== sb.gid) changed.add(p);
      if (sa.isDirectory() && sb.isDirectory()) walk(p);
    }
  };
  walk("");
  return { only: only.sort(), changed: [...changed].sort() };
}

function ours(stdout: string): { only: string[]; changed: string[] } {
  const doc = JSON.parse(stdout) as { paths: { path: string; kind: string }[] };
  return {
    only: doc.paths
      .filter((p) => p.kind !== "modified")
      .map((p) => p.path)
      .sort(),
    changed: doc.paths
      .filter((p) => p.kind === "modified")
      .map((p) => p.path)
      .sort(),
  };
}

const { work, layout, build, put, unpacked, sh } = umociLab("ls-diff-");
const reg = useRegistry();
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = startFaultProxy(reg.url);
  proxy.rule = () => undefined;
  build("v1", undefined, (r) => {
    put(r, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    put(r, "etc/motd", "hello\n");
    put(r, "etc/same-size", "aaaa\n");
    put(r, "usr/bin/tool", 3000, 0o755);
    linkSync(join(r, "usr/bin/tool"), join(r, "usr/bin/tool-alias"));
    put(r, "usr/share/doc/pkg/README", "readme\n");
    put(r, "usr/share/doc/pkg/COPYING", "gpl\n");
    symlinkSync("tool", join(r, "usr/bin/t"));
    put(r, "var/lib/data", 100);
  });
  // v2: v1's layer shared, and a layer above it with every kind of change.
  build(
    "v2",
    "v1",
    (r) => {
      put(r, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n");
      rmSync(join(r, "etc/motd"));
      put(r, "etc/same-size", "bbbb\n");
      chmodSync(join(r, "usr/bin/tool"), 0o700);
      rmSync(join(r, "usr/share/doc"), { recursive: true });
      rmSync(join(r, "usr/bin/t"));
      symlinkSync("tool-alias", join(r, "usr/bin/t"));
      put(r, "opt/app/bin/app", 500, 0o755);
      put(r, "opt/app/etc/app.conf", "x=1\n");
      chownSync(join(r, "var/lib/data"), 1000, 1000);
    },
    ["--config.env", "APP=1", "--config.user", "app"],
  );
  // v3: built apart (no shared layer), its own version of some of v1's files.
  build("v3", undefined, (r) => {
    put(r, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    put(r, "etc/hostname", "box\n");
    put(r, "usr/bin/tool", 3001, 0o755);
    put(r, "var/lib/data", 100, 0o600);
  });
  // eff: a layer that writes 100,000 bytes, a layer above that deletes them and replaces a file.
  build("eff0", undefined, (r) => {
    put(r, "data/big", 100_000);
    put(r, "etc/conf", 10);
    put(r, "etc/keep", 7);
  });
  build("eff", "eff0", (r) => {
    rmSync(join(r, "data/big"));
    put(r, "etc/conf", 20);
    put(r, "srv/payload", 200_000);
  });
  for (const tag of ["v1", "v2", "v3", "eff"]) {
    sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:${tag}`, `docker://${reg.host}/diff/app:${tag}`]);
  }
}, 120_000);

afterAll(async () => {
  proxy?.stop();
  rmSync(work, { recursive: true, force: true });
});

const img = (tag: string, host = reg.host) => `${host}/diff/app:${tag}`;

describe("diff on images built by umoci", () => {
  test("two images without shared layers: the paths agree with diff -r and lstat of the unpacked roots", async () => {
    const r = await runCli(["diff", img("v1"), img("v3"), "--ignore-mtime", "--content", "--json", "--no-cache"]);
    expect(r.code).toBe(1);
    expect(ours(r.stdout)).toEqual(reference("v1", "v3"));
    // The file of equal size whose bytes differ is found by --content alone.
    const doc = JSON.parse(r.stdout) as { paths: { path: string; fields?: string[] }[]; contentCompared: number };
    expect(doc.contentCompared).toBeGreaterThan(0);
    const passwd = doc.paths.find((p) => p.path === "/etc/passwd");
    expect(passwd).toBeUndefined();
    expect(doc.paths.find((p) => p.path === "/var/lib/data")?.fields).toEqual(["mode"]);
  }, 60_000);

  test("over a shared layer that is not in the cache: it is named and never fetched", async () => {
    proxy.requests.length = 0;
    const r = await runCli(["diff", img("v1", proxy.host), img("v2", proxy.host), "--no-cache", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      shared: { index: number; digest: string }[];
      sharedRead: boolean;
      paths: { path: string; kind: string; overSharedBase?: boolean }[];
      config: { key: string }[];
    };
    expect(doc.shared.length).toBe(1);
    expect(doc.sharedRead).toBe(false);
    const sharedBlob = `/blobs/${doc.shared[0]!.digest}`;
    expect(proxy.requests.filter((q) => q.path.endsWith(sharedBlob))).toEqual([]);
    // Every path diff -r names is named, or (a directory over the unread layer) what is below it is.
    const ref = reference("v1", "v2");
    const named = doc.paths.map((p) => p.path);
    for (const p of [...ref.only, ...ref.changed]) expect({ p, named: named.some((n) => n === p || n.startsWith(`${p}/`)) }).toEqual({ p, named: true });
    expect(doc.config.map((c) => c.key)).toEqual(expect.arrayContaining(["User", "Env APP"]));
    const text = await runCli(["diff", img("v1"), img("v2"), "--no-cache"]);
    expect(text.stdout).toContain(`Shared layers: 0 ${doc.shared[0]!.digest} (not read)`);
  }, 60_000);

  test("with the shared layer's listing in the cache, every change is exact and agrees with diff -r", async () => {
    const env = { XDG_CACHE_HOME: mkdtempSync(join(work, "cache-")) };
    expect((await runCli(["ls", img("v1"), "/"], { env })).code).toBe(0);
    const r = await runCli(["diff", img("v1"), img("v2"), "--ignore-mtime", "--content", "--json"], { env });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).sharedRead).toBe(true);
    expect(ours(r.stdout)).toEqual(reference("v1", "v2"));
    const text = (await runCli(["diff", img("v1"), img("v2"), "--ignore-mtime", "--content"], { env })).stdout;
    expect(text).toContain("Only in A: /etc/motd (file, 6 bytes)");
    expect(text).toContain("Only in A: /usr/share/doc (directory, 3 paths below)");
    expect(text).toContain("Changed: /usr/bin/t: link tool → tool-alias");
    expect(text).toContain("Changed: /etc/same-size: content differs");
    expect(text).toContain("Config: User: (none) → app");
    // Once every listing is cached, a diff without --content downloads no blob at all.
    proxy.requests.length = 0;
    const again = await runCli(["diff", img("v1", proxy.host), img("v2", proxy.host), "--json"], { env });
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).bytesDownloaded).toBe(0);
    expect(proxy.requests.filter((q) => q.method === "GET" && q.path.includes("/blobs/") && q.range !== null)).toEqual([]);
  }, 60_000);

  test("an image against itself is the same (exit 0); two layers compare their own changes", async () => {
    const same = await runCli(["diff", img("v2"), img("v2")]);
    expect(same.code).toBe(0);
    const layers = await runCli(["diff", img("v1"), img("v2"), "--layer", "0", "--layer-b", "1", "--ignore-mtime", "--json"]);
    expect(layers.code).toBe(1);
    const kinds = (JSON.parse(layers.stdout) as { paths: { path: string; kind: string }[] }).paths;
    expect(kinds.find((p) => p.path === "/opt")?.kind).toBe("added");
    expect((await runCli(["diff", img("v1"), img("v2"), "--layer-b", "1"])).code).toBe(2);
  }, 60_000);
});

describe("every source", () => {
  test("the same image from the registry, the OCI layout and a docker-archive is the same; a diff across sources works", async () => {
    const archive = join(work, "v2.tar");
    sh(["skopeo", "copy", "--quiet", `oci:${layout}:v2`, `docker-archive:${archive}:diff/app:v2`]);
    expect((await runCli(["diff", img("v2"), `oci:${layout}:v2`])).code).toBe(0);
    expect((await runCli(["diff", `oci:${layout}:v2`, `docker-archive:${archive}`, "--ignore-mtime"])).code).toBe(0);
    const across = await runCli(["diff", `oci:${layout}:v1`, img("v3"), "--ignore-mtime", "--content", "--json"]);
    expect(across.code).toBe(1);
    expect(ours(across.stdout)).toEqual(reference("v1", "v3"));
    // Two registries (the registry and a proxy in front of it, another host to the client): the same image is the same.
    const hosts = await runCli(["diff", img("v2"), img("v2", proxy.host), "--json"]);
    expect(hosts.code).toBe(0);
    const both = JSON.parse(hosts.stdout) as { a: { reference: string; digest: string }; b: { reference: string; digest: string }; same: boolean };
    expect(both.same).toBe(true);
    expect(both.a.digest).toBe(both.b.digest);
    expect(both.a.reference).not.toBe(both.b.reference);
    expect(ours((await runCli(["diff", img("v1", proxy.host), `oci:${layout}:v3`, "--ignore-mtime", "--content", "--json"])).stdout)).toEqual(reference("v1", "v3"));
    const a = JSON.parse((await runCli(["efficiency", img("eff"), "--json"])).stdout);
    const b = JSON.parse((await runCli(["efficiency", `oci:${layout}:eff`, "--json"])).stdout);
    expect({ ...b, reference: "" }).toEqual({ ...a, reference: "" });
  }, 60_000);
});

describe("efficiency on an image whose waste is known by construction", () => {
  test("a file deleted and a file replaced by a later layer are the waste, as dive counts it", async () => {
    const r = await runCli(["efficiency", img("eff"), "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { efficiency: number; wastedBytes: number; userSizeBytes: number; inefficiencies: { path: string; cumulativeSize: number }[] };
    expect(doc.inefficiencies.filter((w) => w.cumulativeSize > 0).map((w) => [w.path, w.cumulativeSize])).toEqual([
      ["/data/big", 100_000],
      ["/etc/conf", 30],
    ]);
    expect(doc.wastedBytes).toBe(100_030);
    expect(doc.userSizeBytes).toBe(200_020);
    // min: big 0, conf 10, keep 7, payload 200,000; cumulative: 100,000 + 30 + 7 + 200,000.
    expect(doc.efficiency).toBeCloseTo(200_017 / 300_037, 9);
  }, 60_000);

  test("--ci exits 0 and 1 on either side of each threshold, one verdict line per rule", async () => {
    const at = async (...rules: string[]) => runCli(["efficiency", img("eff"), "--ci", ...rules]);
    // efficiency 0.66664…, wasted 100,030 bytes, user wasted 100,030 / 200,020 = 0.50010.
    const pass = await at("--lowestEfficiency", "0.6666", "--highestWastedBytes", "100030", "--highestUserWastedPercent", "0.5002");
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain("PASS: highestWastedBytes");
    expect(pass.stdout).toContain("Result: PASS");
    expect((await at("--lowestEfficiency", "0.6667", "--highestUserWastedPercent", "disabled")).code).toBe(1);
    const bytes = await at("--lowestEfficiency", "0", "--highestWastedBytes", "100029", "--highestUserWastedPercent", "disabled");
    expect(bytes.code).toBe(1);
    expect(bytes.stdout).toContain("FAIL: highestWastedBytes");
    expect((await at("--lowestEfficiency", "0", "--highestUserWastedPercent", "0.5")).code).toBe(1);
    expect((await at("--lowestEfficiency", "2")).code).toBe(2);
  }, 60_000);

  test("--ci reads .dive-ci in the current directory, as dive does; --ci-config and flags override it", async () => {
    const dir = mkdtempSync(join(work, "dive-ci-"));
    // Under dive's defaults (0.9, 0.1) the image fails; the file lets it pass.
    expect((await runCli(["efficiency", img("eff"), "--ci"], { cwd: dir })).code).toBe(1);
    writeFileSync(join(dir, ".dive-ci"), "rules:\n  lowestEfficiency: 0.5\n  highestUserWastedPercent: 0.6\n");
    const pass = await runCli(["efficiency", img("eff"), "--ci"], { cwd: dir });
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain("rules: from .dive-ci\n");
    const json = JSON.parse((await runCli(["efficiency", img("eff"), "--ci", "--json"], { cwd: dir })).stdout) as { ciConfig: string; pass: boolean };
    expect(json).toMatchObject({ ciConfig: ".dive-ci", pass: true });
    const flagged = await runCli(["efficiency", img("eff"), "--ci", "--lowestEfficiency", "0.9"], { cwd: dir });
    expect(flagged.code).toBe(1);
    expect(flagged.stdout).toContain("rules: from .dive-ci, overridden by the flags given");
    // Without --ci nothing reads it.
    expect((await runCli(["efficiency", img("eff")], { cwd: dir })).stdout).not.toContain("rules:");
  }, 60_000);
});
