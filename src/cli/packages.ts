import { defineCommand } from "citty";
import { escapeName } from "../names.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { globalArgs, imageArg, printJson, setup, writeLines, type GlobalArgs } from "./common.ts";
import { imagePackages } from "./package-view.ts";

export default defineCommand({
  meta: { name: "packages", description: "List the installed packages (dpkg, apk, rpm) from the image's own databases, with the layer that installed each" },
  args: {
    ...imageArg,
    ...globalArgs,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const report = await imagePackages(ctx, source);
    if (ctx.json) {
      printJson({ reference: report.view.img.source.reference, databases: report.databases, packages: report.packages, bytesDownloaded: report.bytesDownloaded });
      return;
    }
    if (report.databases.length === 0) ctx.note("no package database found (dpkg, apk or rpm)");
    else
      ctx.note(
        `${report.packages.length} packages from ${report.databases.map((d) => `${d.manager} ${escapeName(d.path)} (layer ${d.layer})`).join(", ")}; ${humanSize(report.bytesDownloaded)} downloaded`,
      );
    if (report.packages.length === 0) return;
    const rows = report.packages.map((p) => [escapeName(p.name), escapeName(p.version), escapeName(p.architecture), escapeName(p.source ?? ""), String(p.layer ?? ""), p.manager]);
    await writeLines(formatTable([["NAME", "VERSION", "ARCH", "SOURCE", "LAYER", "MANAGER"], ...rows], ["left", "left", "left", "left", "right", "left"]));
  },
});
