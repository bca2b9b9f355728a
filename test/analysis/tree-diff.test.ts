import { describe, expect, test } from "bun:test";
import { diffConfigs } from "../../src/analysis/config-diff.ts";
import { diffTrees, type PathChange } from "../../src/analysis/tree-diff.ts";
import { MergedTree } from "../../src/image/merge.ts";
import type { Entry } from "../../src/types.ts";
import { dir, file, opq, sym, wh } from "../image/helpers.ts";

function tree(...layers: Entry[][]): MergedTree {
  const t = new MergedTree();
  for (const l of layers) t.addLayer(l);
  return t;
}

const brief = (c: PathChange) =>
  [c.kind, c.path, ...(c.fields.length ? [c.fields.join(",")] : []), ...(c.below ? [`below ${c.below}`] : []), ...(c.overSharedBase ? ["shared"] : [])].join(" ");

describe("diff of two merged trees (complete)", () => {
  const base = [
    dir("etc"),
    file("etc/passwd", { size: 10 }),
    file("etc/hosts", { size: 3 }),
    dir("usr/share/doc/a"),
    file("usr/share/doc/a/README", { size: 4 }),
    sym("bin/sh", "dash"),
  ];

  test("added, removed and modified paths, each field that differs, in path order; a directory on one side is one change", () => {
    const a = tree(base);
    const b = tree(base, [
      file("etc/passwd", { size: 12, mode: 0o600 }),
      wh("usr/share/doc"),
      sym("bin/sh", "bash"),
      dir("opt/new"),
      file("opt/new/x"),
      file("etc/hosts", { size: 3, mtime: 5 }),
    ]);
    expect([...diffTrees(a, b, false)].map(brief)).toEqual([
      "modified /bin/sh link",
      "modified /etc/hosts mtime",
      "modified /etc/passwd size,mode",
      "added /opt below 2",
      "removed /usr/share/doc below 2",
    ]);
    expect([...diffTrees(a, b, false, { ignoreMtime: true })].map(brief)).not.toContain("modified /etc/hosts mtime");
  });

  test("a type change is one change, not descended into; the same tree has no changes", () => {
    const a = tree([dir("x"), file("x/1"), file("x/2")]);
    const b = tree([file("x", { size: 9 })]);
    expect([...diffTrees(a, b, false)].map(brief)).toEqual(["modified /x type,mode"]);
    expect([...diffTrees(a, tree([dir("x"), file("x/1"), file("x/2")]), false)]).toEqual([]);
  });

  test("an opaque directory on one side shows what it hid as removed", () => {
    const a = tree([dir("d"), file("d/old"), file("d/keep")]);
    const b = tree([dir("d"), file("d/old"), file("d/keep")], [dir("d"), opq("d"), file("d/keep")]);
    expect([...diffTrees(a, b, false)].map(brief)).toEqual(["removed /d/old"]);
  });
});

describe("diff over a shared base that was not read", () => {
  test("each side's own layers: changes over the base are named without fields; deletions from the base are known", () => {
    // Only the layers above the shared base: A added nothing, B changed a file, deleted one and added one.
    const a = tree([]);
    const b = tree([dir("etc"), file("etc/passwd", { size: 12 }), wh("etc/motd"), file("srv/new", { size: 1 })]);
    expect([...diffTrees(a, b, true)].map(brief)).toEqual(["removed /etc/motd shared", "modified /etc/passwd shared", "modified /srv/new shared"]);
  });

  test("what both sides wrote alike is the same; a path deleted by one and written by the other is added or removed", () => {
    const a = tree([file("app/bin", { size: 5 }), wh("app/old")]);
    const b = tree([file("app/bin", { size: 5 }), file("app/old", { size: 2 })]);
    expect([...diffTrees(a, b, true)].map(brief)).toEqual(["added /app/old"]);
  });
});

describe("config diff", () => {
  test("settings as values, env and labels per key, history by step", () => {
    const a = {
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin", "A=1"], Cmd: ["sh"], Labels: { v: "1" }, ExposedPorts: { "80/tcp": {} } },
      history: [{ created_by: "ADD rootfs" }],
    };
    const b = {
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["bash"], User: "app", Labels: { v: "2", w: "x" } },
      history: [{ created_by: "ADD rootfs" }, { created_by: "RUN useradd app", empty_layer: true }],
    };
    expect(diffConfigs(a, b)).toEqual([
      { key: "User", b: "app" },
      { key: "Cmd", a: '["sh"]', b: '["bash"]' },
      { key: "Env A", a: "1" },
      { key: "Env PATH", a: "/bin", b: "/usr/bin:/bin" },
      { key: "Labels v", a: "1", b: "2" },
      { key: "Labels w", b: "x" },
      { key: "ExposedPorts 80/tcp", a: "" },
      { key: "History 1", b: "RUN useradd app (no layer)" },
    ]);
    expect(diffConfigs(a, a)).toEqual([]);
  });
});
