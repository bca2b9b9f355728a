import { expect, test } from "bun:test";
import { diffPackages } from "../../src/analysis/package-diff.ts";
import type { Package } from "../../src/packages/model.ts";

const p = (name: string, version: string, architecture = "amd64"): Package => ({ manager: "dpkg", name, version, architecture });

test("packages added, removed and changed, by manager, name and architecture", () => {
  const a = [p("bash", "5.2-1"), p("libc6", "2.36-9"), p("libc6", "2.36-9", "i386"), p("old", "1")];
  const b = [p("bash", "5.2-2"), p("libc6", "2.36-9"), p("new", "0.1")];
  expect(diffPackages(a, b)).toEqual([
    { manager: "dpkg", name: "bash", architecture: "amd64", kind: "changed", a: "5.2-1", b: "5.2-2" },
    { manager: "dpkg", name: "libc6", architecture: "i386", kind: "removed", a: "2.36-9" },
    { manager: "dpkg", name: "new", architecture: "amd64", kind: "added", b: "0.1" },
    { manager: "dpkg", name: "old", architecture: "amd64", kind: "removed", a: "1" },
  ]);
  expect(diffPackages(a, a)).toEqual([]);
});
