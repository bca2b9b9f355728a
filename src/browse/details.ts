/**
 * The image's details as the browser shows them (`i`): digest, platform, the config's run settings
 * and labels, and the history with the layer of each step. Every string comes from the image's
 * config: each is escaped here.
 */
import { escapeName } from "../names.ts";
import { alignHistory } from "../oci/config.ts";
import { formatPlatform } from "../oci/platform.ts";
import { imagePlatform } from "../oci/resolve.ts";
import { humanSize } from "../output/format.ts";
import type { EfficiencyReport } from "../analysis/efficiency.ts";
import type { OpenedImage } from "./core.ts";

const words = (v: string[] | null | undefined): string => (v && v.length > 0 ? v.map((w) => escapeName(w)).join(" ") : "-");

/** Wasted paths listed in the details, at most. */
const MAX_WASTE = 20;

export function detailLines(image: OpenedImage, efficiency?: EfficiencyReport): string[] {
  const { img } = image;
  const c = img.config.config ?? {};
  const layers = img.manifest.image.layers;
  const total = layers.reduce((n, l) => n + l.size, 0);
  const out = [
    `Reference    ${escapeName(image.reference)}`,
    `Digest       ${escapeName(image.digest)}`,
    `Platform     ${escapeName(formatPlatform(imagePlatform(img)))}`,
    `Created      ${escapeName(img.config.created ?? "-")}`,
    `Layers       ${layers.length}, ${humanSize(total)} compressed`,
    `User         ${escapeName(c.User || "-")}`,
    `Entrypoint   ${words(c.Entrypoint)}`,
    `Cmd          ${words(c.Cmd)}`,
    `WorkingDir   ${escapeName(c.WorkingDir || "-")}`,
  ];
  const env = c.Env ?? [];
  out.push(`Env          ${env.length === 0 ? "-" : escapeName(env[0]!)}`, ...env.slice(1).map((e) => `             ${escapeName(e)}`));
  const labels = Object.entries(c.Labels ?? {});
  out.push(`Labels       ${labels.length === 0 ? "-" : ""}`.trimEnd());
  for (const [k, v] of labels) out.push(`  ${escapeName(k)}=${escapeName(String(v))}`);
  if (efficiency) {
    out.push(
      "",
      `Efficiency   ${(efficiency.efficiency * 100).toFixed(1)} %, ${humanSize(efficiency.wastedBytes)} wasted (${(efficiency.wastedUserPercent * 100).toFixed(1)} % of the layers above the base), as dive counts`,
    );
    for (const w of efficiency.inefficiencies.slice(0, MAX_WASTE)) out.push(`  ${humanSize(w.cumulativeSize).padStart(6)}  ${escapeName(w.path)}  (layers ${w.layers.join(", ")})`);
  } else out.push("", "Efficiency   known once every layer is listed");
  out.push("", 'History (build steps; "-" made no layer)');
  for (const s of alignHistory(img.config, layers.length).steps) {
    out.push(`  ${s.layer === undefined ? "  -" : String(s.layer).padStart(3)}  ${escapeName(s.createdBy || "(no command)")}`);
  }
  return out;
}
