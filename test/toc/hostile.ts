/**
 * The fixture's eStargz and zstd:chunked layers taken apart (test/support/forge-toc.ts), so a test
 * can push the same data under a TOC of its own making.
 */
import { streamLayer, type LayerResult, type LayerStreamOptions } from "../../src/layer/stream.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import type { Entry } from "../../src/types.ts";
import { forgeEstargz, forgeZstdChunked, splitEstargz, splitZstdChunked, type EstargzForgery, type TocLayer, type ZstdForgery } from "../support/forge-toc.ts";
import { pushImage } from "../support/fixtures.ts";
import type { TestRegistry } from "../support/registry.ts";
import type { TocImages } from "./fixture.ts";

export interface TocLayers {
  estargz: TocLayer;
  zstdChunked: TocLayer;
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** The fixture's two TOC layers, split at their TOCs. */
export async function tocLayers(reg: TestRegistry, images: TocImages): Promise<TocLayers> {
  const [repo, tag] = images.zstdChunked.split(":") as [string, string];
  const man = (await (await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: OCI_MANIFEST } })).json()) as {
    layers: { digest: string; annotations: Record<string, string> }[];
  };
  const layer = man.layers[0]!;
  const blob = new Uint8Array(await (await fetch(`${reg.url}/v2/${repo}/blobs/${layer.digest}`)).arrayBuffer());
  return {
    estargz: splitEstargz(images.estargzLayerBytes),
    zstdChunked: splitZstdChunked(blob, layer.annotations["io.containers.zstd-chunked.manifest-position"]!),
  };
}

export type Forgery = EstargzForgery & ZstdForgery & { annotate?: boolean };

/** Pushes `layer`'s data under a forged TOC as repo:tag (annotated unless `annotate` is false); returns the image's name. */
export async function pushForged(reg: TestRegistry, repo: string, tag: string, layer: TocLayer, forgery: Forgery): Promise<{ image: string; size: number }> {
  const forged = layer.format === "estargz" ? forgeEstargz(layer, forgery) : forgeZstdChunked(layer, forgery);
  await pushImage(reg, repo, tag, {
    layers: [{ bytes: forged.bytes, compression: layer.format === "estargz" ? "gzip" : "zstd", ...(forgery.annotate === false ? {} : { annotations: forged.annotations }) }],
  });
  return { image: `${repo}:${tag}`, size: forged.bytes.length };
}

export interface Listed {
  entries: Entry[];
  result: LayerResult;
  warnings: string[];
  layerSize: number;
}

/** Streams layer 0 of `image` (in `reg`) as `peek --full` does, with `opts`. */
export async function listLayer(reg: TestRegistry, image: string, opts: LayerStreamOptions = {}): Promise<Listed> {
  const source = new RegistrySource(new RegistryClient({ plainHttp: true }), parseReference(`${reg.host}/${image}`));
  const img = await resolveImage(source);
  const desc = img.manifest.image.layers[0]!;
  const warnings: string[] = [];
  const entries: Entry[] = [];
  const gen = streamLayer(source, desc, 0, { onWarning: (m) => warnings.push(m), ...opts });
  for (;;) {
    const next = await gen.next();
    if (next.done) return { entries, result: next.value, warnings, layerSize: desc.size };
    if (next.value.kind === "entry") entries.push(next.value.entry);
  }
}
