/**
 * packages end to end, on the real registry: a Debian package database (this machine's own dpkg
 * status and file lists) checked against dpkg-query on the unpacked root; apk and rpm databases
 * written in the tests from the formats' documentation; the layer that installed each package.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage, type FileSpec } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { referenceRootfs } from "../support/rootfs.ts";
import { rpmSqlite } from "../support/rpmdb.ts";
import { gunzipSync } from "node:zlib";

const reg = useRegistry();
const DPKG = "/var/lib/dpkg";
const status = readFileSync(join(DPKG, "status"), "utf8");
const lists: FileSpec[] = readdirSync(join(DPKG, "info"))
  .filter((n) => n.endsWith(".list"))
  .map((n) => ({ path: `var/lib/dpkg/info/${n}`, content: readFileSync(join(DPKG, "info", n)) }));
const EXTRA =
  "Package: layerslayer-probe\nStatus: install ok installed\nArchitecture: all\nSource: layerslayer-src (0.1)\nVersion: 0.1-1\nDescription: a package the second layer installs\n";

/** Text-like filler (about 3:1 under gzip), sorted before var/: the database sits near the layer's end. */
function filler(mb: number): FileSpec[] {
  const words = ["layer", "tar", "gzip", "registry", "digest", "manifest", "blob", "range", "inflate", "header", "whiteout", "opaque"];
  let x = 12345;
  const out: FileSpec[] = [];
  for (let f = 0; f < mb; f++) {
    let s = "";
    while (s.length < 1 << 20) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      s += `${words[x % words.length]}${x % 97} `;
    }
    out.push({ path: `usr/share/filler/part-${String(f).padStart(3, "0")}.txt`, content: s.slice(0, 1 << 20) });
  }
  return out;
}

let debianLayers: Uint8Array[];

beforeAll(async () => {
  debianLayers = [
    layerFrom([...filler(24), { path: "var/lib/dpkg/status", content: status }, ...lists]),
    layerFrom([
      { path: "var/lib/dpkg/status", content: `${status.trimEnd()}\n\n${EXTRA}` },
      { path: "var/lib/dpkg/info/layerslayer-probe.list", content: "/.\n/usr/share/doc/layerslayer-probe\n" },
    ]),
  ];
  await pushImage(reg, "pkg/debian", "12", { layers: debianLayers.map((bytes) => ({ bytes })) });
  const apk = (pkgs: string[][]) => pkgs.map(([p, v]) => `C:Q1x=\nP:${p}\nV:${v}\nA:x86_64\no:${p}\n`).join("\n");
  await pushImage(reg, "pkg/alpine", "3", {
    layers: [
      {
        bytes: layerFrom([
          {
            path: "lib/apk/db/installed",
            content: apk([
              ["musl", "1.2.5-r0"],
              ["busybox", "1.36.1-r28"],
            ]),
          },
        ]),
      },
      { bytes: layerFrom([{ path: "etc/motd", content: "hi\n" }]) },
      {
        bytes: layerFrom([
          {
            path: "lib/apk/db/installed",
            content: apk([
              ["musl", "1.2.5-r0"],
              ["busybox", "1.36.1-r29"],
              ["curl", "8.9.0-r0"],
            ]),
          },
        ]),
      },
    ],
  });
  const rpm = rpmSqlite([
    { name: "bash", version: "5.1.8", release: "9.el9", arch: "x86_64", sourcerpm: "bash-5.1.8-9.el9.src.rpm" },
    { name: "glibc", version: "2.34", release: "100.el9", arch: "x86_64", epoch: 0, sourcerpm: "glibc-2.34-100.el9.src.rpm" },
  ]);
  await pushImage(reg, "pkg/rpm", "9", {
    layers: [
      {
        bytes: layerFrom([
          { path: "usr/lib/sysimage/rpm/rpmdb.sqlite", content: rpm },
          { path: "var/lib/rpm", symlink: "../../usr/lib/sysimage/rpm" },
        ]),
      },
    ],
  });
  await pushImage(reg, "pkg/bdb", "7", { layers: [{ bytes: layerFrom([{ path: "var/lib/rpm/Packages", content: "\0\0\0\0bdb" }]) }] });
  await pushImage(reg, "pkg/static", "1", { layers: [{ bytes: layerFrom([{ path: "app", content: "binary" }]) }] });
}, 120_000);

interface Doc {
  databases: { manager: string; path: string; layer: number }[];
  packages: { name: string; version: string; architecture: string; source: string; layer: number; manager: string }[];
  bytesDownloaded: number;
}

describe("packages", () => {
  test("a Debian database equals dpkg-query on the unpacked root; the layer that installed each", async () => {
    const r = await runCli(["packages", `${reg.host}/pkg/debian:12`, "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    const root = referenceRootfs(debianLayers.map((l) => new Uint8Array(gunzipSync(l))));
    try {
      const q = Bun.spawnSync(["dpkg-query", `--admindir=${join(root, "var/lib/dpkg")}`, "-W", "-f", "${Package}\t${Version}\t${Architecture}\t${source:Package}\n"]);
      expect(q.exitCode).toBe(0);
      const want = q.stdout.toString().trim().split("\n").sort();
      expect(doc.packages.map((p) => `${p.name}\t${p.version}\t${p.architecture}\t${p.source}`).sort()).toEqual(want);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(doc.databases).toEqual([{ manager: "dpkg", path: "/var/lib/dpkg/status", layer: 1 }]);
    const byLayer = Object.groupBy(doc.packages, (p) => String(p.layer));
    expect(byLayer["1"]?.map((p) => p.name)).toEqual(["layerslayer-probe"]);
    expect(byLayer["0"]?.length).toBe(doc.packages.length - 1);
    const text = await runCli(["packages", `${reg.host}/pkg/debian:12`]);
    expect(text.stdout.split("\n")[0]).toMatch(/^NAME\s+VERSION\s+ARCH\s+SOURCE\s+LAYER\s+MANAGER$/);
    expect(text.stdout).toMatch(/layerslayer-probe\s+0\.1-1\s+all\s+layerslayer-src\s+1\s+dpkg/);
  }, 120_000);

  test("on a warmed image, the database is read from the nearest checkpoint: under 5 % of the layer", async () => {
    const env = { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "ls-pkg-cache-")) };
    expect((await runCli(["cache", "warm", `${reg.host}/pkg/debian:12`], { env })).code).toBe(0);
    const r = await runCli(["packages", `${reg.host}/pkg/debian:12`, "--json"], { env });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    const layer0 = debianLayers[0]!.byteLength;
    expect(doc.bytesDownloaded).toBeGreaterThan(0);
    console.log(`packages on a warmed image: ${doc.bytesDownloaded} of ${layer0 + debianLayers[1]!.byteLength} bytes`);
    expect(doc.bytesDownloaded).toBeLessThan(0.05 * (layer0 + debianLayers[1]!.byteLength));
  }, 120_000);

  test("apk: a package keeps the layer from which on it is unchanged; an upgrade or a new one is the later layer's", async () => {
    const r = await runCli(["packages", `${reg.host}/pkg/alpine:3`, "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.packages.map((p) => `${p.name} ${p.version} ${p.layer}`)).toEqual(["busybox 1.36.1-r29 2", "curl 8.9.0-r0 2", "musl 1.2.5-r0 0"]);
    expect(doc.databases).toEqual([{ manager: "apk", path: "/lib/apk/db/installed", layer: 2 }]);
  }, 60_000);

  test("rpm: an rpmdb.sqlite, found through the var/lib/rpm symlink as well, read once", async () => {
    const r = await runCli(["packages", `${reg.host}/pkg/rpm:9`, "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.packages.map((p) => `${p.manager} ${p.name} ${p.version} ${p.architecture} ${p.source} ${p.layer}`)).toEqual([
      "rpm bash 5.1.8-9.el9 x86_64 bash 0",
      "rpm glibc 2.34-100.el9 x86_64 glibc 0",
    ]);
    expect(doc.databases.length).toBe(1);
  }, 60_000);

  test("diff --packages names the packages added, removed and upgraded between two images", async () => {
    const r = await runCli(["diff", `${reg.host}/pkg/alpine:3`, `${reg.host}/pkg/rpm:9`, "--packages", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { packages: { manager: string; name: string; kind: string; a?: string; b?: string }[] };
    expect(doc.packages.map((p) => `${p.kind} ${p.manager} ${p.name}`)).toEqual([
      "removed apk busybox",
      "removed apk curl",
      "removed apk musl",
      "added rpm bash",
      "added rpm glibc",
    ]);
    const deb = await runCli(["diff", `${reg.host}/pkg/debian:12`, `${reg.host}/pkg/debian:12`, "--packages"]);
    expect(deb.code).toBe(0);
  }, 120_000);

  test("rpm's BerkeleyDB is named as unsupported (exit 8); an image without a database lists nothing (exit 0)", async () => {
    const bdb = await runCli(["packages", `${reg.host}/pkg/bdb:7`]);
    expect(bdb.code).toBe(8);
    expect(bdb.stderr).toContain("BerkeleyDB");
    const none = await runCli(["packages", `${reg.host}/pkg/static:1`]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("no package database found");
  }, 60_000);
});
