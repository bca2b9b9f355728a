/**
 * Tables of what Docker Hub and registry searches return: every server string escaped
 * (names.ts escapeName) and cut to its column, counts in a few characters, times as dates.
 */
import type { HubImage, HubRepository, HubTag } from "../hub/shapes.ts";
import { escapeName } from "../names.ts";
import type { SearchResult } from "../registry/search.ts";
import { formatTable, humanSize, type Align } from "./format.ts";

/** Widest NAME and DESCRIPTION shown (podman search cuts descriptions at 44). */
const NAME_WIDTH = 60;
const DESCRIPTION_WIDTH = 44;

/**
 * A server string for a table cell: whitespace runs as one space, escaped, at most `max` code
 * points (the last one "…" when cut; an escape sequence is never cut in half). "-" when absent.
 */
export function cell(text: string | undefined, max: number): string {
  if (text === undefined || text === "") return "-";
  const shown = [...escapeName(text.replace(/[\t\n\r ]+/g, " ").trim())];
  if (shown.length <= max) return shown.join("");
  const cut = shown
    .slice(0, max - 1)
    .join("")
    .replace(/\\(?:x[0-9a-f]?|u[0-9a-f]{0,3})?$/, "");
  return `${cut}…`;
}

/** A count in at most five characters, 1000-based: 999, 1.2K, 12K, 7.0B; "-" when absent. */
export function compactCount(n: number | undefined): string {
  if (n === undefined) return "-";
  if (n < 1000) return String(n);
  const units = ["K", "M", "B", "T"];
  let value = n;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return value < 10 ? `${(Math.floor(value * 10) / 10).toFixed(1)}${units[unit]}` : `${Math.floor(value)}${units[unit]}`;
}

/** An ISO time as its UTC date (YYYY-MM-DD); "-" when absent. */
export function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : "-";
}

/** An ISO time as "YYYY-MM-DD HH:MM" (UTC); "-" when absent. */
function minute(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : "-";
}

/** Search results as `podman search` lays them out, with pulls and the last update added. */
export function searchTable(results: readonly SearchResult[]): string[] {
  const rows = results.map((r) => [
    cell(r.name, NAME_WIDTH),
    cell(r.description, DESCRIPTION_WIDTH),
    compactCount(r.stars),
    compactCount(r.pulls),
    r.official ? "[OK]" : "",
    day(r.updated),
  ]);
  const align: Align[] = ["left", "left", "right", "right", "left", "left"];
  return formatTable([["NAME", "DESCRIPTION", "STARS", "PULLS", "OFFICIAL", "UPDATED"], ...rows], align);
}

/** A namespace's repositories: name, pulls, stars, last update, description. */
export function repositoryTable(repos: readonly HubRepository[]): string[] {
  const rows = repos.map((r) => [
    cell(r.name, NAME_WIDTH),
    compactCount(r.pulls),
    compactCount(r.stars),
    day(r.updated),
    r.private ? "private" : cell(r.description, DESCRIPTION_WIDTH),
  ]);
  return formatTable([["NAME", "PULLS", "STARS", "UPDATED", "DESCRIPTION"], ...rows], ["left", "right", "right", "left", "left"]);
}

function imageCells(i: HubImage | undefined): string[] {
  return i ? [cell(i.platform, 40), i.digest ?? "-"] : ["-", "-"];
}

/** Tags newest first, one line per platform image (the tag's columns on its first line only). */
export function tagTable(tags: readonly HubTag[]): string[] {
  const rows: string[][] = [["TAG", "PUSHED", "SIZE", "PLATFORM", "DIGEST"]];
  for (const t of tags) {
    const images: (HubImage | undefined)[] = t.images.length ? t.images : [undefined];
    images.forEach((img, k) => {
      const head = k === 0 ? [cell(t.name, NAME_WIDTH), minute(t.pushed), t.size === undefined ? "-" : humanSize(t.size)] : ["", "", ""];
      rows.push([...head, ...imageCells(img)]);
    });
  }
  return formatTable(rows, ["left", "left", "right", "left", "left"]);
}

/** A Docker Hub list as `--json` prints it (and `serve` answers it): `doc` with the items under `key`, `complete: false` when the list was cut short. */
export function hubListDocument<T>(doc: Record<string, unknown>, key: string, list: { items: T[]; error?: unknown }): Record<string, unknown> {
  return { ...doc, [key]: list.items, ...(list.error ? { complete: false } : {}) };
}
