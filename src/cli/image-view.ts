import { loadListings, type LayerListing } from "../image/load.ts";
import { MergedTree } from "../image/merge.ts";
import type { ImageRef } from "../ref/reference.ts";
import type { ResolvedImage } from "../registry/client.ts";
import { alignHistory, type Step } from "../registry/config.ts";
import { humanSize } from "../output/format.ts";
import type { Context } from "./common.ts";

export interface ImageView {
  img: ResolvedImage;
  tree: MergedTree;
  listings: LayerListing[];
  stepOfLayer: (Step | undefined)[];
}


/** Resolves the image and loads the complete listing of every layer (cache first) into a merged tree. */
export async function openImageView(ctx: Context, ref: ImageRef, layers?: number[]): Promise<ImageView> {
  const img = await ctx.client.resolveImage(ref, ctx.platform);
  const all = img.manifest.image.layers.map((_, i) => i);
  const indexes = layers ?? all;
  const tty = process.stderr.isTTY && !ctx.quiet && !ctx.json;
  let done = 0;
  const listings = await loadListings(ctx.client, ref, img, indexes, {
    ...(ctx.useCache ? { cache: ctx.cache } : {}),
    onLayer: () => {
      done++;
      if (tty) process.stderr.write(`\r\x1b[2Kreading layers: ${done}/${indexes.length}`);
    },
  });
  if (tty) process.stderr.write("\r\x1b[2K");
  const tree = new MergedTree();
  for (const l of listings) tree.addLayer(l.entries, l.index);
  const downloaded = listings.reduce((n, l) => n + l.stats.bytesDownloaded, 0);
  const cached = listings.filter((l) => l.cached).length;
  if (ctx.verbose) ctx.note(`${listings.length} layer listings: ${cached} from the cache, ${humanSize(downloaded)} downloaded`);
  return { img, tree, listings, stepOfLayer: alignHistory(img.config, img.manifest.image.layers.length).stepOfLayer };
}
