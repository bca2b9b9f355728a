import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorLine, runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

/**
 * --platform on a single-platform image (no index): the platform its config declares must match,
 * as an index entry's must; otherwise exit 4 naming the image's platform. Real registry.
 */
describe("--platform on a single-platform image", () => {
  const reg = useRegistry();
  let dir: string;
  const layer = layerFrom([{ path: "etc/arch", content: "x\n" }]);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ls-platform-"));
    await pushImage(reg, "p/amd", "v1", { layers: [{ bytes: layer }] }); // linux/amd64
    await pushImage(reg, "p/arm64", "v1", { layers: [{ bytes: layer }], platform: { os: "linux", architecture: "arm64" } });
    await pushImage(reg, "p/armv7", "v1", { layers: [{ bytes: layer }], platform: { os: "linux", architecture: "arm", variant: "v7" } });
    await pushImage(reg, "p/windows", "v1", { layers: [{ bytes: layer }], platform: { os: "windows", architecture: "amd64" } });
    await pushImage(reg, "p/odd", "v1", { layers: [{ bytes: layer }], platform: { os: "linux\x1b[31m", architecture: "amd64\u202e" } });
    // A config that declares no platform at all.
    await pushImage(reg, "p/none", "v1", { layers: [{ bytes: layer }], config: { architecture: undefined, os: undefined } });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  const mismatches: [string, string, string][] = [
    ["p/amd", "linux/arm64", "linux/amd64"],
    ["p/amd", "windows/amd64", "linux/amd64"],
    ["p/amd", "linux/amd64/v3", "linux/amd64"],
    ["p/arm64", "linux/amd64", "linux/arm64"],
    ["p/arm64", "linux/arm64/v9", "linux/arm64"],
    ["p/armv7", "linux/arm/v6", "linux/arm/v7"],
    ["p/armv7", "linux/arm64", "linux/arm/v7"],
    ["p/windows", "linux/amd64", "windows/amd64"],
    ["p/odd", "linux/amd64", "linux\\x1b[31m/amd64\\u202e"],
  ];
  for (const [repo, asked, is] of mismatches) {
    test(`${repo} asked as ${asked}: exit 4, "the image is ${is} only"`, async () => {
      const r = await runCli(["inspect", `${reg.host}/${repo}:v1`, "--platform", asked]);
      expect(r.code).toBe(4);
      expect(errorLine(r)).toBe(`layerslayer: ${reg.host}/${repo}:v1: no image for platform ${asked}; the image is ${is} only`);
      expect(r.stdout).toBe("");
    });
  }

  const matches: [string, string, string][] = [
    ["p/amd", "linux/amd64", "linux/amd64"],
    ["p/arm64", "linux/arm64", "linux/arm64"],
    ["p/arm64", "linux/arm64/v8", "linux/arm64"], // v8 is arm64's default variant
    ["p/armv7", "linux/arm", "linux/arm/v7"],
    ["p/armv7", "linux/arm/v7", "linux/arm/v7"],
    ["p/none", "linux/s390x", "unknown"], // nothing declared: nothing to check against
  ];
  for (const [repo, asked, shown] of matches) {
    test(`${repo} asked as ${asked}: used (platform ${shown})`, async () => {
      const r = await runCli(["inspect", `${reg.host}/${repo}:v1`, "--platform", asked, "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).platform).toBe(shown);
    });
  }

  test("every command that resolves an image says the same (ls, cat, peek, history, manifest, config, save)", async () => {
    const image = `${reg.host}/p/amd:v1`;
    const line = `layerslayer: ${image}: no image for platform linux/arm64; the image is linux/amd64 only`;
    const out = join(dir, "save");
    for (const args of [
      ["ls", image, "/etc"],
      ["cat", image, "/etc/arch"],
      ["peek", image],
      ["history", image],
      ["manifest", image],
      ["config", image],
      ["save", image, "-o", out],
    ]) {
      const r = await runCli([...args, "--platform", "linux/arm64"]);
      expect(r.code).toBe(4);
      expect(errorLine(r)).toBe(line);
      expect(r.stdout).toBe("");
      const ok = await runCli([...args, "--platform", "linux/amd64"]);
      expect(ok.code).toBe(0);
    }
  });

  test("scan records the mismatch as a failure with NOT_FOUND (exit 4)", async () => {
    const r = await runCli(["scan", `${reg.host}/p/amd:v1`, "--platform", "linux/arm64", "--json", "--db", join(dir, "db.sqlite")]);
    expect(r.code).toBe(4);
    const rec = JSON.parse(r.stdout.trim());
    expect(rec.error).toEqual({ code: "NOT_FOUND", message: `${reg.host}/p/amd:v1: no image for platform linux/arm64; the image is linux/amd64 only` });
  });
});
