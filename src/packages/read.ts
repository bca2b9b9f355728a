/**
 * The installed packages of an image, from its own package databases, each with the layer that
 * wrote its current record:
 *   dpkg  /var/lib/dpkg/status, or distroless's /var/lib/dpkg/status.d/*: the layer is the one that
 *         wrote the package's file list (var/lib/dpkg/info/NAME[:ARCH].list; dpkg rewrites it when
 *         it installs or upgrades the package), or its status.d file; metadata only
 *   apk   /lib/apk/db/installed: every version of the file the layers wrote is read; a package's
 *         layer is the lowest one from which on every version lists it unchanged
 *   rpm   rpmdb.sqlite under /var/lib/rpm or /usr/lib/sysimage/rpm: the same
 * rpm's BerkeleyDB (Packages) and ndb (Packages.db) databases are named as unsupported (exit 8).
 */
import { LayerslayerError } from "../errors.ts";
import type { MergedNode, MergedTree } from "../image/merge.ts";
import type { MemberReader } from "../image/member-reader.ts";
import { resolvePath } from "../image/resolve.ts";
import { parseApkInstalled } from "./apk.ts";
import { dpkgListPaths, parseDpkgStatus } from "./dpkg.ts";
import { MAX_DATABASE_BYTES, type Package } from "./model.ts";
import { parseRpmSqlite } from "./rpm.ts";

export interface PackageDatabase {
  manager: Package["manager"];
  /** Absolute path of the database file (or directory, for status.d) after symlinks. */
  path: string;
  /** The layer that wrote its current version. */
  layer: number;
}

export interface PackageReport {
  packages: Package[];
  databases: PackageDatabase[];
}

const DPKG_STATUS = "var/lib/dpkg/status";
const DPKG_STATUS_D = "var/lib/dpkg/status.d";
const APK_INSTALLED = "lib/apk/db/installed";
const RPM_SQLITE = ["usr/lib/sysimage/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite"];
const RPM_UNSUPPORTED: [string, string][] = [
  ["var/lib/rpm/Packages", "BerkeleyDB"],
  ["usr/lib/sysimage/rpm/Packages", "BerkeleyDB"],
  ["var/lib/rpm/Packages.db", "ndb"],
  ["usr/lib/sysimage/rpm/Packages.db", "ndb"],
];

/** The node at `path` after symlinks, or undefined when there is none. */
function find(tree: MergedTree, path: string): MergedNode | undefined {
  try {
    return resolvePath(tree, `/${path}`, { followFinal: true }).node;
  } catch (e) {
    if (e instanceof LayerslayerError && e.code === "NOT_FOUND") return undefined;
    throw e;
  }
}

const isFile = (n: MergedNode | undefined): n is MergedNode => n?.entry.type === "file" || n?.entry.type === "contiguous";

export async function readPackages(tree: MergedTree, reader: MemberReader): Promise<PackageReport> {
  const packages: Package[] = [];
  const databases: PackageDatabase[] = [];
  const text = async (n: MergedNode) => new TextDecoder().decode(await reader.read(n.layer, n.entry, MAX_DATABASE_BYTES));

  const status = find(tree, DPKG_STATUS);
  if (isFile(status)) {
    databases.push({ manager: "dpkg", path: `/${status.path}`, layer: status.layer });
    for (const p of parseDpkgStatus(await text(status))) {
      const list = dpkgListPaths(p)
        .map((l) => tree.get(l))
        .find((n) => n !== undefined);
      packages.push({ ...p, layer: list?.layer ?? status.layer });
    }
  }
  const statusD = find(tree, DPKG_STATUS_D);
  if (statusD?.entry.type === "dir") {
    const files = tree.list(statusD.path).filter(isFile);
    if (files.length) databases.push({ manager: "dpkg", path: `/${statusD.path}`, layer: Math.max(...files.map((f) => f.layer)) });
    for (const f of files) for (const p of parseDpkgStatus(await text(f))) packages.push({ ...p, layer: f.layer });
  }
  const apk = find(tree, APK_INSTALLED);
  if (isFile(apk)) {
    databases.push({ manager: "apk", path: `/${apk.path}`, layer: apk.layer });
    packages.push(...(await withLayers(tree, apk, async (n) => parseApkInstalled(await text(n)))));
  }
  const seen = new Set<string>();
  for (const path of RPM_SQLITE) {
    const rpm = find(tree, path);
    if (!isFile(rpm) || seen.has(rpm.path)) continue;
    seen.add(rpm.path);
    databases.push({ manager: "rpm", path: `/${rpm.path}`, layer: rpm.layer });
    packages.push(...(await withLayers(tree, rpm, async (n) => parseRpmSqlite(await reader.read(n.layer, n.entry, MAX_DATABASE_BYTES), `/${n.path} (layer ${n.layer})`))));
  }
  if (databases.length === 0) {
    for (const [path, format] of RPM_UNSUPPORTED) {
      if (isFile(find(tree, path))) throw new LayerslayerError("UNSUPPORTED", `/${path}: rpm's ${format} database is not supported (only rpmdb.sqlite, rpm 4.16 and later)`);
    }
  }
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : 0));
  return { packages, databases };
}

/**
 * The packages of the database's current version, each with the lowest layer from which on every
 * version of the database (as the layers wrote it) lists it with the same version.
 */
async function withLayers(tree: MergedTree, current: MergedNode, parse: (n: MergedNode) => Promise<Package[]>): Promise<Package[]> {
  const now = await parse(current);
  const key = (p: Package) => `${p.name}\0${p.architecture}\0${p.version}`;
  const layerOf = new Map(now.map((p) => [key(p), current.layer]));
  const open = new Set(layerOf.keys());
  // Older versions, newest first: a package still listed there was there before; a deletion ends it.
  const older = tree.historyOf(current.path).filter((e) => e.layer < current.layer && !e.implied);
  for (const ev of older.reverse()) {
    if (open.size === 0 || ev.action === "deleted" || ev.action === "hidden" || ev.entry.type !== current.entry.type) break;
    const then = new Set((await parse({ ...current, entry: ev.entry, layer: ev.layer })).map(key));
    for (const k of [...open]) {
      if (then.has(k)) layerOf.set(k, ev.layer);
      else open.delete(k);
    }
  }
  return now.map((p) => ({ ...p, layer: layerOf.get(key(p))! }));
}
