/**
 * Where the browser's images come from (src/browse/where.ts, nav.ts, list-pane.ts): a registry's
 * catalog, then tags, then platforms, then the image; a Docker Hub search (the hub stand-in, the
 * one thing that cannot be real here); Esc back a pane; `layerslayer IMAGE` on a terminal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onBrowseTerminal, quitBrowse, screenLines } from "../support/browse.ts";
import { layerFrom, pushImage, pushIndex } from "../support/fixtures.ts";
import { startHubStandIn, type HubStandIn } from "../support/hub-stand-in.ts";
import { useRegistry } from "../support/registry.ts";
import { registryArgument } from "../../src/cli/browse.ts";

describe("where from: catalog, tags, platforms, search", () => {
  const reg = useRegistry();
  let cwd: string;
  let hub: HubStandIn;
  beforeAll(async () => {
    await pushImage(reg, "lab/one", "1", { layers: [{ bytes: layerFrom([{ path: "etc/one-release", content: "one\n" }]) }] });
    await pushImage(reg, "lab/one", "2", { layers: [{ bytes: layerFrom([{ path: "etc/two-release", content: "two\n" }]) }] });
    const amd = await pushImage(reg, "lab/multi", undefined, { layers: [{ bytes: layerFrom([{ path: "amd.txt", content: "amd64\n" }]) }] });
    const arm = await pushImage(reg, "lab/multi", undefined, {
      layers: [{ bytes: layerFrom([{ path: "arm.txt", content: "arm64\n" }]) }],
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
    await pushIndex(reg, "lab/multi", "v1", [
      { image: amd, platform: { os: "linux", architecture: "amd64" } },
      { image: arm, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ]);
    cwd = mkdtempSync(join(tmpdir(), "ls-browse-where-"));
    hub = startHubStandIn();
  });
  afterAll(() => {
    hub.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  test("REGISTRY or IMAGE: a host with a dot or a port, or localhost, is a registry; docker's short names stay images", () => {
    expect(registryArgument("127.0.0.1:5000")).toBe("127.0.0.1:5000");
    expect(registryArgument("localhost")).toBe("localhost");
    expect(registryArgument("registry.example.com")).toBe("registry.example.com");
    expect(registryArgument("myhost:5000/")).toBe("myhost:5000");
    expect(registryArgument("debian:12")).toBeUndefined();
    expect(registryArgument("alpine")).toBeUndefined();
    expect(registryArgument("127.0.0.1:5000/lab/one:1")).toBeUndefined();
    // A tag with a dot, a local image: images.
    expect(registryArgument("python:3.12")).toBeUndefined();
    expect(registryArgument("my.image:1.0")).toBeUndefined();
    expect(registryArgument("oci:my.layout")).toBeUndefined();
    expect(registryArgument("docker-archive:app.tar")).toBeUndefined();
    expect(registryArgument("[::1]:5000")).toBe("[::1]:5000");
  });

  test("browse REGISTRY: the catalog, Enter for tags, Enter for the platforms of an index, Enter for the image; Esc back a pane each time", async () => {
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}` }, async (t) => {
      await t.waitFor(/── Repositories of \S+ {2}2─/);
      let screen = screenLines(t, reg.host);
      expect(screen[0]).toBe("layerslayer browse  Repositories of REGISTRY");
      expect(screen).toContain("▶ lab/multi");
      expect(screen).toContain("  lab/one");
      // `?`: the list's own help, in place of the list; any key closes it (and does nothing else).
      t.type("?");
      await t.waitFor(/Repositories of \S+: choose one to open/);
      screen = screenLines(t, reg.host);
      expect(screen).toContain("Enter → l      open: a repository's tags, a tag's platforms or its image");
      expect(screen.some((l) => /^s +search/.test(l))).toBe(false);
      expect(screen).not.toContain("▶ lab/multi");
      t.keys("Down");
      await t.waitFor(/▶ lab\/multi/);
      expect(t.screen()).not.toMatch(/choose one to open/);
      // lab/multi first (sorted by the registry): Enter for its tags.
      t.keys("Enter");
      await t.waitFor(/── Tags of \S+\/lab\/multi {2}1─/);
      expect(screenLines(t, reg.host)).toContain("▶ v1");
      t.keys("Enter");
      // An index of two images: the platforms, the host's first.
      await t.waitFor(/── Platforms of \S+\/lab\/multi:v1 {2}2─/);
      screen = screenLines(t, reg.host);
      const host = process.arch === "arm64" ? "linux/arm64/v8" : "linux/amd64";
      const other = process.arch === "arm64" ? "linux/amd64" : "linux/arm64/v8";
      expect(screen).toContain(`▶ ${host}`);
      expect(screen).toContain(`  ${other}`);
      t.keys("Down", "Enter");
      await t.waitFor(/1\/1 layers merged/);
      expect(t.screen()).toContain(process.arch === "arm64" ? "amd.txt" : "arm.txt");
      expect(screenLines(t, reg.host)[0]).toBe("layerslayer browse  REGISTRY/lab/multi:v1  1 layers");
      // Esc: back to the platforms (the image's downloads stop), then the tags, then the catalog.
      t.keys("Escape");
      await t.waitFor(/── Platforms of/);
      t.keys("Escape");
      await t.waitFor(/── Tags of/);
      t.keys("Escape");
      await t.waitFor(/── Repositories of/);
      // Down to lab/one, its two tags, the second opened directly (one image: no platform pane).
      t.keys("Down", "Enter");
      await t.waitFor(/── Tags of \S+\/lab\/one {2}2─/);
      t.keys("Down");
      await t.waitFor(/^  \d\n▶ \d$/m);
      const tag = screenLines(t, reg.host)
        .find((l) => l.startsWith("▶ "))!
        .slice(2);
      t.keys("Enter");
      await t.waitFor(/1\/1 layers merged/);
      expect(screenLines(t, reg.host)[0]).toBe(`layerslayer browse  REGISTRY/lab/one:${tag}  1 layers`);
      t.keys("Right");
      await t.waitFor(tag === "1" ? /one-release/ : /two-release/);
      // `/` filters a list.
      t.keys("Escape");
      await t.waitFor(/── Tags of/);
      t.type("/");
      await t.waitFor(/Filter: /);
      t.type("1");
      t.keys("Enter");
      await t.waitFor(/1 of 2, filter: 1/);
      await quitBrowse(t);
    });
  });

  test("browse IMAGE naming an index: the platform pane first; --platform skips it", async () => {
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/multi:v1` }, async (t) => {
      await t.waitFor(/── Platforms of \S+\/lab\/multi:v1 {2}2─/);
      t.keys("Enter");
      await t.waitFor(/1\/1 layers merged/);
      expect(t.screen()).toContain(process.arch === "arm64" ? "arm.txt" : "amd.txt");
      await quitBrowse(t);
    });
    await onBrowseTerminal({ cwd, args: `browse ${reg.host}/lab/multi:v1 --platform linux/arm64/v8` }, async (t) => {
      await t.waitFor(/1\/1 layers merged/);
      expect(t.screen()).toContain("arm.txt");
      expect(t.screen()).not.toContain("Platforms of");
      await quitBrowse(t);
    });
  });

  test("`layerslayer IMAGE` on a terminal opens browse", async () => {
    await onBrowseTerminal({ cwd, args: `${reg.host}/lab/one:1` }, async (t) => {
      await t.waitFor(/1\/1 layers merged/);
      expect(screenLines(t, reg.host)[0]).toBe("layerslayer browse  REGISTRY/lab/one:1  1 layers");
      await quitBrowse(t);
    });
  });

  test("bare browse: a Docker Hub search (the hub client as the provider), its results, their tags from Docker Hub; Esc back", async () => {
    await onBrowseTerminal({ cwd, args: "browse", env: `LAYERSLAYER_HUB_URL=${hub.url}` }, async (t) => {
      await t.waitFor(/Search Docker Hub for: █/);
      t.type("alpine");
      t.keys("Enter");
      await t.waitFor(/── Search Docker Hub {2}"alpine" {2}\d+─/);
      const screen = screenLines(t, hub.host);
      expect(screen.some((l) => /^▶ alpine\s+official {2}★11000 {2}A minimal Docker image/.test(l))).toBe(true);
      expect(hub.requests.some((r) => r.startsWith("/v2/search/repositories/?query=alpine"))).toBe(true);
      t.keys("Enter");
      await t.waitFor(/── Tags of docker\.io\/alpine {2}4─/);
      // Newest first, with their sizes and platforms.
      expect(screenLines(t, hub.host).some((l) => /^▶ latest\s+\S+ {2}linux\/amd64 linux\/arm64\/v8 linux\/arm\/v7$/.test(l))).toBe(true);
      t.keys("Escape");
      await t.waitFor(/── Search Docker Hub {2}"alpine"/);
      // The search's help has `s` too.
      t.type("?");
      await t.waitFor(/s +search for another term/);
      t.type("x");
      await t.waitFor(/▶ alpine/);
      // `s` asks again.
      t.type("s");
      await t.waitFor(/Search Docker Hub for: alpine█/);
      t.keys("Escape");
      await t.waitFor(/s search/);
      await Bun.sleep(100);
      await quitBrowse(t);
    });
  });
});
