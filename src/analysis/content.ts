/**
 * The sha256 of chosen files' content, reading each layer that holds one of them once, from its
 * start to the last byte of the last member wanted from it (the download stops there). Used by
 * `diff --content` to tell equal-sized files apart: a file the same layer digest gives on both
 * sides is equal without being read.
 */
import { LayerslayerError } from "../errors.ts";
import { listLayer } from "../image/listing.ts";
import type { ResolvedImage } from "../oci/resolve.ts";

/** The members wanted from each layer index, by the tar offset of their header (`Entry.headerOffset`). */
export type Wanted = Map<number, Set<number>>;

/**
 * Digests ("sha256:…") of the wanted files' content, by layer index and header offset (the offset
 * names one member even where a layer holds a path twice).
 */
export async function contentDigests(img: ResolvedImage, wanted: Wanted, signal?: AbortSignal): Promise<{ digests: Map<number, Map<number, string>>; bytesDownloaded: number }> {
  const out = new Map<number, Map<number, string>>();
  let bytesDownloaded = 0;
  for (const [index, offsets] of wanted) {
    const desc = img.manifest.image.layers[index];
    if (!desc) throw new LayerslayerError("USAGE", `the image has no layer ${index}`);
    const digests = new Map<number, string>();
    let hasher: Bun.CryptoHasher | undefined;
    const listing = listLayer(img.source, desc, index, {
      signal,
      read: { wantContent: (e) => offsets.has(e.headerOffset) },
      onData: ({ entry, chunk, done }) => {
        hasher ??= new Bun.CryptoHasher("sha256");
        hasher.update(chunk);
        if (!done) return false;
        digests.set(entry.headerOffset, `sha256:${hasher.digest("hex")}`);
        hasher = undefined;
        // The download stops after the last wanted member.
        return digests.size === offsets.size;
      },
    });
    const { stats, error } = await listing.finish();
    if (error) throw new LayerslayerError(error.code, `layer ${index}: ${error.message}`);
    if (digests.size < offsets.size)
      throw new LayerslayerError("CORRUPT", `layer ${index}: ${offsets.size - digests.size} file(s) its listing names were not found in its tar stream`);
    out.set(index, digests);
    bytesDownloaded += stats.bytesDownloaded;
  }
  return { digests: out, bytesDownloaded };
}
