import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compareImages, imageEfficiency, LayerslayerError, mergedTree, peekLayer, readFile } from "../src/index.ts";
import { layerFrom, pushImage } from "./support/fixtures.ts";
import { useRegistry } from "./support/registry.ts";
import { syntheticLayer } from "./support/synthetic-tar.ts";

const BIG = 40_000;
let bigSize = 0;
const RANDOM_FILES = 400;
let randomSize = 0;
const reg = useRegistry({}, async () => {
  const base = layerFrom([
    { path: "etc/os-release", content: "ID=lib\n" },
    { path: "etc/hosts", content: "127.0.0.1 localhost\n" },
  ]);
  // v2: v1's base, and a layer above it of its own.
  await pushImage(reg, "lib/app", "v2", { layers: [{ bytes: base }, { bytes: layerFrom([{ path: "app/run", content: "run2" }]) }] });
  await pushImage(reg, "lib/app", "v1", {
    layers: [
      {
        bytes: base,
      },
      {
        bytes: layerFrom([
          { path: "etc/.wh.hosts", content: "" },
          { path: "app/run", content: "run" },
        ]),
      },
    ],
  });
  const big = await syntheticLayer(Array.from({ length: BIG }, (_, i) => ({ path: `data/f${i}`, size: 1000 + (i % 500) })));
  bigSize = big.byteLength;
  await pushImage(reg, "lib/big", "v1", { layers: [{ bytes: big }] });
  // Incompressible content: half of the blob is many network reads, so entries are listed before the cancel.
  const files = Array.from({ length: RANDOM_FILES }, (_, i) => ({ path: `data/f${String(i).padStart(3, "0")}`, content: crypto.getRandomValues(new Uint8Array(20_000)) }));
  const random = layerFrom(files);
  randomSize = random.byteLength;
  await pushImage(reg, "lib/random", "v1", { layers: [{ bytes: random }] });
});

test("peekLayer yields entries and returns exact stats", async () => {
  const gen = peekLayer(`${reg.host}/lib/app:v1`, 0);
  const paths: string[] = [];
  let next = await gen.next();
  while (!next.done) {
    paths.push(next.value.path);
    next = await gen.next();
  }
  expect(paths).toEqual([".", "etc", "etc/hosts", "etc/os-release"]);
  expect(next.value.complete).toBe(true);
  expect(next.value.bytesDownloaded).toBe(next.value.layerSize);
});

test("peekLayer with a budget stops at it", async () => {
  const gen = peekLayer(`${reg.host}/lib/app:v1`, -1, { budget: 50 });
  let next = await gen.next();
  while (!next.done) next = await gen.next();
  expect(next.value.bytesDownloaded).toBe(50);
  expect(next.value.complete).toBe(false);
});

test("peekLayer reports progress and stops with ABORTED when its signal fires", async () => {
  const controller = new AbortController();
  let entries = 0;
  let last = { downloaded: 0, entries: 0 };
  const err = await (async () => {
    for await (const _ of peekLayer(`${reg.host}/lib/big:v1`, 0, {
      signal: controller.signal,
      onProgress: (p) => {
        last = p;
        if (p.entries >= 1000) controller.abort();
      },
    }))
      entries++;
  })().catch((e) => e);
  expect(err).toBeInstanceOf(LayerslayerError);
  expect(err.code).toBe("ABORTED");
  expect(entries).toBeGreaterThan(0);
  expect(entries).toBeLessThanOrEqual(last.entries);
  expect(last.downloaded).toBeLessThan(bigSize);
});

test("mergedTree applies whiteouts; readFile returns the bytes", async () => {
  const tree = await mergedTree(`${reg.host}/lib/app:v1`);
  expect(tree.has("etc/hosts")).toBe(false);
  expect(tree.get("app/run")?.layer).toBe(1);
  const { bytes, result } = await readFile(`${reg.host}/lib/app:v1`, "/etc/os-release");
  expect(new TextDecoder().decode(bytes)).toBe("ID=lib\n");
  expect(result.layer).toBe(0);
});

test("compareImages and imageEfficiency: diff's and efficiency's reports", async () => {
  const d = await compareImages(`${reg.host}/lib/app:v1`, `${reg.host}/lib/app:v2`, { ignoreMtime: true });
  expect(d.shared.length).toBe(1);
  expect(d.sharedRead).toBe(false);
  expect(d.listings.a.map((l) => [l.index, l.source])).toEqual([[1, "stream"]]);
  expect(d.paths.map((p) => [p.path, p.kind, p.fields, p.overSharedBase ?? false])).toEqual([
    ["/app/run", "modified", ["size"], false],
    // v1's own layer deleted it; v2 keeps what the shared layer holds.
    ["/etc/hosts", "added", [], true],
  ]);
  expect((await compareImages(`${reg.host}/lib/app:v1`, `${reg.host}/lib/app:v1`)).paths).toEqual([]);
  // etc/hosts (20 bytes) written in layer 0 and deleted in layer 1 is the waste.
  const e = await imageEfficiency(`${reg.host}/lib/app:v1`);
  expect(e.wastedBytes).toBe(20);
  expect(e.efficiency).toBeCloseTo(10 / 30, 9);
  expect(e.inefficiencies).toEqual([{ path: "/etc/hosts", cumulativeSize: 20, layers: [0, 1] }]);
  expect(e.listings.map((l) => l.source)).toEqual(["stream", "stream"]);
});

/** The first ```ts block under `heading` in docs/library.md. */
function docExample(heading: string): string {
  const doc = readFileSync(resolve(import.meta.dir, "../docs/library.md"), "utf8");
  const at = doc.indexOf(`\n## ${heading}\n`);
  expect(at).toBeGreaterThan(-1);
  const m = /```ts\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!m) throw new Error(`no example under "${heading}"`);
  return m[1]!;
}

test("docs/library.md: the example that lists a layer with progress and cancels it half way runs as documented", async () => {
  const code = docExample("Listing a layer with progress, and cancelling it half way");
  expect(code).toContain('from "layerslayer"');
  const dir = mkdtempSync(join(tmpdir(), "ls-doc-example-"));
  try {
    const file = join(dir, "example.ts");
    writeFileSync(file, code.replace('from "layerslayer"', `from ${JSON.stringify(resolve(import.meta.dir, "../src/index.ts"))}`));
    const p = Bun.spawn([process.execPath, file, `${reg.host}/lib/random:v1`], { stdout: "pipe", stderr: "pipe", env: { ...process.env, LAYERSLAYER_CACHE_DIR: dir } });
    const [out, errText, code_] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(errText).toBe("");
    expect(code_).toBe(0);
    const lines = out.trim().split("\n");
    // GNU tar lists the root and the directory first.
    expect(lines.slice(0, 3)).toEqual([".", "data", "data/f000"]);
    const m = /^cancelled after (\d+) entries, (\d+) of (\d+) bytes downloaded$/.exec(lines.at(-1)!);
    expect(m).not.toBeNull();
    const [entries, downloaded, size] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(size).toBe(randomSize);
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(RANDOM_FILES);
    expect(downloaded).toBeGreaterThanOrEqual(size / 2);
    expect(downloaded).toBeLessThan(size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
