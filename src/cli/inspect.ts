import { defineCommand } from "citty";
import { alignHistory } from "../oci/config.ts";
import { formatPlatform } from "../oci/platform.ts";
import { imagePlatform, type ResolvedImage } from "../oci/resolve.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { imageArg, globalArgs, printJson, setupImage, writeOut, type GlobalArgs } from "./common.ts";

/** A member of the server's config that should be a JSON object, or an empty one when it is not. */
function objectOr<T>(v: Record<string, T> | null | undefined): Record<string, T> {
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}

/** Everything `inspect` shows, as data. */
export function describeImage(img: ResolvedImage) {
  const { stepOfLayer } = alignHistory(img.config, img.manifest.image.layers.length);
  const c = img.config.config ?? {};
  return {
    reference: img.source.reference,
    digest: img.manifest.digest,
    mediaType: img.manifest.mediaType,
    ...(img.index ? { index: { digest: img.index.digest, mediaType: img.index.mediaType } } : {}),
    platform: formatPlatform(imagePlatform(img)),
    ...(img.config.created ? { created: img.config.created } : {}),
    config: {
      entrypoint: c.Entrypoint ?? null,
      cmd: c.Cmd ?? null,
      env: Array.isArray(c.Env) ? c.Env : [],
      user: c.User ?? "",
      workdir: c.WorkingDir ?? "",
      labels: objectOr(c.Labels),
      exposedPorts: Object.keys(objectOr(c.ExposedPorts)),
    },
    layers: img.manifest.image.layers.map((l, index) => ({
      index,
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      createdBy: stepOfLayer[index]?.createdBy ?? null,
      ...(l.urls ? { urls: l.urls } : {}),
    })),
    totalSize: img.manifest.image.layers.reduce((n, l) => n + l.size, 0),
  };
}

function shortType(mt: string): string {
  return escapeName(mt).replace(/^application\/vnd\.(oci\.image\.|docker\.image\.rootfs\.diff\.)?/, "");
}

function oneLine(s: string, max = 80): string {
  const flat = escapeName(s.replace(/\s+/g, " "));
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function renderText(d: ReturnType<typeof describeImage>): string {
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`${`${k}:`.padEnd(12)}${v}`);
  kv("Reference", d.reference);
  kv("Digest", d.digest);
  kv("Media type", escapeName(d.mediaType));
  if (d.index) kv("Index", `${d.index.digest} (${escapeName(d.index.mediaType)})`);
  kv("Platform", escapeName(d.platform));
  if (d.created) kv("Created", escapeName(String(d.created)));
  const list = (v: string[] | null) => (v && v.length ? JSON.stringify(v) : "-");
  kv("Entrypoint", escapeName(list(d.config.entrypoint)));
  kv("Cmd", escapeName(list(d.config.cmd)));
  kv("User", escapeName(String(d.config.user || "-")));
  kv("Workdir", escapeName(String(d.config.workdir || "-")));
  if (d.config.exposedPorts.length) kv("Ports", d.config.exposedPorts.map(escapeName).join(", "));
  lines.push("Env:");
  for (const e of d.config.env) lines.push(`  ${escapeName(String(e))}`);
  const labels = Object.entries(d.config.labels);
  if (labels.length) {
    lines.push("Labels:");
    for (const [k, v] of labels) lines.push(`  ${escapeName(k)}=${escapeName(String(v))}`);
  }
  lines.push(`Layers: ${d.layers.length}, ${humanSize(d.totalSize)} compressed`);
  const rows = [["#", "DIGEST", "SIZE", "TYPE", "CREATED BY"]];
  for (const l of d.layers) rows.push([String(l.index), l.digest.slice(0, 19), humanSize(l.size), shortType(l.mediaType), oneLine(l.createdBy ?? "-")]);
  for (const row of formatTable(rows, ["right", "left", "right", "left", "left"])) lines.push(`  ${row}`);
  return lines.join("\n");
}

export default defineCommand({
  meta: { name: "inspect", description: "Show an image's digest, platform, config and layers with the build step of each" },
  args: {
    ...imageArg,
    ...globalArgs,
  },
  async run({ args }) {
    const { ctx, img } = await setupImage(args as GlobalArgs & { image: string });
    const d = describeImage(img);
    if (ctx.json) printJson(d);
    else writeOut(renderText(d));
  },
});
