import { expect, test } from "bun:test";
import { globMatcher, globToRegExp, userRegExp } from "../../src/image/glob.ts";

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
  ["*.{conf,ini}", "etc/app.ini", true],
  ["*.{conf,ini}", "etc/app.cfg", false],
  ["/{etc,usr/lib}/os-release", "usr/lib/os-release", true],
  ["/{etc,usr/lib}/os-release", "usr/os-release", false],
  ["{a,{b,c}d}x", "dir/cdx", true],
  ["{a,{b,c}d}x", "dir/cx", false],
  ["lib{,64}.so", "lib.so", true],
  ["x{}", "x{}", true],
  ["x{a", "x{a", true],
  ["a,b", "a,b", true],
  ["\\{a,b}", "{a,b}", true],
  ["[{]a", "{a", true],
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

test("-i: a glob or a --regex ignores case", () => {
  expect(globToRegExp("readme*").test("doc/README.md")).toBe(false);
  expect(globToRegExp("readme*", { ignoreCase: true }).test("doc/README.md")).toBe(true);
  expect(globMatcher("/USR/{LIB,bin}/*.SO", { ignoreCase: true })("usr/lib/libc.so")).toBe(true);
  expect(userRegExp("^/etc/PASSWD$", { ignoreCase: true }).test("/etc/passwd")).toBe(true);
});

/**
 * Bun's own glob and ours agree on every pattern globMatcher hands to Bun (no escapes, "**" only as
 * a whole component, no "{}"): each pair below is matched both ways, and globMatcher gives the same.
 */
const PATHS = [
  "a",
  "b",
  "a/b",
  "a/x/y/b",
  "x/b",
  ".hidden",
  "etc/app.conf",
  "etc/.x.conf",
  "usr/lib/libc.so",
  "usr/lib/libc.so.6",
  "ay",
  "xy",
  "bc",
  "dc",
  "b/c",
  "]",
  "*",
  "caf\udce9",
  "é",
  "lib.so",
  "lib64.so",
  "a/",
  "a/b/",
];
const BUN_PATTERNS = [
  "a/**/b",
  "**/b",
  "a/**",
  "**",
  "[!x]y",
  "[^x]y",
  "{a,b}c",
  "{a,{b,d}}c",
  "{a,b/c}",
  "*",
  "?",
  "a*",
  "*.conf",
  "[a-c]",
  "[]]",
  "[*]",
  "lib{,64}.so",
  "/usr/lib/*.so*",
  "usr/*/libc.so",
  "caf?",
  "é",
  "a/*/",
  "*/b",
];
for (const pattern of BUN_PATTERNS) {
  test(`Bun's glob and ours agree on ${pattern}`, () => {
    const ours = globToRegExp(pattern);
    const glob = new Bun.Glob(pattern.replace(/^\/+/, ""));
    const bun = pattern.includes("/") ? (p: string) => glob.match(p) : (p: string) => glob.match(p.slice(p.lastIndexOf("/") + 1));
    const matcher = globMatcher(pattern);
    for (const path of PATHS) {
      expect({ pattern, path, bun: bun(path) }).toEqual({ pattern, path, bun: ours.test(path) });
      expect({ pattern, path, matcher: matcher(path) }).toEqual({ pattern, path, matcher: ours.test(path) });
    }
  });
}

test("patterns Bun reads otherwise are matched by ours: ** inside a component, escapes, {}", () => {
  expect(globMatcher("a/**b")("a/x/yb")).toBe(true);
  expect(new Bun.Glob("a/**b").match("a/x/yb")).toBe(false);
  expect(globMatcher("x{}")("x{}")).toBe(true);
  expect(globMatcher("caf\\xe9")("caf\udce9")).toBe(true);
  expect(() => globMatcher("[abc")).toThrow(/unclosed/);
});
