/** The record of one scanned image, as `scan --json` prints it (one NDJSON line) and a scan job lists it. */
import type { ImageOutcome } from "../scan/image.ts";

export function outcomeJson(o: ImageOutcome): Record<string, unknown> {
  return {
    reference: o.reference,
    platform: o.platform,
    digest: o.digest ?? null,
    layers: o.layers,
    layersRead: o.layersRead,
    layersSkipped: o.layersSkipped,
    partialLayers: o.partialLayers,
    bytesDownloaded: o.bytesDownloaded,
    entries: o.entries,
    ...(o.error ? { error: o.error } : {}),
  };
}
