/**
 * Builds layerslayer's container image as an OCI image layout, without a container daemon:
 *   bun scripts/image.ts                 → dist/image (layout), tag <version>:
 *                                          `oci:dist/image:<version>` for skopeo and for us
 *                                          (beside, not over, the binary `npm run build` writes)
 *   bun scripts/image.ts --out DIR       → the layout in DIR instead
 *   bun scripts/image.ts --binary FILE   → package an existing linux binary instead of building one
 *
 * The image is FROM scratch: the binary, the shared libraries it links (found with ldd: glibc's
 * loader, libc, libpthread, libdl, libm), the CA bundle, a passwd/group naming an unprivileged user,
 * and an empty /tmp. The layer is a GNU tar with fixed owners and times (the same input gives the
 * same layer); umoci writes it into the layout, compresses it and sets the config.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { version } from "../src/version.ts";

const root = join(import.meta.dir, "..");

/** Where the layout goes by default: its own directory under dist/, never dist/layerslayer (the binary). */
export const DEFAULT_LAYOUT = join(root, "dist/image");

/** The image's user: unprivileged, with /tmp as its home so the listing cache works. */
export const IMAGE_USER = { uid: 65532, name: "nonroot" };
export const IMAGE_BINARY = "/usr/local/bin/layerslayer";
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** A fixed timestamp for every file in the layer (2026-01-01). */
const EPOCH = 1767225600;

function run(cmd: string[], what: string): string {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${what} failed (${cmd[0]} exited ${p.exitCode}): ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}

/** The shared libraries a dynamic executable needs, as absolute paths (the loader included). */
export function sharedLibraries(binary: string): string[] {
  const out = run(["ldd", binary], "ldd");
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** Copies a file to the same absolute path under rootfs, following symlinks to the real bytes. */
function place(rootfs: string, path: string, mode?: number): void {
  const to = join(rootfs, path);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(path), to);
  if (mode !== undefined) chmodSync(to, mode);
}

function ociArch(): string {
  if (process.arch === "x64") return "amd64";
  if (process.arch === "arm64") return "arm64";
  throw new Error(`no image for this machine's architecture (${process.arch})`);
}

export interface ImageOptions {
  out: string;
  binary?: string;
  tag?: string;
}

/** Builds the layout; returns its directory and tag. */
export async function buildImage(opts: ImageOptions): Promise<{ layout: string; tag: string }> {
  const tag = opts.tag ?? version;
  const work = mkdtempSync(join(tmpdir(), "ls-image-"));
  try {
    let binary = opts.binary;
    if (!binary) {
      run([process.execPath, join(root, "scripts/build.ts"), "--outdir", work], "building the binary");
      binary = join(work, "layerslayer");
    }
    const rootfs = join(work, "rootfs");
    mkdirSync(join(rootfs, "usr/local/bin"), { recursive: true });
    copyFileSync(binary, join(rootfs, IMAGE_BINARY));
    chmodSync(join(rootfs, IMAGE_BINARY), 0o755);
    for (const lib of sharedLibraries(binary)) place(rootfs, lib, 0o755);
    if (!existsSync(CA_BUNDLE)) throw new Error(`${CA_BUNDLE} is missing (apt-get install ca-certificates)`);
    place(rootfs, CA_BUNDLE, 0o644);
    mkdirSync(join(rootfs, "etc"), { recursive: true });
    writeFileSync(
      join(rootfs, "etc/passwd"),
      `root:x:0:0:root:/root:/sbin/nologin\n${IMAGE_USER.name}:x:${IMAGE_USER.uid}:${IMAGE_USER.uid}:${IMAGE_USER.name}:/tmp:/sbin/nologin\n`,
    );
    writeFileSync(join(rootfs, "etc/group"), `root:x:0:\n${IMAGE_USER.name}:x:${IMAGE_USER.uid}:\n`);
    mkdirSync(join(rootfs, "tmp"));
    chmodSync(join(rootfs, "tmp"), 0o1777);

    const layer = join(work, "layer.tar");
    run(
      [
        "tar",
        "--sort=name",
        "--numeric-owner",
        "--owner=0",
        "--group=0",
        `--mtime=@${EPOCH}`,
        "--format=pax",
        "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
        "-C",
        rootfs,
        "-cf",
        layer,
        ".",
      ],
      "tar",
    );

    rmSync(opts.out, { recursive: true, force: true });
    mkdirSync(dirname(opts.out), { recursive: true });
    const image = `${opts.out}:${tag}`;
    const created = new Date(EPOCH * 1000).toISOString();
    run(["umoci", "init", "--layout", opts.out], "umoci init");
    run(["umoci", "new", "--image", image], "umoci new");
    run(
      ["umoci", "raw", "add-layer", "--image", image, "--history.created", created, "--history.created_by", "scripts/image.ts: the binary, its libraries, CA certificates", layer],
      "umoci raw add-layer",
    );
    run(
      [
        "umoci",
        "config",
        "--image",
        image,
        "--os",
        "linux",
        "--architecture",
        ociArch(),
        "--created",
        created,
        "--author",
        "layerslayer",
        "--config.entrypoint",
        IMAGE_BINARY,
        "--config.user",
        `${IMAGE_USER.uid}:${IMAGE_USER.uid}`,
        "--config.workingdir",
        "/tmp",
        "--config.env",
        "PATH=/usr/local/bin",
        "--config.env",
        "HOME=/tmp",
        "--config.env",
        `SSL_CERT_FILE=${CA_BUNDLE}`,
        "--config.label",
        `org.opencontainers.image.version=${version}`,
        "--config.label",
        "org.opencontainers.image.title=layerslayer",
        "--history.created",
        created,
        "--history.created_by",
        `scripts/image.ts: ENTRYPOINT ${IMAGE_BINARY}`,
      ],
      "umoci config",
    );
    run(["umoci", "gc", "--layout", opts.out], "umoci gc");
    // umoci writes its files for its own user only; a layout is for others to read and copy.
    run(["chmod", "-R", "u=rwX,go=rX", opts.out], "chmod");
    return { layout: opts.out, tag };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const opts: ImageOptions = { out: DEFAULT_LAYOUT };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--out" && v) ((opts.out = v), i++);
    else if (a === "--binary" && v) ((opts.binary = v), i++);
    else if (a === "--tag" && v) ((opts.tag = v), i++);
    else {
      console.error(`image: unknown argument ${a}; usage: bun scripts/image.ts [--out DIR] [--binary FILE] [--tag TAG]`);
      process.exit(2);
    }
  }
  try {
    const { layout, tag } = await buildImage(opts);
    console.log(`built oci:${layout}:${tag}`);
  } catch (e) {
    console.error(`image: ${(e as Error).message}`);
    process.exit(1);
  }
}
