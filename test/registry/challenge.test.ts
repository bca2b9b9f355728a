import { expect, test } from "bun:test";
import { parseChallenges, pickChallenge } from "../../src/registry/challenge.ts";
import { isForeignLayer } from "../../src/oci/manifest.ts";
import { choosePlatform, parsePlatform } from "../../src/oci/platform.ts";
import { retryDelay } from "../../src/registry/retry.ts";

test("bearer challenge with quoted commas in scope", () => {
  const [c] = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"');
  expect(c).toEqual({ scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" } });
});

test("several challenges, escaped quotes, unquoted values, case-insensitive names", () => {
  const cs = parseChallenges('Basic realm="say \\"hi\\"", BEARER Realm=https://a/t , error="invalid_token"');
  expect(cs).toEqual([
    { scheme: "basic", params: { realm: 'say "hi"' } },
    { scheme: "bearer", params: { realm: "https://a/t", error: "invalid_token" } },
  ]);
  expect(pickChallenge(cs)?.scheme).toBe("bearer");
  expect(parseChallenges(null)).toEqual([]);
});

test("Retry-After in seconds and as a date; backoff grows", () => {
  expect(retryDelay(0, 100, "2")).toBe(2000);
  const d = retryDelay(0, 100, new Date(Date.now() + 5000).toUTCString());
  expect(d).toBeGreaterThan(3000);
  expect(d).toBeLessThanOrEqual(5000);
  expect(retryDelay(3, 100, null)).toBeGreaterThan(retryDelay(0, 100, null));
});

test("platform parsing and variant defaults", () => {
  expect(parsePlatform("linux/arm/v7")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
  expect(() => parsePlatform("linux")).toThrow(/os\/arch/);
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:a", size: 1, platform: { os: "linux", architecture: "arm", variant: "v6" } },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:b", size: 1, platform: { os: "linux", architecture: "arm", variant: "v7" } },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:c", size: 1, platform: { os: "linux", architecture: "arm64" } },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:d", size: 1, platform: { os: "unknown", architecture: "unknown" } },
    ],
  };
  expect(choosePlatform(index, { os: "linux", architecture: "arm" }, "x").digest).toBe("sha256:b");
  expect(choosePlatform(index, { os: "linux", architecture: "arm", variant: "v6" }, "x").digest).toBe("sha256:a");
  expect(choosePlatform(index, { os: "linux", architecture: "arm64", variant: "v8" }, "x").digest).toBe("sha256:c");
  expect(() => choosePlatform(index, { os: "windows", architecture: "amd64" }, "x")).toThrow(/available: linux\/arm\/v6, linux\/arm\/v7, linux\/arm64$/);
});

test("foreign layers need both urls and a non-distributable type", () => {
  expect(isForeignLayer({ mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", urls: ["https://x/y"] })).toBe(true);
  expect(isForeignLayer({ mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", urls: ["https://x/y"] })).toBe(true);
  expect(isForeignLayer({ mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" })).toBe(false);
  expect(isForeignLayer({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", urls: ["https://x/y"] })).toBe(false);
});
