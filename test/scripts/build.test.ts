/**
 * `npm run build` and `npm run image` share dist/ without replacing each other's output: the image
 * layout has its own directory, and a build that cannot write its binary fails with a clear message
 * and leaves no SHA256SUMS (an older one is removed before anything is built).
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { DIST } from "../../scripts/build.ts";
import { DEFAULT_LAYOUT } from "../../scripts/image.ts";

const root = join(import.meta.dir, "..", "..");
const work = mkdtempSync(join(tmpdir(), "ls-build-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function build(outdir: string): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync([process.execPath, join(root, "scripts/build.ts"), "--outdir", outdir], { stdout: "pipe", stderr: "pipe", cwd: root });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

test("the image layout goes to dist/image, not over the binary dist/layerslayer", () => {
  expect(relative(root, DIST)).toBe("dist");
  expect(relative(root, DEFAULT_LAYOUT)).toBe("dist/image");
});

test("a directory where the binary goes (an old layout): the build fails clearly and leaves no stale SHA256SUMS", () => {
  const dist = join(work, "old");
  mkdirSync(join(dist, "layerslayer", "blobs"), { recursive: true });
  writeFileSync(join(dist, "SHA256SUMS"), "0000  layerslayer\n");
  const r = build(dist);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`build: ${join(dist, "layerslayer")} is a directory`);
  expect(r.stderr).toContain("dist/image");
  expect(existsSync(join(dist, "SHA256SUMS"))).toBe(false);
});

test("a layout in dist/image, then a build into dist: both stay, SHA256SUMS checks the binary", () => {
  const dist = join(work, "dist");
  // What `npm run image` leaves (scripts/image.ts writes the layout at DEFAULT_LAYOUT's place in dist).
  mkdirSync(join(dist, "image", "blobs"), { recursive: true });
  writeFileSync(join(dist, "image", "index.json"), "{}");
  const r = build(dist);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(readFileSync(join(dist, "image", "index.json"), "utf8")).toBe("{}");
  const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: dist, stdout: "pipe", stderr: "pipe" });
  expect(check.stdout.toString()).toBe("layerslayer: OK\n");
  expect(
    Bun.spawnSync([join(dist, "layerslayer"), "--version"], { stdout: "pipe" })
      .stdout.toString()
      .trim(),
  ).toMatch(/^\d+\.\d+\.\d+/);
}, 120_000);
