import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { exportMerged, type Write } from "../image/export.ts";
import { selectLayers } from "../image/select.ts";
import { layerTar } from "../layer/raw.ts";
import { escapeName } from "../names.ts";
import { humanSize } from "../output/format.ts";
import { globalArgs, imageArg, resolveFor, setup, type GlobalArgs } from "./common.ts";
import { openImageView } from "./image-view.ts";
import { FileSink, stdoutSink } from "./output-file.ts";
import { onStopSignal } from "./signals.ts";

/** Collects small writes (headers) into 64 KiB batches before they reach the file or the pipe. */
function batched(out: Write): { write: Write; flush: () => Promise<void> } {
  let parts: Uint8Array[] = [];
  let size = 0;
  const flush = async () => {
    if (size === 0) return;
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts = [];
    size = 0;
    await out(chunk);
  };
  return {
    write: async (chunk) => {
      parts.push(chunk);
      size += chunk.byteLength;
      if (size >= 1 << 16) await flush();
    },
    flush,
  };
}

export default defineCommand({
  meta: { name: "export", description: "Write the image's merged filesystem (whiteouts applied) as one tar, as crane export does; every layer read is verified" },
  args: {
    ...imageArg,
    layer: {
      type: "string",
      alias: "L",
      valueHint: "N|sha256:…",
      description: "One layer's tar as stored (decompressed, verified), instead of the merged filesystem (default: merged)",
    },
    output: {
      type: "string",
      alias: "o",
      valueHint: "FILE",
      description: "Write the tar to FILE (atomically: nothing is left on failure) or - for stdout (default: stdout, not a terminal)",
    },
    ...globalArgs,
  },
  async run({ args }) {
    const target = args.output === undefined || args.output === "-" ? undefined : args.output;
    if (!target && process.stdout.isTTY) throw new LayerslayerError("USAGE", "export writes a tar: give -o FILE, or redirect stdout");
    if ((args as GlobalArgs).json) throw new LayerslayerError("USAGE", "export writes a tar, not JSON: --json means nothing here");
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const img = args.layer === undefined ? undefined : await resolveFor(ctx, source);
    const picked = img ? selectLayers(args.layer, img.manifest.image.layers) : [];
    if (img && picked.length !== 1) throw new LayerslayerError("USAGE", `--layer ${escapeName(args.layer ?? "")}: names ${picked.length} layers; give one`);
    const view = img ? undefined : await openImageView(ctx, source);
    const file = target ? new FileSink(target) : undefined;
    const stopHandling = onStopSignal((_, exitCode) => {
      file?.abandon();
      process.exit(exitCode);
    });
    const out = batched(file ? (c) => file.write(c) : stdoutSink());
    try {
      if (view) {
        const r = await exportMerged(view.img, view.tree, out.write);
        await out.flush();
        file?.commit();
        ctx.note(
          `${r.members} members from ${view.layers.length} layers${target ? ` to ${escapeName(target)}` : ""}; ${humanSize(r.bytesDownloaded)} downloaded for ${r.layersRead.length} layers' files, each verified`,
        );
      } else {
        const index = picked[0]!;
        const tar = layerTar(img!.source, img!.manifest.image.layers[index]!, index);
        let next = await tar.next();
        for (; !next.done; next = await tar.next()) await out.write(next.value);
        await out.flush();
        file?.commit();
        ctx.note(`layer ${index}${target ? ` to ${escapeName(target)}` : ""}: ${humanSize(next.value.bytesDownloaded)} downloaded, verified`);
      }
    } catch (e) {
      file?.abandon();
      throw e;
    } finally {
      stopHandling();
    }
  },
});
