import { beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedHome, MAIN } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { freePort, waitFor } from "../support/ports.ts";
import { useRegistry } from "../support/registry.ts";

const reg = useRegistry();

beforeAll(async () => {
  await pushImage(reg, "cli/serve", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/os-release", content: "ID=cli\n" }]) }] });
});

test("serve: repeated --allow-registry flags all count; SIGTERM stops it with 143", async () => {
  const port = freePort();
  const proc = Bun.spawn([process.execPath, MAIN, "serve", "--listen", `127.0.0.1:${port}`, "--allow-registry", "other.example", "--allow-registry", reg.host], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: isolatedHome, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "ls-cache-")) },
  });
  try {
    await waitFor(`http://127.0.0.1:${port}/openapi.json`);
    const res = await fetch(`http://127.0.0.1:${port}/v1/cat?ref=${encodeURIComponent(`${reg.host}/cli/serve:v1`)}&path=/etc/os-release`);
    expect(await res.text()).toBe("ID=cli\n");
    const refused = await fetch(`http://127.0.0.1:${port}/v1/tags?repository=ghcr.io/x/y`);
    expect(refused.status).toBe(403);
  } finally {
    proc.kill("SIGTERM");
  }
  expect(await proc.exited).toBe(143);
  const err = await new Response(proc.stderr).text();
  expect(err).toContain(`registries: other.example, ${reg.host.toLowerCase()}`);
  expect(err).toMatch(/GET \/v1\/cat\?ref=.* 200 \d+ms/);
});
