import { defineCommand } from "citty";
import { describeImage } from "../output/image-json.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { imageArg, globalArgs, printJson, setupImage, writeOut, type GlobalArgs } from "./common.ts";

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
