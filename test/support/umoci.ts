/**
 * Images made by a reference tool: Debian's umoci builds OCI layouts from root file systems
 * (unpack, edit, repack: one layer per repack, whiteouts for what was removed), and unpacks them
 * again as the reference merged file system.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function sh(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** A file in a root file system: text, or `n` bytes of 7s. */
export function put(root: string, path: string, content: string | number, mode = 0o644): void {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), typeof content === "number" ? new Uint8Array(content).fill(7) : content);
  chmodSync(join(root, path), mode);
}

/** A fresh OCI layout in a temp directory, and the umoci steps over it. */
export function umociLab(prefix: string) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const layout = join(work, "layout");
  sh(["umoci", "init", "--layout", layout]);
  /** A new tag from `from` (or an empty image), its root file system changed by `edit`. */
  const build = (tag: string, from: string | undefined, edit: (rootfs: string) => void, config: string[] = []): void => {
    if (!from) sh(["umoci", "new", "--image", `${layout}:${tag}`]);
    const bundle = join(work, `bundle-${tag}`);
    sh(["umoci", "unpack", "--image", `${layout}:${from ?? tag}`, bundle]);
    edit(join(bundle, "rootfs"));
    sh(["umoci", "repack", "--image", `${layout}:${tag}`, bundle]);
    if (config.length) sh(["umoci", "config", "--image", `${layout}:${tag}`, ...config]);
    rmSync(bundle, { recursive: true, force: true });
  };
  /** The root file system umoci unpacks from a tag. */
  const unpacked = (tag: string): string => {
    const bundle = join(work, `ref-${tag}`);
    rmSync(bundle, { recursive: true, force: true });
    sh(["umoci", "unpack", "--image", `${layout}:${tag}`, bundle]);
    return join(bundle, "rootfs");
  };
  return { work, layout, build, put, unpacked, sh };
}
