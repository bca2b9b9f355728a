import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startConfigHolder } from "../support/config-holder.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { syntheticLayer, type SyntheticEntry } from "../support/synthetic-tar.ts";

/** More entries than a tree kept whole (image-view.ts MAX_CACHED_TREE): ls builds it without its history. */
const MANY = 260_000;

function* manyEntries(): Generator<SyntheticEntry> {
  yield { path: "etc", type: "dir" };
  yield { path: "etc/gone", size: 4 };
  yield { path: "etc/kept", size: 4 };
  for (let i = 0; i < MANY; i++) yield { path: `data/d${Math.floor(i / 1000)}/f${i}` };
}

describe("ls of an image too large to keep its history for", () => {
  const reg = useRegistry();
  beforeAll(async () => {
    await pushImage(reg, "big/app", "v1", {
      layers: [
        { bytes: await syntheticLayer(manyEntries()) },
        {
          bytes: layerFrom([
            { path: "etc/.wh.gone", content: "" },
            { path: "etc/new", content: "n" },
          ]),
        },
      ],
    });
  }, 120_000);
  const image = () => `${reg.host}/big/app:v1`;

  test("a deleted path is still reported as deleted, with the layer that deleted it", async () => {
    const env = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-big-")) };
    const gone = await runCli(["ls", image(), "/etc/gone"], { env });
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain("/etc/gone: deleted in layer 1");
    const missing = await runCli(["ls", image(), "/etc/never"], { env });
    expect(missing.stderr).toContain("/etc/never: no such file or directory");
  }, 120_000);

  test("listings, long listings and --history answer as for any image", async () => {
    const env = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-big-")) };
    const etc = await runCli(["ls", image(), "/etc", "-l"], { env });
    expect(etc.code).toBe(0);
    expect(
      etc.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ").at(-1)),
    ).toEqual(["kept", "new"]);
    const history = await runCli(["ls", image(), "/etc", "--history"], { env });
    expect(history.stdout).toMatch(/D .* gone\n/);
    const all = await runCli(["ls", image(), "/", "-R"], { env });
    const lines = all.stdout.split("\n").filter(Boolean);
    expect(lines.length).toBe(MANY + 261 + 3); // the files, data and its 260 directories, etc with kept and new
    expect(lines.slice(0, 4)).toEqual(["data", "data/d0", "data/d0/f0", "data/d0/f1"]);
    expect(lines).not.toContain("etc/gone");
  }, 120_000);
});

describe("ls reads the layers while the config is read", () => {
  const reg = useRegistry();
  let configDigest = "";
  beforeAll(async () => {
    const img = await pushImage(reg, "view/early", "v1", {
      layers: [{ bytes: layerFrom([{ path: "etc/os-release", content: "ID=early\n" }]) }, { bytes: layerFrom([{ path: "etc/app.conf", content: "x" }]) }],
      history: [{ created_by: "ADD base /" }, { created_by: "COPY app.conf /etc/" }],
    });
    configDigest = img.configDigest;
  });

  test("a layer is asked for before the config's answer; the listing and its history are the same", async () => {
    const proxy = startConfigHolder(reg.url, configDigest);
    const cache = mkdtempSync(join(tmpdir(), "ls-view-early-"));
    try {
      const r = await runCli(["ls", `${proxy.host}/view/early:v1`, "/etc", "-l", "--history", "--no-cache"], { env: { XDG_CACHE_HOME: cache } });
      expect(r.code).toBe(0);
      expect(proxy.early()).toBe(true);
      const direct = await runCli(["ls", `${reg.host}/view/early:v1`, "/etc", "-l", "--history", "--no-cache"], { env: { XDG_CACHE_HOME: cache } });
      expect(r.stdout).toBe(direct.stdout);
      expect(r.stdout).toContain("L1  -rw-r--r-- 0 0 1 2024-03-01 12:34 app.conf\n");
    } finally {
      proxy.stop();
    }
  }, 30_000);

  test("a config that cannot be read: its error alone, nothing on stdout", async () => {
    const proxy = startConfigHolder(reg.url, configDigest, true);
    try {
      const r = await runCli(["ls", `${proxy.host}/view/early:v1`, "/etc", "--no-cache"]);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBe(1);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines.length).toBe(1);
      expect(lines[0]).toStartWith("layerslayer: ");
    } finally {
      proxy.stop();
    }
  }, 30_000);
});
