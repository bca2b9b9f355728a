/**
 * Local images made by skopeo from the test registry (oci:, oci-archive:, docker-archive:, and the
 * OCI form of docker save built from a layout) read exactly like the registry image, and bad local
 * input gives one line and the right exit code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, type CliResult } from "../support/cli.ts";
import { readFile as readImageFile } from "../../src/index.ts";
import { layerFrom, pushImage, pushIndex, type FileSpec, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { skopeo } from "../support/skopeo.ts";

const BASE: FileSpec[] = [
  { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
  { path: "etc/group", content: "root:x:0:\n" },
  { path: "bin/sh", content: "#!/bin/busybox sh\n", mode: 0o755 },
  { path: "bin/ls", hardlink: "bin/sh" },
  { path: "lib", symlink: "usr/lib" },
  { path: "usr/lib/os-release", content: "ID=local\nVERSION_ID=9\n" },
  { path: "usr/share/big.bin", content: crypto.getRandomValues(new Uint8Array(200_000)) },
];
const TOP: FileSpec[] = [
  { path: "etc/.wh.group", content: "" },
  { path: "etc/motd", content: "welcome to the local image\n" },
  { path: "app/run.sh", content: "#!/bin/sh\necho run\n", mode: 0o755 },
];

function tarDir(dir: string, out: string): void {
  const p = Bun.spawnSync(["tar", "-C", dir, "-cf", out, "."]);
  if (p.exitCode !== 0) throw new Error(p.stderr.toString());
}

describe("local images made by skopeo", () => {
  const reg = useRegistry();
  let work: string;
  let oci: PushedImage; // gzip + zstd layers: kept as they are by oci: and oci-archive:
  let plain: PushedImage; // plain tar layers, as docker save writes them
  const at = (name: string) => join(work, name);
  const registry = (repo: string) => `${reg.host}/${repo}:v1`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "ls-local-"));
    oci = await pushImage(reg, "local/oci", "v1", {
      layers: [{ bytes: layerFrom(BASE) }, { bytes: layerFrom(TOP, { compression: "zstd" }), compression: "zstd" }],
      history: [{ created_by: "ADD base.tar /" }, { created_by: "ENV X=1", empty_layer: true }, { created_by: "COPY app /app" }],
    });
    plain = await pushImage(reg, "local/plain", "v1", {
      format: "docker",
      layers: [
        { bytes: layerFrom(BASE, { compression: "none" }), compression: "none" },
        { bytes: layerFrom(TOP, { compression: "none" }), compression: "none" },
      ],
    });
    const arm = await pushImage(reg, "local/multi", undefined, {
      layers: [{ bytes: layerFrom([{ path: "etc/arch", content: "arm64\n" }]) }],
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
    const amd = await pushImage(reg, "local/multi", undefined, { layers: [{ bytes: oci.layers[0]!.bytes }] });
    await pushIndex(reg, "local/multi", "v1", [
      { image: amd, platform: { os: "linux", architecture: "amd64" } },
      { image: arm, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ]);
    skopeo([`docker://${registry("local/oci")}`, `oci:${at("layout")}:v1`]);
    skopeo(["--all", `docker://${registry("local/multi")}`, `oci:${at("layout")}:multi`]);
    skopeo([`docker://${registry("local/plain")}`, `oci:${at("layout")}:plain`]);
    skopeo([`docker://${registry("local/oci")}`, `oci-archive:${at("oci.tar")}:v1`]);
    skopeo([`docker://${registry("local/plain")}`, `docker-archive:${at("docker.tar")}:local/plain:v1`]);
    // The OCI form newer docker save writes: a layout, index entries named by
    // io.containerd.image.name, and manifest.json beside it.
    const form = at("docker-oci");
    mkdirSync(form);
    skopeo([`docker://${registry("local/oci")}`, `oci:${form}:v1`]);
    const index = JSON.parse(readFileSync(join(form, "index.json"), "utf8"));
    index.manifests[0].annotations = { "io.containerd.image.name": "docker.io/local/app:v1", "org.opencontainers.image.ref.name": "v1" };
    writeFileSync(join(form, "index.json"), JSON.stringify(index));
    const manifest = JSON.parse(readFileSync(join(form, "blobs", ...index.manifests[0].digest.split(":")), "utf8"));
    const blob = (d: { digest: string }) => `blobs/${d.digest.replace(":", "/")}`;
    writeFileSync(join(form, "manifest.json"), JSON.stringify([{ Config: blob(manifest.config), RepoTags: ["local/app:v1"], Layers: manifest.layers.map(blob) }]));
    tarDir(form, at("docker-oci.tar"));
    // An older docker save layout whose layers are compressed and reached through links
    // (<id>/layer.tar → ../<file>): digests are then hashed from the members themselves.
    const old = at("docker-old");
    mkdirSync(old);
    writeFileSync(join(old, "config.json"), readFileSync(join(form, blob(manifest.config))));
    const layers = manifest.layers.map((l: { digest: string }, i: number) => {
      writeFileSync(join(old, `layer${i}.bin`), readFileSync(join(form, blob(l))));
      mkdirSync(join(old, `id${i}`));
      symlinkSync(`../layer${i}.bin`, join(old, `id${i}`, "layer.tar"));
      return `id${i}/layer.tar`;
    });
    writeFileSync(join(old, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: null, Layers: layers }]));
    tarDir(old, at("docker-old.tar"));
  }, 60_000);
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
  });

  // What the registry image prints, run once per command.
  const fromRegistry = new Map<string, Promise<CliResult>>();
  const same = async (args: (image: string) => string[], image: string, local: string) => {
    const key = JSON.stringify(args(image));
    if (!fromRegistry.has(key)) fromRegistry.set(key, runCli(args(image)));
    const [want, got] = await Promise.all([fromRegistry.get(key)!, runCli(args(local))]);
    expect(want.code).toBe(0);
    expect(want.stdout.length).toBeGreaterThan(0);
    expect({ code: got.code, stderr: got.stderr, stdout: got.stdout }).toEqual({ code: 0, stderr: got.stderr, stdout: want.stdout });
    return got;
  };

  const forms = () => [
    { local: `oci:${at("layout")}:v1`, image: registry("local/oci") },
    { local: `oci-archive:${at("oci.tar")}:v1`, image: registry("local/oci") },
    { local: `docker-archive:${at("docker.tar")}:local/plain:v1`, image: registry("local/plain") },
    { local: `docker-archive:${at("docker-oci.tar")}:local/app:v1`, image: registry("local/oci") },
    { local: `docker-archive:${at("docker-old.tar")}`, image: registry("local/oci") },
  ];

  test("ls -R, cat and peek --full print exactly what they print for the registry image", async () => {
    for (const { local, image } of forms()) {
      await same((i) => ["ls", i, "/", "-R", "-l"], image, local);
      const cat = await same((i) => ["cat", i, "/lib/os-release"], image, local);
      expect(cat.stdout).toBe("ID=local\nVERSION_ID=9\n");
      const big = await same((i) => ["cat", i, "/usr/share/big.bin"], image, local);
      expect(big.bytes.byteLength).toBe(200_000);
      const peek = await same((i) => ["peek", i, "--full"], image, local);
      expect(peek.stdout).toContain("etc/.wh.group");
      expect(peek.stdout.match(/, complete\n/g)?.length).toBe(2);
    }
  }, 60_000);

  test("inspect, history, manifest, config, find work on each form; a layout keeps the registry's bytes", async () => {
    const layout = `oci:${at("layout")}:v1`;
    await same((i) => ["manifest", i], registry("local/oci"), layout);
    await same((i) => ["config", i], registry("local/oci"), layout);
    await same((i) => ["history", i], registry("local/oci"), layout);
    await same((i) => ["find", i, "*.sh"], registry("local/oci"), `oci-archive:${at("oci.tar")}`);
    const inspect = await runCli(["inspect", layout, "--json"]);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ reference: layout, digest: oci.digest, layers: oci.layers.map((l) => ({ digest: l.digest, size: l.size })) });
    // By digest instead of tag.
    const byDigest = await runCli(["inspect", `oci:${at("layout")}@${oci.digest}`, "--json"]);
    expect(JSON.parse(byDigest.stdout).digest).toBe(oci.digest);
    // docker save's legacy form: the layers are the plain tars, named by their diff_ids.
    const legacy = JSON.parse((await runCli(["inspect", `docker-archive:${at("docker.tar")}`, "--json"])).stdout);
    expect(legacy.layers.map((l: { digest: string }) => l.digest)).toEqual(plain.layers.map((l) => l.digest));
    const platforms = await runCli(["platforms", `docker-archive:${at("docker-oci.tar")}`]);
    expect(platforms.stdout).toMatch(/^linux\/amd64 +sha256:/m);
  });

  test("save writes the layers verified, named by digest, under the local image's name", async () => {
    const out = at("saved");
    const r = await runCli(["save", `oci-archive:${at("oci.tar")}:v1`, "-o", out]);
    expect(r.code).toBe(0);
    for (const l of oci.layers) {
      const file = readdirSync(out).find((f) => f.startsWith(l.digest.replace(":", "_")))!;
      expect(new Uint8Array(readFileSync(join(out, file)))).toEqual(new Uint8Array(l.bytes));
    }
    const legacy = await runCli(["save", `docker-archive:${at("docker.tar")}:local/plain:v1`, "--layer", "0"], { cwd: work });
    expect(legacy.code).toBe(0);
    expect(new Uint8Array(readFileSync(join(work, "downloads", "local_plain", "v1", `${plain.layers[0]!.digest.replace(":", "_")}.tar`)))).toEqual(
      new Uint8Array(plain.layers[0]!.bytes),
    );
  });

  test("bad local input: one line, the right exit code", async () => {
    const broken = at("broken");
    mkdirSync(broken);
    writeFileSync(at("not-a-tar.tar"), "just text, no tar header here\n".repeat(40));
    const cases: [string[], number, RegExp][] = [
      [["ls", `oci:${at("missing")}`], 4, /missing: no such file or directory$/],
      [["ls", `oci:${broken}:v1`], 4, /not an OCI image layout \(no index\.json\)$/],
      [["ls", `oci:${at("layout")}:nope`], 4, /no image tagged "nope" \(tags: v1, multi, plain\)$/],
      [["ls", `oci:${at("layout")}`], 2, /holds 3 images; name one with :TAG or @sha256:…/],
      [["ls", `oci:${at("layout")}@sha256:${"0".repeat(64)}`], 4, /no such file|missing/],
      [["ls", `oci:${at("oci.tar")}`], 2, /not a directory/],
      [["ls", `oci-archive:${at("missing.tar")}`], 4, /missing\.tar: no such file or directory$/],
      [["ls", `oci-archive:${at("not-a-tar.tar")}`], 7, /not a tar archive$/],
      [["ls", `oci-archive:${broken}`], 9, /broken: not a regular file$/],
      [["ls", `docker-archive:${at("docker.tar")}:local/other:v1`], 4, /holds no image docker\.io\/local\/other:v1 \(it holds: docker\.io\/local\/plain:v1\)$/],
      [["tags", `oci:${at("layout")}`], 2, /is a local image \(oci:\); this command works on a registry repository$/],
      [["ls", "oci:"], 2, /the path is missing$/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(args);
      expect({ args, code: r.code, lines: r.stderr.trimEnd().split("\n").length }).toEqual({ args, code, lines: 1 });
      expect(r.stderr.trimEnd()).toMatch(message);
    }
  });

  test("a digest mismatch inside an archive or a layout is CORRUPT (exit 7)", async () => {
    // A layer of the legacy archive, one byte of a file's content changed in place.
    const bytes = new Uint8Array(readFileSync(at("docker.tar")));
    const needle = new TextEncoder().encode("welcome to the local image");
    let pos = -1;
    for (let i = 0; i + needle.length <= bytes.length && pos < 0; i++) if (needle.every((b, k) => bytes[i + k] === b)) pos = i;
    expect(pos).toBeGreaterThan(0);
    bytes[pos] = "W".charCodeAt(0);
    writeFileSync(at("tampered.tar"), bytes);
    const r = await runCli(["ls", `docker-archive:${at("tampered.tar")}`, "/", "-R"]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^layerslayer: layer 1: .*the blob's bytes hash to sha256:[0-9a-f]{64}, not its digest\n$/);
    // The config of a layout, changed: refused before anything is listed.
    const copy = at("layout-tampered");
    cpSync(at("layout"), copy, { recursive: true });
    const configPath = join(copy, "blobs", ...oci.configDigest.split(":"));
    writeFileSync(configPath, readFileSync(configPath, "utf8").replace("ADD base.tar", "ADD evil.tar"));
    const c = await runCli(["inspect", `oci:${copy}:v1`]);
    expect(c.code).toBe(7);
    expect(c.stderr).toMatch(/\(image config\): the bytes hash to sha256:[0-9a-f]{64}, not sha256:/);
  });

  // Links that lead out of the image: refused even when what they point to holds the right bytes
  // (only the link itself is wrong); links that stay inside are followed.
  test("a layout whose blob, blob directory or index.json is a link out of it: exit 7, one line, nothing read", async () => {
    const layer = oci.layers[0]!;
    const hex = layer.digest.split(":")[1]!;
    const outside = at("outside");
    mkdirSync(outside, { recursive: true });
    const cases: [string, (dir: string) => void, string][] = [
      [
        "the layer blob",
        (dir) => {
          const blob = join(dir, "blobs", "sha256", hex);
          cpSync(blob, join(outside, hex));
          rmSync(blob);
          symlinkSync(join(outside, hex), blob);
        },
        `blobs/sha256/${hex}`,
      ],
      [
        "the blobs/sha256 directory",
        (dir) => {
          const blobs = join(dir, "blobs", "sha256");
          cpSync(blobs, join(outside, "sha256"), { recursive: true });
          rmSync(blobs, { recursive: true });
          symlinkSync(join(outside, "sha256"), blobs);
        },
        "index.json",
      ],
      [
        "index.json, relatively",
        (dir) => {
          cpSync(join(dir, "index.json"), join(outside, "index.json"));
          rmSync(join(dir, "index.json"));
          symlinkSync("../outside/index.json", join(dir, "index.json"));
        },
        "index.json",
      ],
    ];
    for (const [what, plant, named] of cases) {
      const dir = at(`layout-link-${what.replace(/\W+/g, "-")}`);
      cpSync(at("layout"), dir, { recursive: true });
      plant(dir);
      const r = await runCli(["peek", `oci:${dir}:v1`, "--full"]);
      expect({ what, code: r.code, lines: r.stderr.trimEnd().split("\n").length }).toEqual({ what, code: 7, lines: 1 });
      // The first file read through the link names it (the manifest's blob, when the whole directory is a link).
      expect(r.stderr).toMatch(new RegExp(`"(${named.replace(/\./g, "\\.")}|blobs/sha256/[0-9a-f]{64})" is a link to .*, outside the image directory; refusing it\n$`));
    }
    // A link that stays inside the layout is followed.
    const inside = at("layout-link-inside");
    cpSync(at("layout"), inside, { recursive: true });
    mkdirSync(join(inside, "store"));
    cpSync(join(inside, "blobs", "sha256", hex), join(inside, "store", hex));
    rmSync(join(inside, "blobs", "sha256", hex));
    symlinkSync(`../../store/${hex}`, join(inside, "blobs", "sha256", hex));
    await same((i) => ["peek", i, "--full"], registry("local/oci"), `oci:${inside}:v1`);
  });

  test("an archive whose blob is a link out of it (absolute, or climbing above its root): exit 7, one line", async () => {
    const hex = oci.layers[0]!.digest.split(":")[1]!;
    for (const target of ["/etc/passwd", "../../../outside.bin", "../../.."]) {
      const dir = at(`archive-link-${target.replace(/\W+/g, "-")}`);
      cpSync(at("layout"), dir, { recursive: true });
      rmSync(join(dir, "blobs", "sha256", hex));
      symlinkSync(target, join(dir, "blobs", "sha256", hex));
      const file = `${dir}.tar`;
      tarDir(dir, file);
      const r = await runCli(["peek", `oci-archive:${file}:v1`, "--full"]);
      expect({ target, code: r.code, lines: r.stderr.trimEnd().split("\n").length }).toEqual({ target, code: 7, lines: 1 });
      expect(r.stderr).toContain(`"blobs/sha256/${hex}" is a link to ${target}, outside the archive; refusing it`);
    }
  });

  test("a blob file whose size differs from the descriptor's: exit 7 at once, naming the file, not a registry", async () => {
    const layer = oci.layers[0]!;
    for (const [how, change] of [
      ["longer", (b: Uint8Array) => Buffer.concat([b, new Uint8Array([0])])],
      ["shorter", (b: Uint8Array) => b.subarray(0, b.length - 10)],
    ] as const) {
      const dir = at(`layout-size-${how}`);
      cpSync(at("layout"), dir, { recursive: true });
      const blob = join(dir, "blobs", "sha256", layer.digest.split(":")[1]!);
      writeFileSync(blob, change(new Uint8Array(readFileSync(blob))));
      for (const args of [
        ["peek", `oci:${dir}:v1`, "--full"],
        ["peek", `oci:${dir}:v1`, "--budget", "2K"],
        ["cat", `oci:${dir}:v1`, "/etc/passwd"],
      ]) {
        const r = await runCli(args);
        expect({ args, code: r.code }).toEqual({ args, code: 7 });
        const size = layer.size + (how === "longer" ? 1 : -10);
        expect(r.stderr.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`the file gives the blob's size as ${size} bytes, the descriptor ${layer.size}$`));
        expect(r.stderr).not.toContain("registry");
        expect(r.stderr).not.toContain("bad answers");
      }
    }
  });

  test("a budgeted peek reads the same bytes from a file as from the registry", async () => {
    for (const local of [`oci:${at("layout")}:v1`, `oci-archive:${at("oci.tar")}:v1`]) {
      const r = await same((i) => ["peek", i, "--budget", "2K"], registry("local/oci"), local);
      expect(r.stdout).toMatch(/^downloaded 2\.0K of 197K \(1\.0%\), decompressed \d+K, \d+ entries, partial \(budget reached\)$/m);
    }
  });

  test("a multi-platform index in a layout: platforms, and --platform picks the image", async () => {
    const multi = `oci:${at("layout")}:multi`;
    await same((i) => ["platforms", i], registry("local/multi"), multi);
    const arm = await same((i) => ["cat", i, "/etc/arch", "--platform", "linux/arm64"], registry("local/multi"), multi);
    expect(arm.stdout).toBe("arm64\n");
    await same((i) => ["ls", i, "/etc", "--platform", "linux/amd64"], registry("local/multi"), multi);
  });

  test("the library reads local images by the same names", async () => {
    const { bytes, result } = await readImageFile(`docker-archive:${at("docker.tar")}:local/plain:v1`, "/etc/motd");
    expect(new TextDecoder().decode(bytes)).toBe("welcome to the local image\n");
    expect(result.layer).toBe(1);
  });

  test("docker:// names a registry like a plain reference", async () => {
    await same((i) => ["ls", i, "/etc"], registry("local/oci"), `docker://${registry("local/oci")}`);
  });
});
