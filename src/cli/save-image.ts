/** `save --format oci|docker-archive`: a complete image that skopeo, umoci, podman and docker read back. */
import { rmSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { LayerslayerError } from "../errors.ts";
import { dockerManifestJson, packLayout } from "../image/archive-writer.ts";
import { layoutImage, writeLayout } from "../image/layout-writer.ts";
import { escapeName } from "../names.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { downloadProgress } from "../layer/progress.ts";
import type { Context } from "./common.ts";
import { layerProgress } from "./layer-progress.ts";
import { FileSink } from "./output-file.ts";
import { onStopSignal } from "./signals.ts";

export type SaveFormat = "oci" | "docker-archive";

export interface SaveImageResult {
  format: SaveFormat;
  path: string;
  digest: string;
  images: number;
  layers: number;
}

/** The tag a saved image is named by, when the reference has one. */
function refName(img: ResolvedImage): string | undefined {
  return img.source.version.startsWith("sha256:") ? undefined : img.source.version;
}

export async function saveImage(ctx: Context, img: ResolvedImage, format: SaveFormat, path: string, allPlatforms: boolean): Promise<SaveImageResult> {
  if (format === "docker-archive" && allPlatforms) throw new LayerslayerError("USAGE", "--all-platforms needs --format oci: a docker-archive holds one image");
  const image = await layoutImage(img, allPlatforms);
  const controller = new AbortController();
  let stoppedWith = 0;
  // The progress line of every command that reads layers: the layers of every image, numbered in the order they are saved.
  const all = image.images.flatMap((im) => im.layers);
  const bar = layerProgress(
    ctx,
    all,
    all.map((_, k) => k),
    undefined,
    "saving",
  );
  let k = -1;
  let downloaded = 0;
  const finished = () => k >= 0 && bar?.listener(downloadProgress(k, all[k]!, { done: all[k]!.size, downloaded }, true));
  const progress = {
    onLayer: () => {
      finished();
      k++;
      downloaded = 0;
    },
    download: {
      signal: controller.signal,
      ...(bar
        ? {
            onProgress: (p: { done: number; downloaded: number }) => {
              downloaded = p.downloaded;
              bar.listener(downloadProgress(k, all[k]!, p));
            },
          }
        : {}),
    },
  };
  const layers = image.images.reduce((n, im) => n + im.layers.length, 0);
  const result = { format, path, digest: image.top.digest, images: image.images.length, layers };
  if (format === "oci") {
    const stop = onStopSignal((_, code) => {
      stoppedWith = code;
      controller.abort();
    });
    try {
      await writeLayout(img.source, image, path, refName(img), progress);
    } catch (e) {
      if (stoppedWith) process.exit(stoppedWith);
      throw e;
    } finally {
      bar?.clear();
      stop();
    }
    return result;
  }
  // docker-archive: the layout in a temp directory beside the file, packed, then removed.
  const staging = join(dirname(path), `.${basename(path)}.layerslayer-${process.pid}.layout`);
  const file = new FileSink(path);
  const cleanup = () => {
    file.abandon();
    rmSync(staging, { recursive: true, force: true });
  };
  const stop = onStopSignal((_, code) => {
    controller.abort();
    cleanup();
    process.exit(code);
  });
  try {
    await writeLayout(img.source, image, staging, refName(img), progress);
    bar?.clear();
    const tag = refName(img) && img.source.reference.endsWith(`:${refName(img)}`) ? [img.source.reference] : [];
    await packLayout(staging, dockerManifestJson(image, tag), (c) => file.write(c));
    file.commit();
    rmSync(staging, { recursive: true, force: true });
  } catch (e) {
    bar?.clear();
    cleanup();
    throw e;
  } finally {
    stop();
  }
  if (ctx.verbose) ctx.note(`packed ${escapeName(path)}`);
  return result;
}
