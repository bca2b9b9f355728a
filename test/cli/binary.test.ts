import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage, pushIndex } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

describe("the compiled binary behaves exactly like the source", () => {
  const reg = useRegistry();
  let out: string;
  let bin: string;
  beforeAll(async () => {
    const a = await pushImage(reg, "b/app", "a", { layers: [{ bytes: layerFrom([{ path: "etc/issue", content: "fixture\n" }]) }] });
    await pushIndex(reg, "b/app", "v1", [{ image: a, platform: { os: "linux", architecture: "amd64" } }]);
    const files = Array.from({ length: 40 }, (_, i) => ({ path: `usr/share/f${i}`, content: "x".repeat(i * 100) }));
    await pushImage(reg, "b/app", "z", { layers: [{ bytes: layerFrom(files, { compression: "zstd" }), compression: "zstd" }] });
    out = mkdtempSync(join(tmpdir(), "ls-bin-"));
    const build = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../scripts/build.ts"), "--outdir", out], { stderr: "pipe" });
    expect(build.exitCode).toBe(0);
    bin = join(out, "layerslayer");
  });
  afterAll(async () => {
    rmSync(out, { recursive: true, force: true });
  });

  const cases = (host: string): string[][] => [
    ["inspect", `${host}/b/app:v1`],
    ["inspect", `${host}/b/app:v1`, "--json"],
    ["history", `${host}/b/app:v1`],
    ["manifest", `${host}/b/app:v1`, "--index"],
    ["config", `${host}/b/app:a`],
    ["platforms", `${host}/b/app:v1`, "--json"],
    ["tags", `${host}/b/app`],
    ["inspect", `${host}/b/missing:v1`],
    ["inspect", "Bad/Ref"],
    ["history"],
    // Usage without loading any command (a runtime that hung resolving every command at once).
    ["--help"],
    ["help"],
    ["peek", "--help"],
    // The native decoders (zlib, libzstd) and the exact ones inside the binary.
    ["peek", `${host}/b/app:a`, "--full", "--no-cache"],
    ["peek", `${host}/b/app:z`, "--full", "--no-cache"],
    ["peek", `${host}/b/app:z`, "--budget", "100", "--no-cache"],
  ];

  test("the build writes SHA256SUMS that sha256sum -c accepts, and that catch a changed byte", async () => {
    const sums = await Bun.file(join(out, "SHA256SUMS")).text();
    expect(sums).toMatch(/^[0-9a-f]{64}  layerslayer\n$/);
    expect(Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: out }).exitCode).toBe(0);
    const tampered = mkdtempSync(join(tmpdir(), "ls-sums-"));
    try {
      const bytes = new Uint8Array(await Bun.file(bin).arrayBuffer());
      bytes[bytes.length >> 1]! ^= 1;
      await Bun.write(join(tampered, "layerslayer"), bytes);
      await Bun.write(join(tampered, "SHA256SUMS"), sums);
      expect(Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: tampered, stdout: "pipe", stderr: "pipe" }).exitCode).not.toBe(0);
    } finally {
      rmSync(tampered, { recursive: true, force: true });
    }
  });

  test("same stdout, stderr and exit code for every command", async () => {
    for (const args of cases(reg.host)) {
      const [src, binr] = await Promise.all([runCli(args), runCli(args, { bin })]);
      expect({ args, code: binr.code, stdout: binr.stdout, stderr: binr.stderr }).toEqual({ args, code: src.code, stdout: src.stdout, stderr: src.stderr });
    }
  });
});
