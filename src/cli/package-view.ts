import { MemberReader } from "../image/member-reader.ts";
import { readPackages, type PackageReport } from "../packages/read.ts";
import type { ImageSource } from "../source/source.ts";
import type { Context } from "./common.ts";
import { openImageView, type ImageView } from "./image-view.ts";

/** The installed packages of an image (what `packages` lists and `diff --packages` compares). */
export async function imagePackages(ctx: Context, source: ImageSource): Promise<PackageReport & { view: ImageView; bytesDownloaded: number }> {
  const view = await openImageView(ctx, source);
  const cache = ctx.useCache ? ctx.cache : undefined;
  const reader = new MemberReader(view.img, { ...(cache ? { cache, indexes: cache } : {}), onWarning: ctx.warn });
  try {
    return { ...(await readPackages(view.tree, reader)), view, bytesDownloaded: reader.bytesDownloaded };
  } finally {
    reader.save();
  }
}
