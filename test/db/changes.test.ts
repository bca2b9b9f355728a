import { expect, test } from "bun:test";
import { changesOf } from "../../src/db/changes.ts";
import { MergedTree } from "../../src/image/merge.ts";
import type { Entry } from "../../src/types.ts";

function e(path: string, type: Entry["type"] = "file", size = 1): Entry {
  return { path, type, mode: 0o644, size, uid: 0, gid: 0, mtime: 0, headerOffset: 0, compressedOffset: 0 };
}

test("only what a listing does not say is kept: modified, replaced, deleted, hidden", () => {
  const tree = new MergedTree();
  tree.addLayer([e("etc", "dir"), e("etc/a"), e("etc/b"), e("opt", "dir"), e("opt/x", "dir"), e("opt/x/y"), e("keep")], 0);
  tree.addLayer([e("etc/a", "file", 2), e("etc/.wh.b"), e("opt/x/.wh..wh..opq")], 1);
  tree.addLayer([e("etc/a", "file", 3)], 2);
  const changes = changesOf(tree.events()).sort((x, y) => (x.path + x.position < y.path + y.position ? -1 : 1));
  expect(changes).toEqual([
    { position: 0, path: "etc/a", action: "added", fate: "replaced", fatePosition: 1 },
    { position: 1, path: "etc/a", action: "modified", fate: "replaced", fatePosition: 2 },
    { position: 2, path: "etc/a", action: "modified", fate: "present" },
    { position: 0, path: "etc/b", action: "added", fate: "deleted", fatePosition: 1 },
    { position: 1, path: "etc/b", action: "deleted", entry: { type: "file", mode: 0o644, size: 1 } },
    { position: 0, path: "opt/x/y", action: "added", fate: "hidden", fatePosition: 1 },
    { position: 1, path: "opt/x/y", action: "hidden", entry: { type: "file", mode: 0o644, size: 1 } },
  ]);
});

test("implied parent directories are not facts of the image", () => {
  const tree = new MergedTree();
  tree.addLayer([e("a/b/c")], 0);
  tree.addLayer([e("a/.wh.b")], 1);
  expect(
    changesOf(tree.events())
      .map((c) => `${c.position} ${c.path} ${c.action}`)
      .sort(),
  ).toEqual(["0 a/b/c added", "1 a/b/c deleted"]);
});
