import { describe, expect, test } from "bun:test";
import { apiHost, digestProblem, formatReference, isLoopback, isRepositoryName, isTagName, manifestReference, parseReference, parseRegistry } from "../../src/ref/reference.ts";

const D = `sha256:${"ab".repeat(32)}`;

describe("parseReference", () => {
  const cases: [string, string][] = [
    ["alpine", "docker.io/library/alpine:latest"],
    ["alpine:3.20", "docker.io/library/alpine:3.20"],
    ["user/repo", "docker.io/user/repo:latest"],
    ["docker.io/alpine", "docker.io/library/alpine:latest"],
    ["index.docker.io/library/alpine:edge", "docker.io/library/alpine:edge"],
    ["ghcr.io/a/b/c:v1.2_3-x", "ghcr.io/a/b/c:v1.2_3-x"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/a/b:tag", "localhost:5000/a/b:tag"],
    ["127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"],
    ["[::1]:5000/app:t", "[::1]:5000/app:t"],
    ["[::1]/app", "[::1]/app:latest"],
    [`alpine@${D}`, `docker.io/library/alpine@${D}`],
    [`host.io:443/a/b:t@${D}`, `host.io:443/a/b:t@${D}`],
    ["my.registry/a__b/c.d/e-f--g:x", "my.registry/a__b/c.d/e-f--g:x"],
  ];
  for (const [input, want] of cases) {
    test(`${input} → ${want}`, () => expect(formatReference(parseReference(input))).toBe(want));
  }

  test("digest wins over tag when asking the registry", () => {
    expect(manifestReference(parseReference(`a/b:t@${D}`))).toBe(D);
    expect(manifestReference(parseReference("a/b:t"))).toBe("t");
  });

  test("a bare repository keeps no tag when allowed", () => {
    expect(parseReference("localhost:5000/a", { allowBare: true }).tag).toBeUndefined();
  });

  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["Alpine", /lower-case/],
    ["a//b", /empty path component/],
    ["a/b:", /tag ""/],
    ["a/b:-x", /tag "-x"/],
    ["a/b@sha256:123", /64 lower-case hex/],
    ["a/b@nodigest", /algorithm:hex/],
    ["host:99999/a", /registry host/],
    ["a b", /white space/],
    ["a/b_/c", /component "b_"/],
    ["host.io/", /repository name is missing/],
  ];
  for (const [input, msg] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => expect(() => parseReference(input)).toThrow(msg));
  }
});

test("apiHost maps docker.io to its API host only", () => {
  expect(apiHost("docker.io")).toBe("registry-1.docker.io");
  expect(apiHost("ghcr.io")).toBe("ghcr.io");
});

test("isLoopback", () => {
  for (const h of ["localhost", "localhost:5000", "127.0.0.1", "127.3.4.5:80", "[::1]:5000", "[::1]"]) expect(isLoopback(h)).toBe(true);
  for (const h of ["docker.io", "10.0.0.1:5000", "128.0.0.1", "localhost.example.com"]) expect(isLoopback(h)).toBe(false);
});

test("a registry on its own: host[:port], [v6]:port, or written as a URL; Docker Hub's names are docker.io", () => {
  expect(parseRegistry("localhost:5000")).toBe("localhost:5000");
  expect(parseRegistry("https://Registry.Example.com/")).toBe("registry.example.com");
  expect(parseRegistry("[::1]:5000")).toBe("[::1]:5000");
  expect(parseRegistry("index.docker.io")).toBe("docker.io");
  for (const bad of ["", "a b", "host/repo", "host:99999", "user@host"]) expect(() => parseRegistry(bad)).toThrow(/^invalid registry/);
});

describe("names from a server checked against the grammar", () => {
  test("repository names", () => {
    for (const ok of ["a", "a/b", "a-b/c_d/e.f", "a__b/c--d", "x".repeat(255)]) expect(isRepositoryName(ok)).toBe(true);
    for (const bad of ["", "A", "a/", "/a", "a//b", "../a", "a/..", "a\x1b[31m", "a\nb", "a b", "a\u202e", "-a", "a-", "x".repeat(256)]) expect(isRepositoryName(bad)).toBe(false);
  });
  test("tags", () => {
    for (const ok of ["v1", "latest", "_x", "1.0-rc_2", "x".repeat(128)]) expect(isTagName(ok)).toBe(true);
    for (const bad of ["", ".x", "-x", "a b", "a\x07", "a:b", "a/b", "x".repeat(129), "v\u202e1"]) expect(isTagName(bad)).toBe(false);
  });
  test("digests", () => {
    expect(digestProblem(`sha256:${"a".repeat(64)}`)).toBeUndefined();
    expect(digestProblem("sha256:abc")).toMatch(/64 lower-case hex/);
    expect(digestProblem("sha256:../../etc")).toMatch(/algorithm:hex/);
    expect(digestProblem("sha256:\x1b[31m")).toMatch(/algorithm:hex/);
  });
  test("an invalid reference is shown escaped in its message", () => {
    expect(() => parseReference("a/b:\x1b[31m")).toThrow('invalid image reference "a/b:\\x1b[31m": tag "\\x1b[31m" may only hold');
  });
});
