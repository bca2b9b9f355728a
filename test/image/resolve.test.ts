import { describe, expect, test } from "bun:test";
import { isLayerslayerError, type LayerslayerError } from "../../src/errors.ts";
import { mergeLayers } from "../../src/image/merge.ts";
import { MAX_SYMLINK_HOPS, resolvePath } from "../../src/image/resolve.ts";
import { dir, file, opq, sym, wh } from "./helpers.ts";

function failure(fn: () => unknown): LayerslayerError {
  try {
    fn();
  } catch (e) {
    if (isLayerslayerError(e)) return e;
    throw e;
  }
  throw new Error("expected a LayerslayerError");
}

const tree = mergeLayers([
  [
    dir("usr"),
    dir("usr/bin"),
    file("usr/bin/env"),
    dir("usr/lib"),
    file("usr/lib/libc.so"),
    sym("bin", "usr/bin"), // relative, at root
    sym("lib", "/usr/lib"), // absolute
    sym("usr/bin/sh", "dash"), // relative, same dir
    file("usr/bin/dash"),
    sym("usr/bin/up", "../lib/libc.so"),
    sym("usr/bin/escape", "../../../../usr/lib/libc.so"), // climbs above / and stays at /
    sym("etc/alternatives/x", "/bin/sh"), // chain: x -> /bin/sh -> (bin->usr/bin) -> dash
    sym("loop1", "loop2"),
    sym("loop2", "loop1"),
    sym("self", "self"),
    sym("empty", ""),
    sym("dangling", "/nope"),
    sym("tofile", "usr/bin/dash"),
    file("gone"),
    dir("d"),
    file("d/f"),
  ],
  [wh("gone"), opq("d")],
]);

describe("resolvePath", () => {
  test("plain paths, absolute or not", () => {
    expect(resolvePath(tree, "/usr/bin/env", { followFinal: true }).path).toBe("usr/bin/env");
    expect(resolvePath(tree, "usr/bin/env", { followFinal: false }).hops).toBe(0);
    expect(resolvePath(tree, "/", { followFinal: true }).path).toBe(".");
  });

  test("final symlink followed only when asked", () => {
    expect(resolvePath(tree, "/usr/bin/sh", { followFinal: false }).path).toBe("usr/bin/sh");
    const r = resolvePath(tree, "/usr/bin/sh", { followFinal: true });
    expect(r.path).toBe("usr/bin/dash");
    expect(r.node.entry.type).toBe("file");
    expect(r.hops).toBe(1);
  });

  test("relative and absolute targets", () => {
    expect(resolvePath(tree, "/bin", { followFinal: true }).path).toBe("usr/bin");
    expect(resolvePath(tree, "/lib", { followFinal: true }).path).toBe("usr/lib");
    expect(resolvePath(tree, "/usr/bin/up", { followFinal: true }).path).toBe("usr/lib/libc.so");
  });

  test("symlinked directories in the middle of a path are followed", () => {
    const r = resolvePath(tree, "/bin/env", { followFinal: false });
    expect(r.path).toBe("usr/bin/env");
    expect(resolvePath(tree, "/lib/libc.so", { followFinal: false }).path).toBe("usr/lib/libc.so");
    // "bin/.." is the parent of the link's target, like the kernel does it
    expect(resolvePath(tree, "/bin/../lib/libc.so", { followFinal: false }).path).toBe("usr/lib/libc.so");
  });

  test("chains across several links", () => {
    const r = resolvePath(tree, "/etc/alternatives/x", { followFinal: true });
    expect(r.path).toBe("usr/bin/dash");
    expect(r.hops).toBe(3);
  });

  test(".. cannot climb above /", () => {
    expect(resolvePath(tree, "/../../usr/bin/env", { followFinal: true }).path).toBe("usr/bin/env");
    expect(resolvePath(tree, "/..", { followFinal: true }).path).toBe(".");
    expect(resolvePath(tree, "/usr/bin/escape", { followFinal: true }).path).toBe("usr/lib/libc.so");
  });

  test("loops are detected", () => {
    for (const p of ["/loop1", "/self", "/loop1/x"]) {
      const e = failure(() => resolvePath(tree, p, { followFinal: true }));
      expect(e.code).toBe("CORRUPT");
      expect(e.message).toContain("too many levels of symbolic links");
    }
    // not following the final link is fine
    expect(resolvePath(tree, "/loop1", { followFinal: false }).path).toBe("loop1");
  });

  test("40 hops are allowed, 41 are not", () => {
    const links = [file("end")];
    for (let i = 0; i < 41; i++) links.push(sym(`l${i}`, i === 0 ? "end" : `l${i - 1}`));
    const t = mergeLayers([links]);
    expect(resolvePath(t, `/l${MAX_SYMLINK_HOPS - 1}`, { followFinal: true }).hops).toBe(40);
    expect(failure(() => resolvePath(t, `/l${MAX_SYMLINK_HOPS}`, { followFinal: true })).code).toBe("CORRUPT");
  });

  test("missing, dangling, empty target and not-a-directory are NOT_FOUND", () => {
    const missing = failure(() => resolvePath(tree, "/usr/nothing", { followFinal: true }));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toContain("no such file or directory");
    const dangling = failure(() => resolvePath(tree, "/dangling", { followFinal: true }));
    expect(dangling.code).toBe("NOT_FOUND");
    expect(dangling.message).toContain("/nope");
    expect(failure(() => resolvePath(tree, "/empty", { followFinal: true })).code).toBe("NOT_FOUND");
    const notDir = failure(() => resolvePath(tree, "/usr/bin/env/x", { followFinal: true }));
    expect(notDir.code).toBe("NOT_FOUND");
    expect(notDir.message).toContain("not a directory");
    expect(failure(() => resolvePath(tree, "/tofile/", { followFinal: false })).message).toContain("not a directory");
  });

  test("deleted and hidden paths say which layer did it", () => {
    const gone = failure(() => resolvePath(tree, "/gone", { followFinal: true }));
    expect(gone.code).toBe("NOT_FOUND");
    expect(gone.message).toContain("deleted in layer 1");
    const hidden = failure(() => resolvePath(tree, "/d/f", { followFinal: true }));
    expect(hidden.message).toContain("opaque directory in layer 1");
  });

  test("trailing slash follows a final symlink to a directory", () => {
    expect(resolvePath(tree, "/bin/", { followFinal: false }).path).toBe("usr/bin");
  });

  test("escapes untrusted names in messages", () => {
    const e = failure(() => resolvePath(tree, "/\x1b[31mred", { followFinal: true }));
    expect(e.message).not.toContain("\x1b");
    expect(e.message).toContain("\\x1b[31mred");
  });
});
