import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFile } from "../../src/index.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { findToc } from "../../src/toc/index.ts";
import { runCli } from "../support/cli.ts";
import { estargzLayer } from "../support/estargz.ts";
import { pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { ESTARGZ_TOC, pushTocImages, type TocImages } from "./fixture.ts";

const reg = useRegistry();
let images: TocImages;
let work: string;
const client = new RegistryClient({ plainHttp: true });

beforeAll(async () => {
  images = await pushTocImages(reg, "toc/cat");
  work = mkdtempSync(join(tmpdir(), "ls-toc-cat-"));
}, 120_000);
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
});

const OS_RELEASE = 'PRETTY_NAME="Fixture Linux"\nID=fixture\n';

describe("cat by a TOC's chunks", () => {
  for (const [name, pick] of [
    ["eStargz", () => images.estargz],
    ["eStargz without annotation", () => images.estargzBare],
    ["zstd:chunked", () => images.zstdChunked],
    ["zstd:chunked without annotations", () => images.zstdChunkedBare],
  ] as const) {
    test(`${name}: a small file through a symlink, and a 1 MiB binary equal to the original, each for its own chunks`, async () => {
      const image = `${reg.host}/${pick()}`;
      const small = await readFile(image, "/etc/os-release", { client });
      expect(new TextDecoder().decode(small.bytes)).toBe(OS_RELEASE);
      expect(small.result.path).toBe("usr/lib/os-release");
      expect(small.result.toc).toEqual({ format: name.startsWith("eStargz") ? "estargz" : "zstd:chunked", checked: true });
      // The tail, the TOC and the file's chunk: a few percent of the layer here (a tiny layer with a large TOC share).
      expect(small.result.bytesDownloaded).toBeLessThan(small.result.layerSize * 0.05);
      const big = await readFile(image, "usr/bin/tool", { client });
      expect(Buffer.compare(Buffer.from(big.bytes), Buffer.from(images.binary))).toBe(0);
      // The binary is incompressible: its chunks are about its size, and little else is fetched.
      expect(big.result.bytesDownloaded).toBeGreaterThan(images.binary.length);
      expect(big.result.bytesDownloaded - images.binary.length).toBeLessThan(small.result.bytesDownloaded + 64 * 1024);
      // A hard link reads the same content.
      const link = await readFile(image, "usr/bin/tool-link", { client });
      expect(Buffer.compare(Buffer.from(link.bytes), Buffer.from(images.binary))).toBe(0);
    });
  }

  test("a chunk that does not match the TOC is an error (exit 7), and nothing is left under the output name", async () => {
    const good = images.estargzLayerBytes;
    const search = await findToc(async (s, e) => good.slice(s, e), { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: good.length });
    const entry = search.toc!.entries.find((e) => e.path === "usr/share/doc/pkg0/file0.txt")!;
    const chunk = search.toc!.content.get(entry)!.chunks[0]!;
    const bad = good.slice();
    bad[chunk.start + 12] = bad[chunk.start + 12]! ^ 0x55;
    await pushImage(reg, "toc/cat-bad", "v1", { layers: [{ bytes: bad, annotations: { [ESTARGZ_TOC]: images.estargzTocDigest } }] });
    const out = join(work, "file0.txt");
    const r = await runCli(["cat", `${reg.host}/toc/cat-bad:v1`, "/usr/share/doc/pkg0/file0.txt", "-o", out]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("layer 0: ");
    expect(() => readFileSync(out)).toThrow();
    // The other files are intact and still read.
    const ok = await runCli(["cat", `${reg.host}/toc/cat-bad:v1`, "/etc/os-release"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(OS_RELEASE);
  });

  test("the CLI: peek --full says where the listing came from; cat says how it was read", async () => {
    const peek = await runCli(["peek", `${reg.host}/${images.estargz}`, "--full"]);
    expect(peek.code).toBe(0);
    expect(peek.stdout).toContain("usr/bin/tool");
    expect(peek.stdout).not.toContain("stargz.index.json");
    expect(peek.stdout).toMatch(/complete as the layer's eStargz TOC declares it \(TOC of [^,]+, its digest matches the layer's annotation; the tar stream was not read\)/);
    const bare = await runCli(["peek", `${reg.host}/${images.zstdChunkedBare}`, "--full", "--json"]);
    const stats = bare.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((o) => o.stats)!.stats;
    expect(stats).toMatchObject({ complete: true, verified: false, source: "toc", toc: { format: "zstd:chunked", checked: false } });
    const wrong = await runCli(["ls", `${reg.host}/${images.estargzWrong}`, "/usr/bin"]);
    expect(wrong.code).toBe(0);
    expect(wrong.stderr).toContain("layerslayer: warning: layer 0: the eStargz TOC hashes to");
    expect(wrong.stdout).toContain("tool");
    const cat = await runCli(["cat", `${reg.host}/${images.zstdChunked}`, "/etc/os-release"]);
    expect(cat.stdout).toBe(OS_RELEASE);
    expect(cat.stderr).toContain("read as the layer's zstd:chunked TOC declares it, by its chunks (the tar stream was not read), every chunk checked against its digest");
  });
});

test("estargzLayer builds with containerd's package (the helper is cached between runs)", () => {
  const tar = new Uint8Array(1024);
  const layer = estargzLayer(tar);
  expect(layer.tocDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect([...layer.bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
});
