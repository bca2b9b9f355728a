import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, IMAGE_BINARY, IMAGE_USER } from "../../scripts/image.ts";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

const MAX_COMPRESSED = 60 * 1000 * 1000;

function sh(cmd: string[]): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("the release image (npm run image), built with umoci from scratch", () => {
  const reg = useRegistry();
  let work: string;
  let layout: string;
  let tag: string;
  let rootfs: string;

  beforeAll(async () => {
    await pushImage(reg, "img/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/issue", content: "from the registry\n" }]) }] });
    work = mkdtempSync(join(tmpdir(), "ls-image-test-"));
    ({ layout, tag } = await buildImage({ out: join(work, "layerslayer") }));
    const unpack = sh(["umoci", "unpack", "--image", `${layout}:${tag}`, join(work, "bundle")]);
    expect(unpack.stderr).toBe("");
    rootfs = join(work, "bundle", "rootfs");
    // Mount points a container runtime provides.
    mkdirSync(join(rootfs, "proc"));
  });
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs the image's entrypoint in a chroot of its rootfs, as the image's user, with its environment. */
  function inImage(args: string[]): { code: number; stdout: string; stderr: string } {
    const config = JSON.parse(readFileSync(join(work, "bundle", "config.json"), "utf8")) as { process: { env: string[]; user: { uid: number } } };
    const script = `mount -t proc proc "$1/proc" && shift && exec "$@"`;
    return sh([
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      rootfs,
      "env",
      "-i",
      ...config.process.env,
      "/usr/sbin/chroot",
      `--userspec=${config.process.user.uid}:${config.process.user.uid}`,
      rootfs,
      IMAGE_BINARY,
      ...args,
    ]);
  }

  test("holds exactly the binary, its libraries, CA certificates, passwd/group and /tmp, under 60 MB compressed", () => {
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe(tag);
    const manifestPath = join(layout, "blobs", ...String(index.manifests[0].digest).split(":"));
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    const compressed = manifest.layers.reduce((n: number, l: { size: number }) => n + l.size, manifest.config.size);
    expect(compressed).toBeLessThanOrEqual(MAX_COMPRESSED);

    const files = sh(["find", rootfs, "-type", "f"])
      .stdout.trim()
      .split("\n")
      .map((f) => f.slice(rootfs.length))
      .sort();
    const libs = files.filter((f) => /\/lib(64)?\//.test(f));
    expect(files.filter((f) => !libs.includes(f))).toEqual(["/etc/group", "/etc/passwd", "/etc/ssl/certs/ca-certificates.crt", IMAGE_BINARY]);
    // glibc's loader and libc at least, nothing but shared objects.
    expect(libs.some((l) => l.includes("ld-linux"))).toBe(true);
    expect(libs.some((l) => l.endsWith("/libc.so.6"))).toBe(true);
    expect(libs.every((l) => /\.so(\.\d+)*$/.test(l))).toBe(true);
  });

  test("its config runs the binary as an unprivileged user", () => {
    const config = JSON.parse(readFileSync(join(work, "bundle", "config.json"), "utf8"));
    expect(config.process.args).toEqual([IMAGE_BINARY]);
    expect(config.process.user.uid).toBe(IMAGE_USER.uid);
  });

  test("the binary runs from the image's rootfs against the registry, as from source", async () => {
    expect(inImage(["--version"]).stdout.trim()).toBe(tag);
    for (const args of [
      ["inspect", `${reg.host}/img/app:v1`],
      ["cat", `${reg.host}/img/app:v1`, "/etc/issue"],
      ["inspect", `${reg.host}/img/missing:v1`],
    ]) {
      const inside = inImage(args);
      const src = await runCli(args);
      expect({ args, code: inside.code, stdout: inside.stdout, stderr: inside.stderr }).toEqual({ args, code: src.code, stdout: src.stdout, stderr: src.stderr });
    }
  });

  test("skopeo pushes the layout to a registry, and we read our own image back", async () => {
    const push = sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:${tag}`, `docker://${reg.host}/tools/layerslayer:${tag}`]);
    expect(push.stderr).toBe("");
    expect(push.code).toBe(0);
    const passwd = await runCli(["cat", `${reg.host}/tools/layerslayer:${tag}`, "/etc/passwd"]);
    expect(passwd.code).toBe(0);
    expect(passwd.stdout).toBe(readFileSync(join(rootfs, "etc/passwd"), "utf8"));
    const ls = await runCli(["ls", `${reg.host}/tools/layerslayer:${tag}`, "/usr/local/bin", "-l"]);
    expect(ls.code).toBe(0);
    const size = Bun.file(join(rootfs, IMAGE_BINARY)).size;
    expect(ls.stdout).toMatch(new RegExp(`-rwxr-xr-x .* ${size} .* layerslayer$`, "m"));
  });
});
