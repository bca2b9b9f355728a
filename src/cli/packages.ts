import { defineCommand } from "citty";
import { MemberReader } from "../image/member-reader.ts";
import { escapeName } from "../names.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { readPackages } from "../packages/read.ts";
import { globalArgs, imageArg, printJson, setup, writeLines, type GlobalArgs } from "./common.ts";
import { openImageView } from "./image-view.ts";

export default defineCommand({
  meta: { name: "packages", description: "List the installed packages (dpkg, apk, rpm) from the image's own databases, with the layer that installed each" },
  args: {
    ...imageArg,
    ...globalArgs,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const view = await openImageView(ctx, source);
    const cache = ctx.useCache ? ctx.cache : undefined;
    const reader = new MemberReader(view.img, { ...(cache ? { cache, indexes: cache } : {}), onWarning: ctx.warn });
    let report;
    try {
      report = await readPackages(view.tree, reader);
    } finally {
      reader.save();
    }
    if (ctx.json) {
      printJson({ reference: view.img.source.reference, databases: report.databases, packages: report.packages, bytesDownloaded: reader.bytesDownloaded });
      return;
    }
    if (report.databases.length === 0) ctx.note("no package database found (dpkg, apk or rpm)");
    else ctx.note(`${report.packages.length} packages from ${report.databases.map((d) => `${d.manager} ${escapeName(d.path)} (layer ${d.layer})`).join(", ")}; ${humanSize(reader.bytesDownloaded)} downloaded`);
    if (report.packages.length === 0) return;
    const rows = report.packages.map((p) => [escapeName(p.name), escapeName(p.version), escapeName(p.architecture), escapeName(p.source ?? ""), String(p.layer ?? ""), p.manager]);
    await writeLines(formatTable([["NAME", "VERSION", "ARCH", "SOURCE", "LAYER", "MANAGER"], ...rows], ["left", "left", "left", "left", "right", "left"]));
  },
});
