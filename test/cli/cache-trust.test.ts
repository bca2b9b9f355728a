/**
 * A tampered cache on the real registry: every stored kind of row edited the way someone with the
 * codecs would edit it (a listing part re-encoded, a merged tree re-encoded, a checkpoint window
 * changed, a config's media type changed). `peek`, `ls`, `find` and `cat` must still give the
 * registry's answer, warn once, and leave a cache that serves the right answer again.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeCheckpoints, encodeCheckpoints } from "../../src/cache/layer-index.ts";
import { decodeEntries, encodeEntries } from "../../src/cache/listing-codec.ts";
import { MergedTree } from "../../src/image/merge.ts";
import { encodeTree } from "../../src/image/tree-codec.ts";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

const AFTER = "line 1 of the big file: 7919 words\n".repeat(50);
const reg = useRegistry();
let image: string;
beforeAll(async () => {
  const files = [
    { path: "etc/os-release", content: "ID=real\n" },
    // Text, so that deflate refers back into its window: a checkpoint with a changed window decodes to other bytes.
    { path: "big/text", content: Array.from({ length: 120_000 }, (_, i) => `line ${i} of the big file: ${(i * 7919) % 1000} words\n`).join("") },
    { path: "z/after", content: AFTER },
  ];
  await pushImage(reg, "trust/app", "v1", { layers: [{ bytes: layerFrom(files) }, { bytes: layerFrom([{ path: "app/x", content: "x\n" }]) }] });
  image = `${reg.host}/trust/app:v1`;
});

/** A cache with everything in it: listings and checkpoints (`cache warm`), the merged tree (`ls`), manifest and config. */
async function filledCache(): Promise<Record<string, string>> {
  const env = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-cache-trust-")) };
  expect((await runCli(["cache", "warm", image, "-q"], { env })).code).toBe(0);
  expect((await runCli(["ls", image, "/", "-R"], { env })).code).toBe(0);
  const db = new Database(join(env.LAYERSLAYER_CACHE_DIR, "cache.sqlite"));
  const count = (t: string) => (db.query(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
  expect([count("listings"), count("trees"), count("layer_index") > 0, count("blobs") > 0]).toEqual([2, 1, true, true]);
  db.close();
  return env;
}

/** Edits every row as someone with our codecs would: the result decodes fine and says something else. */
function tamper(env: Record<string, string>): void {
  const db = new Database(join(env.LAYERSLAYER_CACHE_DIR!, "cache.sqlite"));
  try {
    const layers: { digest: string; entries: ReturnType<typeof decodeEntries> & object }[] = [];
    for (const part of db.query("SELECT digest, writer, seq, data FROM listing_parts ORDER BY digest, seq").all() as {
      digest: string;
      writer: string;
      seq: number;
      data: Uint8Array;
    }[]) {
      const entries = decodeEntries(part.data)!.map((e) => (e.path.endsWith("os-release") ? { ...e, path: e.path.replace("os-release", "evil-release") } : e));
      db.query("UPDATE listing_parts SET data = ? WHERE digest = ? AND writer = ? AND seq = ?").run(encodeEntries(entries), part.digest, part.writer, part.seq);
      layers.push({ digest: part.digest, entries });
    }
    const tree = new MergedTree();
    for (const l of layers) tree.addLayer(l.entries);
    db.query("UPDATE trees SET data = ?").run(encodeTree(tree)!);
    for (const row of db.query("SELECT digest, checkpoints FROM layer_index").all() as { digest: string; checkpoints: Uint8Array }[]) {
      const cps = decodeCheckpoints(row.checkpoints)!;
      for (const c of cps) c.window.fill(0x41);
      db.query("UPDATE layer_index SET checkpoints = ? WHERE digest = ?").run(encodeCheckpoints(cps), row.digest);
    }
    db.exec("UPDATE blobs SET media_type = 'application/vnd.oci.image.index.v1+json'");
  } finally {
    db.close();
  }
}

const entryLines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .filter((l) => !l.includes('"stats"'));
const checkWarnings = (stderr: string) => stderr.split("\n").filter((l) => l.includes("failed its check"));

describe("a tampered cache never changes an answer", () => {
  const commands: [string, string[], (out: string) => string | string[]][] = [
    ["peek --full", ["peek", "IMAGE", "--layer", "0", "--full", "--json"], entryLines],
    ["ls -R", ["ls", "IMAGE", "/", "-lR"], (o) => o],
    ["find", ["find", "IMAGE", "*release*", "--json"], (o) => o],
    ["cat", ["cat", "IMAGE", "/z/after"], (o) => o],
  ];
  for (const [name, args, shape] of commands) {
    test(`${name}: the registry's answer, one warning, and the cache good again`, async () => {
      const argv = args.map((a) => (a === "IMAGE" ? image : a));
      const truth = await runCli([...argv, "--no-cache"]);
      expect(truth.code).toBe(0);
      if (name !== "cat") expect(truth.stdout).toContain("os-release");
      if (name === "cat") expect(truth.stdout).toBe(AFTER);
      const env = await filledCache();
      tamper(env);
      const first = await runCli(argv, { env });
      expect(first.code).toBe(0);
      expect(shape(first.stdout)).toEqual(shape(truth.stdout));
      expect(first.stdout).not.toContain("evil");
      expect(checkWarnings(first.stderr)).toHaveLength(1);
      const again = await runCli(argv, { env });
      expect(shape(again.stdout)).toEqual(shape(truth.stdout));
      expect(checkWarnings(again.stderr)).toEqual([]);
    }, 60_000);
  }
});
