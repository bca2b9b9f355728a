import { defineCommand } from "citty";
import { isAttestation, parseManifest } from "../oci/manifest.ts";
import { formatPlatform, platformOf } from "../oci/platform.ts";
import { parseConfig } from "../oci/config.ts";
import { MAX_CONFIG_BYTES } from "../oci/resolve.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { accessArgs, cacheArg, imageArg, outputArgs, printJson, setup, writeOut, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "platforms", description: "List the platforms a multi-platform image offers" },
  args: {
    ...imageArg,
    all: { type: "boolean", description: "Also list attestation and other non-image entries" },
    ...outputArgs,
    ...accessArgs,
    ...cacheArg,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const top = await source.manifest();
    const parsed = parseManifest(top.bytes, top.mediaType, source.reference);
    let rows: { platform: string; digest: string; size: number; mediaType: string; attestation: boolean }[];
    if (parsed.kind === "index") {
      rows = parsed.index.manifests
        .map((d) => ({ platform: formatPlatform(d.platform), digest: d.digest, size: d.size, mediaType: d.mediaType, attestation: isAttestation(d) }))
        .filter((r) => args.all || !r.attestation);
    } else {
      const cfg = parseConfig(await source.blobBytes(parsed.image.config.digest, MAX_CONFIG_BYTES, "image config"), source.reference);
      const platform = formatPlatform(platformOf(cfg));
      rows = [{ platform, digest: top.digest, size: top.bytes.byteLength, mediaType: parsed.image.mediaType, attestation: false }];
    }
    if (ctx.json) {
      printJson({ reference: source.reference, digest: top.digest, index: parsed.kind === "index", platforms: rows });
      return;
    }
    const table = [["PLATFORM", "DIGEST", "SIZE"], ...rows.map((r) => [escapeName(r.platform) + (r.attestation ? " (attestation)" : ""), r.digest, humanSize(r.size)])];
    writeOut(formatTable(table, ["left", "left", "right"]).join("\n"));
  },
});
