/**
 * export end to end: the tar of the merged file system equals what umoci unpacks from the same
 * image (names, types, modes, owners, link targets, bytes), GNU tar and Python's tarfile read it
 * without a warning, whiteouts and opaque directories are honoured, and -o is all or nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { runCli } from "../support/cli.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { referenceRootfs } from "../support/rootfs.ts";
import { umociLab } from "../support/umoci.ts";

const { work, layout, build, put, unpacked, sh } = umociLab("ls-export-");
const reg = useRegistry();

/** Every path below `root` with what lstat and readlink say, and a file's bytes' digest. */
function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      const full = join(root, p);
      const st = lstatSync(full);
      const kind = st.isSymbolicLink()
        ? `link ${readlinkSync(full)}`
        : st.isDirectory()
          ? "dir"
          : st.isFile()
            ? `file ${new Bun.CryptoHasher("sha256").update(readFileSync(full)).digest("hex")}`
            : "other";
      out[p] = `${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk("");
  return out;
}

/** Extracts a tar with GNU tar (as root: owners and modes kept); fails on any warning but the clock's. */
function extract(tarFile: string): string {
  const dir = mkdtempSync(join(work, "x-"));
  // Timestamps are the image's: umoci built it a moment ago and its tar writer (Go's) rounds mtimes to
  // the nearest second, up to half a second past this clock. Only what tar says about the archive matters.
  const r = Bun.spawnSync(["tar", "-x", "--same-owner", "-p", "--warning=no-timestamp", "-f", tarFile, "-C", dir], { stderr: "pipe" });
  expect({ code: r.exitCode, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: "" });
  return dir;
}

beforeAll(async () => {
  build("v1", undefined, (r) => {
    put(r, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    put(r, "etc/motd", "hello\n");
    put(r, "usr/bin/tool", 70_000, 0o755);
    linkSync(join(r, "usr/bin/tool"), join(r, "usr/bin/tool-alias"));
    put(r, "usr/share/doc/pkg/README", "readme\n");
    symlinkSync("tool", join(r, "usr/bin/t"));
    put(r, `opt/${"long-directory-name/".repeat(8)}file-with-a-long-name.txt`, "deep\n");
    put(r, "var/lib/data", 100);
    chownSync(join(r, "var/lib/data"), 1000, 1001);
  });
  build("v2", "v1", (r) => {
    put(r, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    rmSync(join(r, "etc/motd"));
    rmSync(join(r, "usr/share/doc"), { recursive: true });
    chmodSync(join(r, "usr/bin/tool-alias"), 0o700);
    put(r, "srv/www/index.html", "<h1>hi</h1>\n");
    mkdirSync(join(r, "srv/empty"));
  });
  sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:v2`, `docker://${reg.host}/export/app:v2`]);
}, 120_000);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
});

describe("export", () => {
  test("the tar of the merged file system equals umoci's unpacked root, and both tar and Python's tarfile read it cleanly", async () => {
    const out = join(work, "v2.tar");
    const r = await runCli(["export", `${reg.host}/export/app:v2`, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("each verified");
    expect(describeTree(extract(out))).toEqual(describeTree(unpacked("v2")));
    const py = Bun.spawnSync(["python3", "-W", "error", "-c", "import sys, tarfile\nwith tarfile.open(sys.argv[1], errorlevel=2) as t:\n    print(len(t.getmembers()))", out], {
      stderr: "pipe",
    });
    expect({ code: py.exitCode, stderr: py.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    const list = sh(["tar", "-tvf", out]);
    // The hard link survives as a link (its target is still the file it named); the deleted paths are gone.
    expect(list).toMatch(/usr\/bin\/tool-alias link to usr\/bin\/tool/);
    expect(list).not.toContain("etc/motd");
    expect(list).not.toContain(".wh.");
  }, 60_000);

  test("the same from the OCI layout, to stdout", async () => {
    const r = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../src/cli/main.ts"), "export", `oci:${layout}:v2`, "-o", "-"], {
      env: { ...process.env, XDG_CACHE_HOME: mkdtempSync(join(work, "c-")) },
      stderr: "pipe",
    });
    expect(r.exitCode).toBe(0);
    const file = join(work, "stdout.tar");
    await Bun.write(file, r.stdout);
    expect(describeTree(extract(file))).toEqual(describeTree(unpacked("v2")));
  }, 60_000);

  test("opaque directories and whiteouts as GNU tar applies them layer by layer; an orphaned hard link becomes the file it named", async () => {
    const layers = [
      layerFrom([
        { path: "d/old", content: "old" },
        { path: "d/sub/x", content: "x" },
        { path: "keep/a", content: "aaaa" },
        { path: "keep/b", hardlink: "keep/a" },
      ]),
      layerFrom([
        { path: "d/new", content: "new" },
        { path: "d/.wh..wh..opq", content: "" },
        { path: "keep/a", content: "replaced" },
      ]),
    ];
    await pushImage(reg, "export/opaque", "1", { layers: layers.map((bytes) => ({ bytes })) });
    const out = join(work, "opaque.tar");
    expect((await runCli(["export", `${reg.host}/export/opaque:1`, "-o", out])).code).toBe(0);
    const ref = referenceRootfs(layers.map((l) => new Uint8Array(gunzipSync(l))));
    const got = extract(out);
    const names = (t: Record<string, string>) => Object.keys(t).sort();
    expect(names(describeTree(got))).toEqual(names(describeTree(ref)));
    expect(readFileSync(join(got, "keep/a"), "utf8")).toBe("replaced");
    expect(readFileSync(join(got, "keep/b"), "utf8")).toBe("aaaa");
    expect(existsSync(join(got, "d/old"))).toBe(false);
  }, 60_000);

  test("--layer N: the layer's tar as stored, byte for byte, verified", async () => {
    const layers = [
      layerFrom([{ path: "a", content: "one" }]),
      layerFrom([
        { path: "b/c", content: "two" },
        { path: ".wh.a", content: "" },
      ]),
    ];
    await pushImage(reg, "export/layers", "1", { layers: layers.map((bytes) => ({ bytes })) });
    for (const [i, l] of layers.entries()) {
      const out = join(work, `layer-${i}.tar`);
      const r = await runCli(["export", `${reg.host}/export/layers:1`, "--layer", String(i), "-o", out]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("verified");
      expect(new Uint8Array(readFileSync(out))).toEqual(new Uint8Array(gunzipSync(l)));
    }
    expect((await runCli(["export", `${reg.host}/export/layers:1`, "--layer", "0-1", "-o", join(work, "x.tar")])).code).toBe(2);
  }, 60_000);

  test("a layer whose bytes do not hash to its digest: exit 7 and no file, merged or --layer", async () => {
    const body = new Uint8Array(20_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) % 251;
    const layer = layerFrom([{ path: "data.bin", content: body }], { compression: "none" });
    const pushed = await pushImage(reg, "export/bad", "1", { layers: [{ bytes: layer, compression: "none" }] });
    const proxy = startFaultProxy(reg.url);
    // A byte of the file's content flipped: the tar still reads, only the digest tells.
    proxy.rule = (req) => (new URL(req.url).pathname.endsWith(pushed.layers[0]!.digest) ? { kind: "flip", offsets: [5000] } : undefined);
    try {
      for (const extra of [[], ["--layer", "0"]]) {
        const out = join(work, `bad-${extra.length}.tar`);
        const r = await runCli(["export", `${proxy.host}/export/bad:1`, "-o", out, "--no-cache", ...extra]);
        expect(r.code).toBe(7);
        expect(existsSync(out)).toBe(false);
      }
    } finally {
      proxy.stop();
    }
  }, 60_000);

  test("stopped by a signal mid-way: exit 143 and nothing under -o, no temp file either", async () => {
    const proxy = startFaultProxy(reg.url);
    proxy.rule = () => undefined;
    proxy.delayMs = 400;
    const out = join(work, "stopped.tar");
    try {
      const p = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/cli/main.ts"), "export", `${proxy.host}/export/app:v2`, "-o", out, "--no-cache"], {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, XDG_CACHE_HOME: mkdtempSync(join(work, "c-")) },
      });
      // Wait until the temp file exists (the listing is done and writing began), then stop it.
      const writing = () => readdirSync(work).some((n) => n.startsWith(".stopped.tar."));
      for (let i = 0; i < 200 && !writing(); i++) await Bun.sleep(50);
      expect(writing()).toBe(true);
      p.kill("SIGTERM");
      expect(await p.exited).toBe(143);
      expect(readdirSync(work).filter((n) => n.includes("stopped"))).toEqual([]);
    } finally {
      proxy.stop();
    }
  }, 60_000);

  test("a failure leaves nothing under -o; a terminal or --json is refused", async () => {
    const out = join(work, "never.tar");
    const r = await runCli(["export", `${reg.host}/export/nothing:1`, "-o", out]);
    expect(r.code).toBe(4);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((n) => n.includes("never"))).toEqual([]);
    expect((await runCli(["export", `${reg.host}/export/app:v2`, "--json", "-o", out])).code).toBe(2);
  }, 60_000);
});
