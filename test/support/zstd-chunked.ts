/**
 * zstd:chunked layers made by the reference implementation: Debian's skopeo recompresses an image
 * already in the test registry (`--dest-compress-format zstd:chunked`). skopeo remembers blobs it
 * compressed before (its blob-info cache) and would reuse one instead of writing zstd:chunked:
 * callers give each image some unique content, so there is nothing to reuse.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN, type TestRegistry } from "./registry.ts";

/** Copies `from` to `to` (both repo:tag in `reg`) with zstd:chunked layers. */
export function skopeoZstdChunked(reg: TestRegistry, from: string, to: string): void {
  const home = mkdtempSync(join(tmpdir(), "ls-skopeo-"));
  try {
    const conf = join(home, "registries.conf");
    writeFileSync(conf, "");
    const creds = reg.auth === "none" ? [] : ["--src-creds", `${ADMIN.username}:${ADMIN.password}`, "--dest-creds", `${ADMIN.username}:${ADMIN.password}`];
    const r = Bun.spawnSync(
      [
        "skopeo",
        "--registries-conf",
        conf,
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        ...creds,
        "--dest-compress",
        "--dest-compress-format",
        "zstd:chunked",
        `docker://${reg.host}/${from}`,
        `docker://${reg.host}/${to}`,
      ],
      { env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home }, stdout: "pipe", stderr: "pipe" },
    );
    if (r.exitCode !== 0) throw new Error(`skopeo copy failed: ${r.stderr.toString()}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
