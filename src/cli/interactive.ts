import { defineCommand } from "citty";
import { join } from "node:path";
import { blobFileName, downloadBlob } from "../blob/download.ts";
import { LayerslayerError } from "../errors.ts";
import { log } from "./log.ts";
import { selectLayers } from "../image/select.ts";
import { humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { ProgressBar } from "../output/progress.ts";
import { alignHistory } from "../oci/config.ts";
import { imageEntries, isForeignLayer, parseManifest, type Platform } from "../oci/manifest.ts";
import { formatPlatform, hostPlatform } from "../oci/platform.ts";
import { resolveImage } from "../oci/resolve.ts";
import type { ImageSource } from "../source/source.ts";
import { accessArgs, cacheArg, imageArg, outputArgs, platformArg, setup, type Context, type GlobalArgs } from "./common.ts";
import { drawsProgress } from "./layer-progress.ts";
import { page } from "./pager.ts";
import { DEFAULT_BUDGET } from "./budget.ts";
import { peekLayerText } from "./peek-layer.ts";
import { confirm, PromptCancelled, select, text, type Terminal } from "./prompt.ts";
import { defaultDirectory } from "./downloads.ts";

/** The questions the session asks; a terminal answers them (src/cli/prompt.ts), tests through a script. */
export interface Prompter {
  select(message: string, options: { label: string; value: string }[], initial: string): Promise<string>;
  text(message: string, initial: string): Promise<string>;
  confirm(message: string): Promise<boolean>;
}

/** The prompts on the real terminal. */
export function terminalPrompter(term: Terminal = { input: process.stdin, output: process.stdout }): Prompter {
  return {
    select: (message, options, initial) => select(term, message, options, initial),
    text: (message, initial) => text(term, message, initial),
    confirm: (message) => confirm(term, message),
  };
}

/** Chooses the platform: asks only when the reference names an index with several images. */
async function choosePlatform(ctx: Context, source: ImageSource, prompter: Prompter): Promise<Platform | undefined> {
  if (ctx.platform) return ctx.platform;
  const top = await source.manifest();
  const parsed = parseManifest(top.bytes, top.mediaType, source.reference);
  if (parsed.kind !== "index") return undefined;
  const images = imageEntries(parsed.index);
  if (images.length <= 1) return undefined;
  const host = formatPlatform(hostPlatform());
  const options = images.map((d) => ({ label: `${escapeName(formatPlatform(d.platform))}  ${d.digest.slice(0, 19)}`, value: formatPlatform(d.platform) }));
  const initial = options.find((o) => o.value === host || o.value.startsWith(`${host}/`))?.value ?? options[0]!.value;
  const chosen = await prompter.select("Platform", options, initial);
  return images.find((d) => formatPlatform(d.platform) === chosen)?.platform;
}

/** The whole session: platform, build steps, layers to peek, peek each, offer to save each. */
export async function runInteractive(ctx: Context, source: ImageSource, prompter: Prompter, term: Terminal = { input: process.stdin, output: process.stdout }): Promise<void> {
  // Everything the session shows goes to its terminal, in order with the prompts and the pager
  // (not through stdout.ts, whose writes would not interleave with the terminal stream's).
  const writeOut = (line: string) => term.output.write(line.endsWith("\n") ? line : `${line}\n`);
  const platform = await choosePlatform(ctx, source, prompter);
  const img = await resolveImage(source, platform);
  const layers = img.manifest.image.layers;
  const { steps, stepOfLayer } = alignHistory(img.config, layers.length);
  writeOut(`${escapeName(source.reference)}  ${img.manifest.digest}  ${platform ? escapeName(formatPlatform(platform)) : ""}`.trimEnd());
  writeOut("Build steps:");
  for (const s of steps)
    writeOut(
      `  [${s.index}] ${escapeName(s.createdBy || "-").slice(0, 160)} ${s.layer !== undefined ? `(layer ${s.layer}, ${humanSize(layers[s.layer]!.size)})` : "(metadata only)"}`,
    );
  if (steps.length === 0) layers.forEach((l, i) => writeOut(`  layer ${i}: ${l.digest} (${humanSize(l.size)})`));
  let picked: number[] | undefined;
  while (!picked) {
    const answer = (await prompter.text(`Layers to peek (0-${layers.length - 1}, e.g. 0,2 or 1-3, or ALL)`, "ALL")).trim();
    try {
      picked = selectLayers(answer || "ALL", layers);
    } catch (e) {
      if (!(e instanceof LayerslayerError)) throw e;
      log.error(e.message);
    }
  }
  const directory = defaultDirectory(source);
  for (const i of picked) {
    // A layer's listing is read whole (it is budgeted), then shown a page at a time when it is long.
    let listing = "";
    const peeked = await peekLayerText(ctx, source, layers, i, { budget: DEFAULT_BUDGET, step: stepOfLayer[i]?.createdBy, write: (t) => (listing += t) });
    await page(term, listing);
    if (peeked.error) log.error(`layer ${i}: ${peeked.error.message}`);
    const desc = layers[i]!;
    if (isForeignLayer(desc)) {
      ctx.note(`layer ${i} is a foreign layer hosted outside the registry: not offered for download`);
      continue;
    }
    if (!(await prompter.confirm(`Download layer ${i} (${humanSize(desc.size)})?`))) continue;
    const bar = drawsProgress({ quiet: ctx.quiet, json: false }) ? new ProgressBar(process.stderr) : undefined;
    bar?.start(`layer ${i}`, desc.size);
    const path = join(directory, blobFileName(desc));
    try {
      const r = await downloadBlob(
        { source, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, label: `layer ${i}` },
        path,
        bar ? { onProgress: (p) => bar.update(p.done, p.downloaded, p.phase) } : {},
      );
      bar?.clear();
      writeOut(`${r.status === "present" ? "present" : "saved"} ${escapeName(r.path)} (${humanSize(r.size)})`);
    } catch (e) {
      bar?.clear();
      throw e;
    }
  }
}

export default defineCommand({
  meta: { name: "interactive", description: "Guided session on a terminal: pick a platform and layers, peek them, save the ones you want" },
  args: {
    ...imageArg,
    ...platformArg,
    ...accessArgs,
    ...cacheArg,
    quiet: outputArgs.quiet,
    verbose: outputArgs.verbose,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw new LayerslayerError("USAGE", "interactive needs a terminal; for scripts use inspect, peek and save");
    }
    try {
      await runInteractive(ctx, source, terminalPrompter());
    } catch (e) {
      if (e instanceof PromptCancelled) {
        process.exitCode = 130;
        return;
      }
      throw e;
    }
  },
});
