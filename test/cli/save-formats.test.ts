/**
 * save --format oci | docker-archive: complete images, read back by skopeo (to the registry and to
 * a directory), by umoci and by our own oci: and docker-archive: sources, with the same digests.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage, pushIndex } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { umociLab } from "../support/umoci.ts";

const { work, layout, build, put, unpacked, sh } = umociLab("ls-save-");
const reg = useRegistry();
let digestV1: string;
let indexDigest: string;

const inspect = (ref: string) => JSON.parse(sh(["skopeo", "inspect", "--tls-verify=false", ref])) as { Digest: string; Layers: string[] };
const rawDigest = (ref: string) => `sha256:${new Bun.CryptoHasher("sha256").update(sh(["skopeo", "inspect", "--raw", "--tls-verify=false", ref])).digest("hex")}`;

beforeAll(async () => {
  build("v1", undefined, (r) => {
    put(r, "etc/os-release", "ID=lab\n");
    put(r, "usr/bin/tool", 5000, 0o755);
  });
  sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:v1`, `docker://${reg.host}/save/app:v1`]);
  digestV1 = rawDigest(`docker://${reg.host}/save/app:v1`);
  const amd = await pushImage(reg, "save/multi", undefined, { layers: [{ bytes: layerFrom([{ path: "arch", content: "amd64" }]) }] });
  const arm = await pushImage(reg, "save/multi", undefined, {
    layers: [{ bytes: layerFrom([{ path: "arch", content: "arm64" }]) }],
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
  });
  indexDigest = (
    await pushIndex(reg, "save/multi", "1", [
      { image: amd, platform: { os: "linux", architecture: "amd64" } },
      { image: arm, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ])
  ).digest;
}, 120_000);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
});

describe("save --format oci", () => {
  test("an OCI layout with the registry's exact manifest, read by skopeo, umoci and our oci: source", async () => {
    const dir = join(work, "saved-oci");
    const r = await runCli(["save", `${reg.host}/save/app:v1`, "--format", "oci", "-o", dir, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: "oci", digest: digestV1, images: 1, layers: 1 });
    expect(rawDigest(`oci:${dir}:v1`)).toBe(digestV1);
    // skopeo copies it to the registry and to a directory with the same digests.
    sh(["skopeo", "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false", `oci:${dir}:v1`, `docker://${reg.host}/save/copy:v1`]);
    expect(rawDigest(`docker://${reg.host}/save/copy:v1`)).toBe(digestV1);
    const d = join(work, "dir-copy");
    sh(["skopeo", "copy", "--quiet", "--preserve-digests", `oci:${dir}:v1`, `dir:${d}`]);
    expect(`sha256:${new Bun.CryptoHasher("sha256").update(readFileSync(join(d, "manifest.json"))).digest("hex")}`).toBe(digestV1);
    // umoci unpacks the same root file system; our own source lists it.
    const bundle = join(work, "saved-bundle");
    sh(["umoci", "unpack", "--image", `${dir}:v1`, bundle]);
    expect(readdirSync(join(bundle, "rootfs")).sort()).toEqual(readdirSync(unpacked("v1")).sort());
    const cat = await runCli(["cat", `oci:${dir}:v1`, "/etc/os-release"]);
    expect(cat.stdout).toBe("ID=lab\n");
  }, 120_000);

  test("--all-platforms keeps the index and every image; saving into the same layout again adds, never duplicates", async () => {
    const dir = join(work, "saved-multi");
    expect((await runCli(["save", `${reg.host}/save/multi:1`, "--format", "oci", "--all-platforms", "-o", dir])).code).toBe(0);
    expect(rawDigest(`oci:${dir}:1`)).toBe(indexDigest);
    for (const [platform, arch] of [
      ["linux/amd64", "amd64"],
      ["linux/arm64", "arm64"],
    ]) {
      expect((await runCli(["cat", `oci:${dir}:1`, "/arch", "--platform", platform!])).stdout).toBe(arch!);
    }
    expect((await runCli(["save", `${reg.host}/save/app:v1`, "--format", "oci", "-o", dir])).code).toBe(0);
    expect((await runCli(["save", `${reg.host}/save/app:v1`, "--format", "oci", "-o", dir])).code).toBe(0);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest).sort()).toEqual([digestV1, indexDigest].sort());
  }, 120_000);

  test("a directory that is neither empty nor a layout is refused; so are formats and flags that mean nothing together", async () => {
    const dir = join(work, "not-a-layout");
    rmSync(dir, { recursive: true, force: true });
    sh(["mkdir", "-p", dir]);
    writeFileSync(join(dir, "precious.txt"), "keep me");
    const r = await runCli(["save", `${reg.host}/save/app:v1`, "--format", "oci", "-o", dir]);
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toEqual(["precious.txt"]);
    expect((await runCli(["save", `${reg.host}/save/app:v1`, "--format", "tarball", "-o", dir])).code).toBe(2);
    expect((await runCli(["save", `${reg.host}/save/app:v1`, "--format", "oci"])).code).toBe(2);
    expect((await runCli(["save", `${reg.host}/save/multi:1`, "--format", "docker-archive", "--all-platforms", "-o", join(work, "x.tar")])).code).toBe(2);
  }, 60_000);
});

describe("save --format docker-archive", () => {
  test("a docker save archive skopeo reads (the same config, layers by their diff IDs as docker-archive names them), and our docker-archive: source reads as the same image", async () => {
    const file = join(work, "app.tar");
    const r = await runCli(["save", `${reg.host}/save/app:v1`, "--format", "docker-archive", "-o", file]);
    expect(r.code).toBe(0);
    expect(readdirSync(work).filter((n) => n.includes("layerslayer"))).toEqual([]);
    const names = sh(["tar", "-tf", file]).split("\n");
    expect(names).toContain("manifest.json");
    expect(names).toContain("index.json");
    const config = (ref: string) => sh(["skopeo", "inspect", "--config", "--raw", "--tls-verify=false", ref]);
    const registryConfig = config(`docker://${reg.host}/save/app:v1`);
    expect(config(`docker-archive:${file}`)).toBe(registryConfig);
    const diffIds = (JSON.parse(registryConfig) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    expect(inspect(`docker-archive:${file}`).Layers).toEqual(diffIds);
    const manifest = JSON.parse(sh(["tar", "-xOf", file, "manifest.json"])) as { RepoTags: string[] }[];
    expect(manifest[0]!.RepoTags).toEqual([`${reg.host}/save/app:v1`]);
    expect((await runCli(["diff", `${reg.host}/save/app:v1`, `docker-archive:${file}`])).code).toBe(0);
    sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", `docker-archive:${file}`, `docker://${reg.host}/save/from-archive:v1`]);
    expect(config(`docker://${reg.host}/save/from-archive:v1`)).toBe(registryConfig);
    expect((await runCli(["diff", `${reg.host}/save/app:v1`, `${reg.host}/save/from-archive:v1`])).code).toBe(0);
  }, 120_000);

  test("a failed save leaves no file and no staging directory", async () => {
    const file = join(work, "missing.tar");
    const r = await runCli(["save", `${reg.host}/save/nothing:1`, "--format", "docker-archive", "-o", file]);
    expect(r.code).toBe(4);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(work).filter((n) => n.includes("missing"))).toEqual([]);
  }, 60_000);
});
