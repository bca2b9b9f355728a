import { describe, expect, test } from "bun:test";
import { hubRepository, hubTag, newestFirst, searchResult } from "../../src/hub/shapes.ts";

describe("Docker Hub's records, read as untrusted", () => {
  test("a tag: push time from tag_last_pushed, else last_updated; digests only when they look like digests", () => {
    const t = hubTag({
      name: "v1",
      last_updated: "2024-01-02T03:04:05Z",
      full_size: 10,
      digest: "sha256:\x1b[31m",
      images: [{ os: "linux", architecture: "arm64", variant: "v8", digest: `sha256:${"a".repeat(64)}`, size: 5 }, { digest: "nope" }, "junk", null],
    });
    expect(t).toEqual({
      name: "v1",
      pushed: "2024-01-02T03:04:05.000Z",
      size: 10,
      images: [{ platform: "linux/arm64/v8", digest: `sha256:${"a".repeat(64)}`, size: 5 }, { platform: "unknown/unknown" }],
    });
    expect(hubTag({ name: "" })).toBeUndefined();
    expect(hubTag({ name: "x", images: "many", tag_last_pushed: "not a time" })).toEqual({ name: "x", images: [] });
  });

  test("a repository is named namespace/name, its own namespace first", () => {
    expect(hubRepository({ name: "redis", namespace: "bitnami", is_private: true }, "asked")).toEqual({ name: "bitnami/redis", private: true });
    expect(hubRepository({ name: "redis" }, "asked")).toEqual({ name: "asked/redis" });
    expect(hubRepository({ namespace: "x" }, "asked")).toBeUndefined();
  });

  test("search results: long strings are bounded", () => {
    const r = searchResult({ repo_name: "a".repeat(10_000), short_description: "d".repeat(10_000) })!;
    expect(r.name).toHaveLength(256);
    expect(r.description).toHaveLength(1000);
  });

  test("newest first; tags without a push time last, in the server's order", () => {
    const tags = [
      { name: "a", images: [] },
      { name: "b", pushed: "2020-01-01T00:00:00.000Z", images: [] },
      { name: "c", images: [] },
      { name: "d", pushed: "2024-01-01T00:00:00.000Z", images: [] },
    ];
    expect(newestFirst(tags).map((t) => t.name)).toEqual(["d", "b", "a", "c"]);
  });
});
