import { expect, test } from "bun:test";
import { globToRegExp, userRegExp } from "../../src/image/glob.ts";

const cases: [string, string, boolean][] = [
  ["passwd", "etc/passwd", true],
  ["passwd", "etc/passwd-", false],
  ["*.so", "usr/lib/libc.so", true],
  ["*.so", "usr/lib/libc.so.6", false],
  ["/etc/*", "etc/passwd", true],
  ["/etc/*", "etc/ssl/certs", false],
  ["etc/**", "etc/ssl/certs/ca.pem", true],
  ["/usr/**/*.py", "usr/lib/python3/site.py", true],
  ["/usr/**/*.py", "usr/x.py", true],
  ["**/bin/sh", "bin/sh", true],
  ["**/bin/sh", "usr/bin/sh", true],
  ["lib?.a", "usr/lib/libz.a", true],
  ["lib?.a", "usr/lib/libzz.a", false],
  ["[ab]*.txt", "x/a1.txt", true],
  ["[!ab]*.txt", "x/a1.txt", false],
  ["a\\*b", "a*b", true],
  ["a\\*b", "axb", false],
  ["file.txt", "filextxt", false],
];
for (const [glob, path, want] of cases) {
  test(`${glob} ${want ? "matches" : "does not match"} ${path}`, () => expect(globToRegExp(glob).test(path)).toBe(want));
}

test("bad patterns are usage errors", () => {
  expect(() => globToRegExp("")).toThrow(/empty/);
  expect(() => globToRegExp("[abc")).toThrow(/unclosed/);
  expect(() => userRegExp("(")).toThrow(/invalid regular expression/);
});

test("escapes as ls prints them name bytes of names that are not UTF-8, in globs and in --regex", () => {
  expect(globToRegExp("caf\\xe9").test("dir/caf\udce9")).toBe(true);
  expect(globToRegExp("caf\\xe9").test("dir/café")).toBe(false);
  expect(globToRegExp("caf\\xc3\\xa9").test("dir/café")).toBe(true);
  expect(globToRegExp("*\\x80*").test("a\udc80b")).toBe(true);
  expect(globToRegExp("a\\\\b").test("a\\b")).toBe(true);
  expect(globToRegExp("a\\*").test("a*")).toBe(true);
  expect(userRegExp("\\x80$").test("/a\udc80")).toBe(true);
  expect(userRegExp("\\x80$").test("/a\u0080")).toBe(false);
  expect(userRegExp("\\\\x80$").test("/a\\x80")).toBe(true);
});
