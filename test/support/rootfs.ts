import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

export interface FsEntry {
  type: "file" | "dir" | "symlink" | "other";
  size?: number;
  linkname?: string;
}

/**
 * The reference merged filesystem, made by another tool: GNU tar extracts the layers in order into
 * a directory, and whiteouts are applied before each layer's own files (they act on lower layers).
 */
export function referenceRootfs(tars: Uint8Array[]): string {
  const root = mkdtempSync(join(tmpdir(), "ls-rootfs-"));
  for (const tar of tars) {
    // `tar -tv` lines: "drwxr-xr-x 0/0 0 2024-03-01 12:34 path[ -> target]" (fixture names have no spaces).
    const list = Bun.spawnSync(["tar", "-tv", "--quoting-style=literal", "-f", "-"], { stdin: tar });
    const members = list.stdout
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const f = line.split(/\s+/);
        return { isDir: line[0] === "d", path: f[5]!.replace(/^\.\//, "").replace(/\/$/, "") };
      });
    for (const { isDir, path: m } of members) {
      // A directory over a lower non-directory, or a non-directory over a lower directory, replaces it.
      try {
        const st = lstatSync(join(root, m));
        if (st.isDirectory() !== isDir && m !== "" && m !== ".") rmSync(join(root, m), { recursive: true, force: true });
      } catch {}
      const name = basename(m);
      const dir = join(root, dirname(m));
      if (name === ".wh..wh..opq") {
        try {
          for (const child of readdirSync(dir)) rmSync(join(dir, child), { recursive: true, force: true });
        } catch {}
      } else if (name.startsWith(".wh.")) {
        rmSync(join(dir, name.slice(4)), { recursive: true, force: true });
      }
    }
    const x = Bun.spawnSync(["tar", "-x", "--exclude=.wh.*", "--overwrite", "--no-same-owner", "-C", root, "-f", "-"], { stdin: tar, stderr: "pipe" });
    if (x.exitCode !== 0) throw new Error(`reference extraction failed: ${x.stderr.toString()}`);
  }
  return root;
}

/** Every path below `root` (relative, no leading "/"), as lstat sees it. */
export function walkRootfs(root: string): Map<string, FsEntry> {
  const out = new Map<string, FsEntry>();
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      if (st.isSymbolicLink()) out.set(p, { type: "symlink", linkname: readlinkSync(join(root, p)) });
      else if (st.isDirectory()) {
        out.set(p, { type: "dir" });
        visit(p);
      } else if (st.isFile()) out.set(p, { type: "file", size: st.size });
      else out.set(p, { type: "other" });
    }
  };
  visit("");
  return out;
}
