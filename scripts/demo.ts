/**
 * `npm run demo`: builds a small image from directories of this machine, serves it from a
 * loopback registry, and runs layerslayer's main commands against it, printing each one.
 *   npm run demo                 the built-in demo image
 *   npm run demo -- IMAGE        the same tour of a real image, e.g. alpine:3.20 (needs the network)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startDemoRegistry } from "./demo/registry.ts";
import { tarDirectory } from "./demo/tar-writer.ts";

const root = join(import.meta.dir, "..");

function osRelease(): string {
  for (const p of ["/usr/lib/os-release", "/etc/os-release"]) {
    try {
      return readFileSync(p, "utf8");
    } catch {}
  }
  return "NAME=unknown\n";
}

function buildDemoImage(): { host: string; stop: () => void } {
  const reg = startDemoRegistry();
  const first = ["/usr/share/doc", "/usr/share/common-licenses", "/etc"].find((d) => existsSync(d)) ?? root;
  const layers = [
    tarDirectory("/etc", "etc", 4 << 20, [
      { path: "etc/demo-release", content: "NAME=layerslayer demo\nVERSION=1\n" },
      // /etc/os-release is usually a symlink to ../usr/lib/os-release: give it a target.
      { path: "usr/lib/os-release", content: osRelease() },
    ]),
    tarDirectory(first, "usr/share/doc", 24 << 20),
    tarDirectory(join(root, "src"), "app/src", 1 << 20, [
      { path: "etc/.wh.demo-release", content: "" },
      { path: "app/README", content: "peeked, not pulled\n" },
    ]),
  ].map((tar) => Bun.gzipSync(tar as Uint8Array<ArrayBuffer>));
  const descs = layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: reg.put("demo/app", undefined, l), size: l.length }));
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: new Date().toISOString(),
      config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/app" },
      rootfs: { type: "layers", diff_ids: descs.map((d) => d.digest) },
      history: [
        { created_by: "ADD etc.tar /" },
        { created_by: "COPY docs /usr/share/doc" },
        { created_by: "ENV PATH=/usr/local/bin:/usr/bin:/bin", empty_layer: true },
        { created_by: "COPY src /app/src # and delete /etc/demo-release" },
      ],
    }),
  );
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: reg.put("demo/app", undefined, config), size: config.length },
      layers: descs,
    }),
  );
  reg.put("demo/app", "latest", manifest, "application/vnd.oci.image.manifest.v1+json");
  return { host: reg.host, stop: reg.stop };
}

async function show(args: string[]): Promise<void> {
  process.stdout.write(`\n$ layerslayer ${args.join(" ")}\n`);
  const proc = Bun.spawn([process.execPath, join(root, "src/cli/main.ts"), ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const lines = out.split("\n");
  const shown = lines.length > 26 ? [...lines.slice(0, 20), `  … (${lines.length - 23} more lines)`, ...lines.slice(-3)] : lines;
  process.stdout.write(shown.join("\n"));
  if (err)
    process.stdout.write(
      err
        .split("\n")
        .map((l) => (l ? `[stderr] ${l}` : l))
        .join("\n"),
    );
}

const asked = process.argv[2];
const demo = asked ? undefined : buildDemoImage();
const image = asked ?? `${demo!.host}/demo/app:latest`;
try {
  await show(["inspect", image]);
  await show(["history", image]);
  await show(["peek", image, "--layer", "-1", "--budget", "64K"]);
  await show(["ls", image, "/", "-l"]);
  await show(["find", image, "*release*"]);
  await show(["cat", image, "/etc/os-release"]);
  if (!asked) await show(["cat", image, "/etc/demo-release"]);
} finally {
  demo?.stop();
}
