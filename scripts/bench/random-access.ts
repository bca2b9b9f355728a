/**
 * Random access on a ~60 MB (compressed) rootfs, measured against the local docker-registry:
 * bytes fetched versus layer size for listings from eStargz / zstd:chunked TOCs, cat by TOC chunks,
 * and cat from gzip checkpoints (through a symlink, later runs, after cache warm).
 *
 *   bun scripts/bench/random-access.ts
 *
 * The layer: GNU tar of this machine's Python, Perl, /usr/lib/os-release, Vim, git and a few
 * binaries, then /etc (whose os-release is a symlink to ../usr/lib/os-release, earlier in the layer,
 * as in Debian's rootfs). gzip -6 for the gzip image; containerd's estargz.Build (built here with
 * Debian's Go) for eStargz; skopeo copy --dest-compress-format zstd:chunked for zstd:chunked.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { streamLayer } from "../../src/layer/stream.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import type { Entry, LayerStats } from "../../src/types.ts";
import { estargzLayer } from "../../test/support/estargz.ts";
import { pushImage } from "../../test/support/fixtures.ts";
import { startRegistry } from "../../test/support/registry.ts";
import { skopeoZstdChunked } from "../../test/support/zstd-chunked.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "src/cli/main.ts");
const MEMBERS = ["usr/lib/python3.11", "usr/share/perl", "usr/lib/os-release", "usr/share/vim", "usr/lib/git-core", "usr/bin/ssh", "usr/bin/gpg", "usr/bin/zstd", "etc"];
const BINARY = "/usr/bin/ssh";

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(2)}%`;
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

function cli(args: string[], cache: string): { code: number; out: string; err: string; bytes: Buffer } {
  const r = Bun.spawnSync([process.execPath, MAIN, ...args], { env: { ...process.env, XDG_CACHE_HOME: cache, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 1, out: r.stdout.toString(), err: r.stderr.toString(), bytes: Buffer.from(r.stdout) };
}

function catJson(image: string, path: string, cache: string, out: string): { bytesDownloaded: number; totalDownloaded: number; size: number; toc?: unknown } {
  const r = cli(["cat", image, path, "--json", "-o", out], cache);
  if (r.code !== 0) throw new Error(`cat ${path}: ${r.err}`);
  return JSON.parse(r.out);
}

async function listing(host: string, image: string, useToc: boolean): Promise<{ entries: Entry[]; stats: LayerStats }> {
  const ref = parseReference(`${host}/${image}`);
  const source = new RegistrySource(new RegistryClient({ plainHttp: true }), ref);
  const img = await resolveImage(source);
  const entries: Entry[] = [];
  const gen = streamLayer(source, img.manifest.image.layers[0]!, 0, { useToc });
  for (;;) {
    const n = await gen.next();
    if (n.done) {
      if (n.value.error) throw n.value.error;
      return { entries, stats: n.value.stats };
    }
    if (n.value.kind === "entry") entries.push(n.value.entry);
  }
}

const key = (e: Entry) => JSON.stringify([e.path, e.type, e.mode, e.size, e.uid, e.gid, e.linkname ?? "", Math.round(e.mtime)]);

const work = mkdtempSync(join(tmpdir(), "ls-bench-ra-"));
const reg = await startRegistry();
try {
  const tarPath = join(work, "rootfs.tar");
  const t = Bun.spawnSync(["tar", "--format=pax", "-C", "/", "-cf", tarPath, ...MEMBERS.map((m) => `--add-file=${m}`)], { stderr: "pipe" });
  if (t.exitCode !== 0) throw new Error(t.stderr.toString());
  const tar = new Uint8Array(readFileSync(tarPath));
  const gz = new Uint8Array(Bun.spawnSync(["gzip", "-6", "-n", "-c", tarPath]).stdout);
  // A unique file makes skopeo compress this run's layer itself (its blob-info cache cannot match).
  console.log(`rootfs tar ${mb(tar.length)}, gzip -6 ${mb(gz.length)}`);
  await pushImage(reg, "bench/rootfs", "gzip", { layers: [{ bytes: gz }] });
  const esgz = estargzLayer(tar);
  await pushImage(reg, "bench/rootfs", "estargz", { layers: [{ bytes: esgz.bytes, annotations: { "containerd.io/snapshot/stargz/toc.digest": esgz.tocDigest } }] });
  skopeoZstdChunked(reg, "bench/rootfs:gzip", "bench/rootfs-zstd:zstd-chunked");
  const binary = readFileSync(BINARY);
  const small = readFileSync("/usr/lib/os-release");

  const reference = await listing(reg.host, "bench/rootfs:gzip", false);
  for (const [name, image] of [
    ["eStargz", "bench/rootfs:estargz"],
    ["zstd:chunked", "bench/rootfs-zstd:zstd-chunked"],
  ] as const) {
    const fromToc = await listing(reg.host, image, true);
    const decoded = await listing(reg.host, image, false);
    const same = fromToc.entries.length === decoded.entries.length && fromToc.entries.every((e, i) => key(e) === key(decoded.entries[i]!));
    const sameFiles = JSON.stringify(fromToc.entries.map(key).sort()) === JSON.stringify(reference.entries.map(key).sort());
    const size = fromToc.stats.layerSize;
    console.log(`\n${name}: layer ${mb(size)}, ${fromToc.entries.length} entries`);
    console.log(
      `  complete listing from the TOC: ${fromToc.stats.bytesDownloaded} B = ${pct(fromToc.stats.bytesDownloaded, size)} of the layer (TOC ${fromToc.stats.toc?.bytes} B, checked ${fromToc.stats.toc?.checked}); identical to decoding the layer: ${same}; same files as the gzip layer: ${sameFiles}`,
    );
    const cache = mkdtempSync(join(work, "cache-"));
    const s = catJson(`${reg.host}/${image}`, "/etc/os-release", cache, join(work, "small"));
    const sOk = Buffer.compare(readFileSync(join(work, "small")), small) === 0;
    console.log(`  cat /etc/os-release (no cache): ${s.bytesDownloaded} B = ${pct(s.bytesDownloaded, size)} (file ${s.size} B), equal: ${sOk}`);
    const fresh = mkdtempSync(join(work, "cache-"));
    const b = catJson(`${reg.host}/${image}`, BINARY, fresh, join(work, "bin"));
    const bOk = Buffer.compare(readFileSync(join(work, "bin")), binary) === 0;
    console.log(`  cat ${BINARY} (${binary.length} B, no cache): ${b.bytesDownloaded} B = ${pct(b.bytesDownloaded, size)}, equal to the original: ${bOk}`);
  }

  const size = gz.length;
  const exact: Entry[] = [];
  {
    const ref = parseReference(`${reg.host}/bench/rootfs:gzip`);
    const source = new RegistrySource(new RegistryClient({ plainHttp: true }), ref);
    const img = await resolveImage(source);
    for await (const ev of streamLayer(source, img.manifest.image.layers[0]!, 0, { offsets: "exact", useToc: false })) if (ev.kind === "entry") exact.push(ev.entry);
  }
  const link = exact.find((e) => e.path === "etc/os-release")!;
  const target = exact.find((e) => e.path === "usr/lib/os-release")!;
  const files = exact.filter((e) => e.type === "file" && e.size > 0 && e.compressedOffset < link.compressedOffset);
  const early = files[Math.floor(files.length / 3)]!;
  const lastFile = exact.filter((e) => e.type === "file").at(-1)!;
  console.log(`\ngzip: layer ${mb(size)}, ${exact.length} entries; etc/os-release at compressed byte ${link.compressedOffset}`);
  const cache = mkdtempSync(join(work, "cache-"));
  const c1 = catJson(`${reg.host}/bench/rootfs:gzip`, "/etc/os-release", cache, join(work, "osr"));
  console.log(
    `  cat /etc/os-release (no cache): ${c1.bytesDownloaded} B (bytes up to the symlink ${link.compressedOffset} + ${c1.bytesDownloaded - link.compressedOffset}); without checkpoints it would be ${link.compressedOffset} + ${target.compressedOffset} (the target from byte 0)`,
  );
  const c2 = catJson(`${reg.host}/bench/rootfs:gzip`, `/${early.path}`, cache, join(work, "early"));
  console.log(
    `  later cat /${early.path} (before the symlink; ${early.size} B at compressed byte ${early.compressedOffset}): ${c2.bytesDownloaded} B (${(c2.bytesDownloaded / 1048576).toFixed(2)} MiB)`,
  );
  const warmCache = mkdtempSync(join(work, "cache-"));
  const w = cli(["cache", "warm", `${reg.host}/bench/rootfs:gzip`], warmCache);
  console.log(`  cache warm: ${w.out.trim()}`);
  const db = new (await import("bun:sqlite")).Database(join(warmCache, "layerslayer", "cache.sqlite"), { readonly: true });
  const row = db.query("SELECT length(checkpoints) AS n FROM layer_index").get() as { n: number };
  db.close();
  console.log(`  checkpoints in the cache: ${row.n} B = ${pct(row.n, size)} of the layer`);
  const c3 = catJson(`${reg.host}/bench/rootfs:gzip`, `/${lastFile.path}`, warmCache, join(work, "last"));
  console.log(`  after warm, cat /${lastFile.path} (the last file, ${lastFile.size} B): ${c3.bytesDownloaded} B (${(c3.bytesDownloaded / 1048576).toFixed(2)} MiB)`);
} finally {
  await reg.stop();
  rmSync(work, { recursive: true, force: true });
}
