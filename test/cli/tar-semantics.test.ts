/**
 * The tar cases of test/tar/cases.ts through the CLI on the real registry, as gzip, zstd and
 * uncompressed layers: `peek --full --json` of every case agrees with Go's archive/tar (listing
 * and corruption), and the views (ls, find, cat) handle sparse files, names that are not UTF-8,
 * odd spellings and aufs metadata the same way.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compress, pushImage } from "../support/fixtures.ts";
import { errorLine, runCli } from "../support/cli.ts";
import { useRegistry } from "../support/registry.ts";
import { tarCases } from "../tar/cases.ts";
import { bytesOf, concat, content, END, header, member } from "../tar/helpers.ts";
import { goList, line, type Listed } from "../tar/reference.ts";

const CODECS = ["gzip", "zstd", "none"] as const;
/** Cases where we follow GNU tar, bsdtar and Python rather than Go (see test/tar/differential.test.ts). */
const NOT_GO = new Set(["pax-solaris-X"]);

const cases = tarCases().filter((c) => !NOT_GO.has(c.name));
const b = (...x: number[]) => Uint8Array.from(x);

/** A layer for the views: odd spellings, devices, aufs metadata, names that are not UTF-8. */
const viewsLayer = concat(
  member({ name: "usr//bin/x" }, bytesOf("x\n")),
  header({ name: "dev/null", typeflag: "3", devmajor: 1, devminor: 3 }),
  header({ name: "run/fifo", typeflag: "6" }),
  member({ name: ".wh..wh.plnk/123.456" }, bytesOf("aufs")),
  member({ name: b(0x63, 0x61, 0x66, 0xe9) }, bytesOf("latin-1\n")),
  member({ name: b(0x63, 0x61, 0x66, 0xc3, 0xa9) }, bytesOf("utf-8\n")),
  END,
);

/** What Go lists, in the form peek's JSON gives (image paths: the tar name cleaned). */
function fromPeek(records: Array<Record<string, unknown>>, layer: number): Listed {
  const entries: string[] = [];
  let error = false;
  for (const r of records) {
    if (r.stats && (r.stats as { layer: number }).layer === layer) error = (r.stats as { error?: string }).error !== undefined;
    if (r.layer !== layer || r.type === undefined) continue;
    const bytesOfField = (k: string) => (typeof r[`${k}Raw`] === "string" ? Buffer.from(r[`${k}Raw`] as string, "base64") : Buffer.from(r[k] as string));
    const link = r.linkname === undefined ? undefined : bytesOfField("linkname");
    entries.push(line(r.type as string, bytesOfField("path"), r.size as number, link));
  }
  return { entries, error };
}

describe("tar cases through the CLI on a real registry", () => {
  const reg = useRegistry();
  const dir = mkdtempSync(join(tmpdir(), "tar-cli-"));
  let go: Map<string, Listed>;
  let holes: Uint8Array;
  beforeAll(async () => {
    for (const c of cases) writeFileSync(join(dir, c.name), c.tar);
    go = goList(cases.map((c) => join(dir, c.name)));
    const sparse = cases.find((c) => c.name === "pax-sparse-1.0")!.tar;
    for (const codec of CODECS) {
      await pushImage(reg, `cases/${codec}`, "v1", { layers: cases.map((c) => ({ bytes: compress(c.tar, codec), compression: codec })) });
      await pushImage(reg, `views/${codec}`, "v1", { layers: [sparse, viewsLayer].map((t) => ({ bytes: compress(t, codec), compression: codec })) });
    }
    holes = new Uint8Array(1 << 20);
    holes.set(content(3000, 5), 100000);
    holes.set(content(1000, 6), 700000);
  }, 120_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const codec of CODECS) {
    test(`${codec}: peek --full --json of every case agrees with Go`, async () => {
      const r = await runCli(["peek", `${reg.host}/cases/${codec}:v1`, "--layer", "all", "--full", "--json"]);
      const records = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      cases.forEach((c, i) => {
        const want = go.get(join(dir, c.name))!;
        const got = fromPeek(records, i);
        // peek shows image paths: the names Go returns, cleaned ("d//" is "d"), as `line` cleans them.
        expect([c.name, got]).toEqual([c.name, { entries: want.entries, error: want.error }]);
      });
      expect(r.code).toBe(7); // corrupt cases are there
    }, 60_000);

    test(`${codec}: views: sparse cat, names kept byte for byte, one set of path rules`, async () => {
      const img = `${reg.host}/views/${codec}:v1`;
      const [sparse, x, latin, utf8, dev, fifo, ls, find] = await Promise.all([
        runCli(["cat", img, "/holes"]),
        runCli(["cat", img, "/usr/bin/x"]),
        runCli(["cat", img, "/caf\\xe9"]),
        runCli(["cat", img, "/café"]),
        runCli(["cat", img, "/dev/null"]),
        runCli(["cat", img, "/run/fifo"]),
        runCli(["ls", img, "/", "--json"]),
        runCli(["find", img, "caf*"]),
      ]);
      expect(sparse.code).toBe(0);
      expect(Buffer.compare(Buffer.from(sparse.bytes), Buffer.from(holes))).toBe(0);
      expect([x.code, x.stdout]).toEqual([0, "x\n"]);
      expect([latin.code, latin.stdout]).toEqual([0, "latin-1\n"]);
      expect([utf8.code, utf8.stdout]).toEqual([0, "utf-8\n"]);
      expect([dev.code, errorLine(dev)]).toEqual([2, "layerslayer: /dev/null: is a character device"]);
      expect([fifo.code, errorLine(fifo)]).toEqual([2, "layerslayer: /run/fifo: is a fifo"]);
      const names = (JSON.parse(ls.stdout) as { entries: Array<{ path: string; pathRaw?: string }> }).entries;
      const paths = names.map((e) => e.path);
      expect(paths).toContain("/caf\\xe9");
      expect(paths).toContain("/café");
      expect(paths.some((p) => p.includes(".wh."))).toBe(false);
      expect(Buffer.from(names.find((e) => e.path === "/caf\\xe9")!.pathRaw!, "base64")).toEqual(Buffer.from([0x2f, 0x63, 0x61, 0x66, 0xe9]));
      expect(find.stdout).toContain("/caf\\xe9");
      expect(find.stdout).toContain("/café");
    }, 60_000);
  }
});
