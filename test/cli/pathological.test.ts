/**
 * Pathological trees through the CLI against the real registry: a path of 10,000 components,
 * 100,000 names in one directory, long symlink chains and a symlink loop. Every view finishes
 * (no recursion limit, no quadratic path handling) and symlink resolution stops at 40 links.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runCli } from "../support/cli.ts";
import { pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { syntheticLayer, type SyntheticEntry } from "../support/synthetic-tar.ts";

const DEPTH = 10_000;
const WIDE = 100_000;
const deepDir = Array.from({ length: DEPTH - 1 }, (_, i) => `c${i % 10}`).join("/");

describe("pathological trees", () => {
  const reg = useRegistry();
  let cacheHome: string;
  beforeAll(async () => {
    const wide = function* (): Generator<SyntheticEntry> {
      yield { path: "wide", type: "dir" };
      for (let i = 0; i < WIDE; i++) yield { path: `wide/entry-${i}` };
    };
    const links = function* (): Generator<SyntheticEntry> {
      yield { path: "target", size: 5 };
      yield { path: "link0", type: "symlink", linkname: "target" };
      for (let i = 1; i < 1000; i++) yield { path: `link${i}`, type: "symlink", linkname: i % 2 ? `/link${i - 1}` : `./link${i - 1}` };
      yield { path: "loop-a", type: "symlink", linkname: "loop-b" };
      yield { path: "loop-b", type: "symlink", linkname: "dir/../loop-a" };
      yield { path: "dir", type: "dir" };
    };
    await pushImage(reg, "odd/app", "v1", {
      layers: [{ bytes: await syntheticLayer([{ path: `${deepDir}/leaf.txt`, size: 3 }]) }, { bytes: await syntheticLayer(wide()) }, { bytes: await syntheticLayer(links()) }],
    });
    cacheHome = (await import("node:fs")).mkdtempSync(`${(await import("node:os")).tmpdir()}/ls-odd-`);
  }, 120_000);
  afterAll(async () => {
    (await import("node:fs")).rmSync(cacheHome, { recursive: true, force: true });
  });
  const cli = (...args: string[]) => runCli([args[0]!, `${reg.host}/odd/app:v1`, ...args.slice(1)], { env: { XDG_CACHE_HOME: cacheHome } });

  test("a path of 10,000 components: ls --tree, ls -R and find", async () => {
    const tree = await cli("ls", "/c0", "--tree");
    expect(tree.code).toBe(0);
    const lines = tree.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("/c0");
    expect(lines.at(-1)).toBe(`${DEPTH - 2} directories, 1 file`);
    expect(lines.at(-3)!.endsWith("└── leaf.txt")).toBe(true);
    expect(lines.at(-3)!.length).toBe(4 * (DEPTH - 1) + "leaf.txt".length);

    const rec = await cli("ls", "/c0", "-R");
    expect(rec.code).toBe(0);
    const paths = rec.stdout.trimEnd().split("\n");
    expect(paths.length).toBe(DEPTH - 1);
    expect(paths.at(-1)).toBe(`${deepDir.slice(3)}/leaf.txt`);

    const found = await cli("find", "leaf.txt", "--json");
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout).hits.map((h: { path: string }) => h.path)).toEqual([`/${deepDir}/leaf.txt`]);
  }, 120_000);

  test("100,000 names in one directory: ls --tree, ls -R and find", async () => {
    const tree = await cli("ls", "/wide", "--tree");
    expect(tree.code).toBe(0);
    expect(tree.stdout.trimEnd().split("\n").at(-1)).toBe(`0 directories, ${WIDE} files`);
    const rec = await cli("ls", "/wide", "-R");
    expect(rec.code).toBe(0);
    const names = rec.stdout.trimEnd().split("\n");
    expect(names.length).toBe(WIDE);
    expect(names[0]).toBe("entry-0");
    expect(new Set(names).size).toBe(WIDE);
    const found = await cli("find", "entry-9999*", "--json");
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout).hits.length).toBe(11);
  }, 120_000);

  test("symlink chains: 40 links are followed, the 41st is too many; a loop is caught", async () => {
    const ok = await cli("cat", "/link39");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("abcde");
    const tooMany = await cli("cat", "/link40");
    expect(tooMany.code).toBe(7);
    expect(tooMany.stderr).toContain("too many levels of symbolic links");
    const far = await cli("ls", "/link999", "-l");
    expect(far.code).toBe(7);
    const loop = await cli("cat", "/loop-a");
    expect(loop.code).toBe(7);
    expect(loop.stderr).toContain("too many levels of symbolic links");
    expect(loop.stderr.trimEnd().split("\n").length).toBe(1);
  }, 120_000);
});
