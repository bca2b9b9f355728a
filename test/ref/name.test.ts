import { describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { formatImageName, parseImageName } from "../../src/ref/name.ts";
import { formatReference } from "../../src/ref/reference.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("image names with a transport, as skopeo spells them", () => {
  test("registry references, with or without docker://", () => {
    expect(parseImageName("alpine")).toEqual({ transport: "registry", ref: { registry: "docker.io", repository: "library/alpine", tag: "latest" } });
    expect(parseImageName("docker://127.0.0.1:5000/a/b:v1")).toEqual({ transport: "registry", ref: { registry: "127.0.0.1:5000", repository: "a/b", tag: "v1" } });
    expect(parseImageName("docker://a/b", { allowBare: true })).toEqual({ transport: "registry", ref: { registry: "docker.io", repository: "a/b" } });
  });

  test("oci: and oci-archive: split the path at the first colon; a digest after @", () => {
    expect(parseImageName("oci:/data/layout")).toEqual({ transport: "oci", path: "/data/layout" });
    expect(parseImageName("oci:/data/layout:v1.2")).toEqual({ transport: "oci", path: "/data/layout", tag: "v1.2" });
    expect(parseImageName(`oci:rel/dir@${D}`)).toEqual({ transport: "oci", path: "rel/dir", digest: D });
    expect(parseImageName("oci-archive:/tmp/img.tar:latest")).toEqual({ transport: "oci-archive", path: "/tmp/img.tar", tag: "latest" });
    // A path may hold "@" when no digest follows it.
    expect(parseImageName("oci:/srv/me@home:t")).toEqual({ transport: "oci", path: "/srv/me@home", tag: "t" });
  });

  test("docker-archive: takes a full image name after the path", () => {
    expect(parseImageName("docker-archive:/tmp/s.tar")).toEqual({ transport: "docker-archive", path: "/tmp/s.tar" });
    expect(parseImageName("docker-archive:/tmp/s.tar:app:v1")).toEqual({
      transport: "docker-archive",
      path: "/tmp/s.tar",
      ref: { registry: "docker.io", repository: "library/app", tag: "v1" },
    });
    const n = parseImageName("docker-archive:s.tar:quay.io/x/y:2");
    expect(formatImageName(n, formatReference)).toBe("docker-archive:s.tar:quay.io/x/y:2");
  });

  test("bad names are usage errors that say what is wrong", () => {
    const bad = (s: string, why: RegExp) => {
      let err: unknown;
      try {
        parseImageName(s);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LayerslayerError);
      expect((err as LayerslayerError).code).toBe("USAGE");
      expect((err as LayerslayerError).message).toMatch(why);
    };
    bad("oci:", /the path is missing/);
    bad("oci::v1", /the path is missing/);
    bad("oci:/x:", /nothing follows/);
    bad(`oci:/x:v1@${D}`, /a tag or a digest, not both/);
    bad("oci:/x@sha256:abc", /64 lower-case hex/);
    bad("docker-archive:/x.tar:Bad Name", /invalid image reference/);
    bad("oci:/x:a\u001bb", /control characters/);
  });
});
