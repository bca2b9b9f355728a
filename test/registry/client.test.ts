import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobCache } from "../../src/cache/cache.ts";
import { openCache } from "../../src/cache/open.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, pushIndex, type PushedImage } from "../support/fixtures.ts";
import { pushManifest } from "../support/push.ts";
import { ADMIN, READER, type TestRegistry, useRegistry } from "../support/registry.ts";

const quick = { retries: 1, retryBaseMs: 5 };

async function expectError(p: Promise<unknown>, code: string, message?: RegExp): Promise<LayerslayerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LayerslayerError);
    const err = e as LayerslayerError;
    expect(err.code).toBe(code as never);
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error("expected an error");
}

async function seed(reg: TestRegistry, repo: string): Promise<{ amd: PushedImage; arm: PushedImage; index: { digest: string } }> {
  const layer = layerFrom([{ path: "etc/hostname", content: "fixture\n" }]);
  const amd = await pushImage(reg, repo, "amd", {
    layers: [{ bytes: layer }],
    history: [{ created_by: "ENV A=1", empty_layer: true }, { created_by: "ADD rootfs.tar /" }],
  });
  const arm = await pushImage(reg, repo, "arm", { layers: [{ bytes: layer }], platform: { os: "linux", architecture: "arm64", variant: "v8" } });
  const index = await pushIndex(
    reg,
    repo,
    "multi",
    [
      { image: amd, platform: { os: "linux", architecture: "amd64" } },
      { image: arm, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ],
    { attestationFor: amd },
  );
  return { amd, arm, index };
}

for (const auth of ["none", "token", "htpasswd"] as const) {
  describe(`registry client against a real registry (${auth} auth)`, () => {
    const reg = useRegistry({ auth });
    let pushed: Awaited<ReturnType<typeof seed>>;
    const creds = auth === "none" ? undefined : READER;
    beforeAll(async () => {
      pushed = await seed(reg, "team/app");
    });

    test("resolves an index to the host platform, never the attestation", async () => {
      const client = new RegistryClient({ ...quick, credentials: creds });
      const img = await resolveImage(new RegistrySource(client, parseReference(`${reg.host}/team/app:multi`)), { os: "linux", architecture: "amd64" });
      expect(img.index?.digest).toBe(pushed.index.digest);
      expect(img.manifest.digest).toBe(pushed.amd.digest);
      expect(img.config.history?.length).toBe(2);
    });

    test("chooses arm64 by --platform and lists platforms when none match", async () => {
      const client = new RegistryClient({ ...quick, credentials: creds });
      const img = await resolveImage(new RegistrySource(client, parseReference(`${reg.host}/team/app:multi`)), { os: "linux", architecture: "arm64" });
      expect(img.manifest.digest).toBe(pushed.arm.digest);
      await expectError(
        resolveImage(new RegistrySource(client, parseReference(`${reg.host}/team/app:multi`)), { os: "linux", architecture: "s390x" }),
        "NOT_FOUND",
        /available: linux\/amd64, linux\/arm64\/v8$/,
      );
    });

    test("fetches by digest and verifies the bytes", async () => {
      const client = new RegistryClient({ ...quick, credentials: creds });
      const m = await client.fetchManifest(parseReference(`${reg.host}/team/app@${pushed.amd.digest}`));
      expect(new TextDecoder().decode(m.bytes)).toBe(pushed.amd.manifest);
    });

    test("lists tags", async () => {
      const client = new RegistryClient({ ...quick, credentials: creds });
      expect((await client.listTags(parseReference(`${reg.host}/team/app`, { allowBare: true }))).sort()).toEqual(["amd", "arm", "multi"]);
    });

    test("a missing tag is NOT_FOUND naming it", async () => {
      const client = new RegistryClient({ ...quick, credentials: creds });
      await expectError(client.fetchManifest(parseReference(`${reg.host}/team/app:nope`)), "NOT_FOUND", /team\/app:nope/);
    });

    if (auth !== "none") {
      test("a wrong password is an AUTH error that does not print the password", async () => {
        const client = new RegistryClient({ ...quick, credentials: { username: READER.username, password: "wrong" } });
        const err = await expectError(client.fetchManifest(parseReference(`${reg.host}/team/app:amd`)), "AUTH");
        expect(err.message).not.toContain("wrong");
      });
      test("no credentials is an AUTH error that says how to log in", async () => {
        const client = new RegistryClient(quick);
        await expectError(client.fetchManifest(parseReference(`${reg.host}/team/app:amd`)), "AUTH", /--username/);
      });
    }
  });
}

describe("token auth specifics", () => {
  const reg = useRegistry({ auth: "token", anonymousPull: ["public/"] });
  beforeAll(async () => {
    await pushImage(reg, "public/app", "v1", { layers: [{ bytes: layerFrom([{ path: "a", content: "a" }]) }] });
    await pushImage(reg, "private/app", "v1", { layers: [{ bytes: layerFrom([{ path: "a", content: "a" }]) }] });
  });

  test("anonymous pull works where the token server allows it", async () => {
    const client = new RegistryClient(quick);
    const img = await resolveImage(new RegistrySource(client, parseReference(`${reg.host}/public/app:v1`)));
    expect(img.manifest.image.layers.length).toBe(1);
  });

  test("one token per scope is reused until it expires", async () => {
    const client = new RegistryClient({ ...quick, credentials: READER });
    const before = reg.token!.requests.length;
    await resolveImage(new RegistrySource(client, parseReference(`${reg.host}/private/app:v1`)));
    await client.fetchManifest(parseReference(`${reg.host}/private/app:v1`));
    expect(reg.token!.requests.length - before).toBe(1);
    expect(reg.token!.requests.at(-1)).toEqual({ scope: "repository:private/app:pull", user: "reader", authorized: true });
  });

  test("an expired token is refreshed once and the request retried", async () => {
    const client = new RegistryClient({ ...quick, credentials: READER });
    reg.token!.expireNext(1);
    const before = reg.token!.requests.length;
    const m = await client.fetchManifest(parseReference(`${reg.host}/private/app:v1`));
    expect(m.digest).toMatch(/^sha256:/);
    expect(reg.token!.requests.length - before).toBe(2);
  });

  test("tokens that keep failing end in AUTH after one refresh", async () => {
    const client = new RegistryClient({ ...quick, credentials: READER });
    reg.token!.expireNext(5);
    const before = reg.token!.requests.length;
    await expectError(client.fetchManifest(parseReference(`${reg.host}/private/app:v1`)), "AUTH");
    expect(reg.token!.requests.length - before).toBe(2);
    reg.token!.expireNext(0);
  });

  test("admin credentials work too (colon in neither)", async () => {
    const client = new RegistryClient({ ...quick, credentials: ADMIN });
    expect(await client.listTags(parseReference(`${reg.host}/private/app`, { allowBare: true }))).toEqual(["v1"]);
  });
});

describe("manifest integrity and legacy types", () => {
  const reg = useRegistry();

  test("an unknown digest is NOT_FOUND and the right one verifies", async () => {
    const img = await pushImage(reg, "x/y", "t", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
    const client = new RegistryClient(quick);
    const wrong = `sha256:${"0".repeat(64)}`;
    await expectError(client.fetchManifest(parseReference(`${reg.host}/x/y:t`), wrong), "NOT_FOUND");
    const m = await client.fetchManifest(parseReference(`${reg.host}/x/y:t`), img.digest);
    expect(m.digest).toBe(img.digest);
  });

  test("a schema1 manifest is rejected as an unsupported legacy manifest", async () => {
    const { parseManifest } = await import("../../src/oci/manifest.ts");
    expect(() =>
      parseManifest(new TextEncoder().encode('{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[]}'), "application/vnd.docker.distribution.manifest.v1+prettyjws", "a:b"),
    ).toThrow(/legacy manifest/);
  });

  test("a Docker manifest list is read as an index", async () => {
    const a = await pushImage(reg, "d/list", "a", { format: "docker", layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
    await pushIndex(reg, "d/list", "l", [{ image: a, platform: { os: "linux", architecture: "amd64" } }], { format: "docker" });
    const img = await resolveImage(new RegistrySource(new RegistryClient(quick), parseReference(`${reg.host}/d/list:l`)));
    expect(img.index?.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(img.manifest.digest).toBe(a.digest);
  });

  test("an unparseable manifest pushed raw is reported, not crashed on", async () => {
    await pushManifest(
      reg,
      "x/y",
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { digest: "sha256:" + "1".repeat(64), size: 2, mediaType: "application/vnd.oci.image.config.v1+json" },
        layers: [],
      }),
      "application/vnd.oci.image.manifest.v1+json",
      "noconfig",
    ).catch((e) => e);
    const client = new RegistryClient(quick);
    // The registry refuses manifests whose blobs are unknown; either way the client must not crash.
    const r = await resolveImage(new RegistrySource(client, parseReference(`${reg.host}/x/y:noconfig`))).catch((e) => e);
    expect(r).toBeInstanceOf(LayerslayerError);
  });
});

describe("the cache beside a tag's manifest request", () => {
  const reg = useRegistry();

  test("is prepared while the request is out (after fetch sent it, before its answer is used)", async () => {
    const img = await pushImage(reg, "slow/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
    const dir = mkdtempSync(join(tmpdir(), "ls-prepare-"));
    // fetch observed, not replaced: the request still goes to the registry.
    const realFetch = globalThis.fetch;
    const seen: string[] = [];
    globalThis.fetch = Object.assign((...a: Parameters<typeof fetch>) => (seen.push("fetch"), realFetch(...a)), realFetch);
    try {
      const store = openCache({ enabled: true, dir, warn: (m) => expect(m).toBe("no warning") });
      const cache: BlobCache = {
        getBlob: (d) => store.getBlob(d),
        putBlob: (d, t, b) => (seen.push("put"), store.putBlob(d, t, b)),
        prepare: () => (seen.push("prepare"), store.prepare?.()),
      };
      const m = await new RegistryClient({ ...quick, blobCache: cache }).fetchManifest(parseReference(`${reg.host}/slow/app:v1`));
      expect(m.digest).toBe(img.digest);
      expect(seen).toEqual(["fetch", "prepare", "put"]);
      // The store opened then is the one the manifest went into.
      expect(store.getBlob(img.digest)?.bytes).toEqual(m.bytes);
      store.close();
    } finally {
      globalThis.fetch = realFetch;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a digest's manifest found in the cache makes no request and prepares nothing", async () => {
    const img = await pushImage(reg, "kept/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
    const proxy = startFaultProxy(reg.url);
    const dir = mkdtempSync(join(tmpdir(), "ls-prepare-"));
    try {
      const store = openCache({ enabled: true, dir, warn: (m) => expect(m).toBe("no warning") });
      await new RegistryClient({ ...quick, blobCache: store }).fetchManifest(parseReference(`${proxy.host}/kept/app:v1`));
      let prepared = 0;
      const cache: BlobCache = { getBlob: (d) => store.getBlob(d), putBlob: (d, t, b) => store.putBlob(d, t, b), prepare: () => void prepared++ };
      const before = proxy.requests.length;
      const m = await new RegistryClient({ ...quick, blobCache: cache }).fetchManifest(parseReference(`${proxy.host}/kept/app@${img.digest}`), img.digest);
      expect(m.digest).toBe(img.digest);
      expect(proxy.requests.length).toBe(before);
      expect(prepared).toBe(0);
      store.close();
    } finally {
      proxy.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
