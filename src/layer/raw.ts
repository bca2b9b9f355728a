/**
 * One layer's tar as stored: the blob's bytes decompressed (gzip, zstd or none, as its bytes say),
 * read from byte 0 to its end and checked against its digest. The tar is handed on as it is
 * decoded; a blob that does not verify ends with CORRUPT after its last bytes were handed on (a
 * caller writing a file renames it into place only when the read ended well).
 */
import { BlobReader } from "../blob/reader.ts";
import { decodeLayer } from "../codec/index.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { isForeignLayer, type Descriptor } from "../oci/manifest.ts";
import type { ImageSource } from "../source/source.ts";

export async function* layerTar(source: ImageSource, layer: Descriptor, index: number, signal?: AbortSignal): AsyncGenerator<Uint8Array, { bytesDownloaded: number }> {
  if (isForeignLayer(layer)) throw new LayerslayerError("UNSUPPORTED", `layer ${index}: a foreign layer hosted at ${escapeName(layer.urls?.[0] ?? "")}, not in the registry`);
  const blob = new BlobReader({ source, digest: layer.digest, size: layer.size }, { verify: true, ...(signal ? { signal } : {}) });
  const decoded = decodeLayer(blob.chunks(), layer.mediaType, { offsets: "bounded" });
  for (;;) {
    const next = await decoded.next();
    if (next.done) break;
    yield next.value.data;
  }
  const error = blob.digestError();
  if (error) throw new LayerslayerError(error.code, `layer ${index}: ${error.message}`);
  if (!blob.verified) throw new LayerslayerError("CORRUPT", `layer ${index}: read to its end but not verified against its digest`);
  return { bytesDownloaded: blob.bytesDownloaded };
}
