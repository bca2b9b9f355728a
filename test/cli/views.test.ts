import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN, runCli } from "../support/cli.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { compress, gnuTar, makeTree, pushImage, type FileSpec, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { referenceRootfs, walkRootfs, type FsEntry } from "../support/rootfs.ts";
import { bytesOf, concat, END, member } from "../tar/helpers.ts";

const enc = new TextEncoder();

/** Tar (GNU, pax) of files; `order` fixes the member order (dirs must then be listed too). */
function tarOf(files: FileSpec[], order?: string[]): Uint8Array {
  const root = makeTree(files);
  try {
    return gnuTar(root, "pax", order);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const L0: FileSpec[] = [
  { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
  { path: "etc/group", content: "root:x:0:\n" },
  { path: "bin/sh", content: "#!/bin/busybox sh\n", mode: 0o755 },
  { path: "bin/ls", hardlink: "bin/sh" },
  { path: "usr/lib/libc.so", content: "ELF-libc" },
  { path: "usr/lib/os-release", content: "ID=fixture\nVERSION_ID=1\n" },
  { path: "usr/share/doc/pkg/README", content: "old readme" },
  { path: "usr/share/doc/pkg/CHANGES", content: "old changes" },
  { path: "lib", symlink: "usr/lib" },
  { path: "opt/app/config/a.conf", content: "a=1" },
  { path: "opt/app/config/b.conf", content: "b=1" },
  { path: "opt/app/data/x", content: "x" },
  { path: "var/cache/apt/archives/p1.deb", content: "deb" },
  { path: "var/cache/apt/lists/l1", content: "list" },
  { path: "var/log/old.log", content: "old" },
  { path: "srv/dir/inner.txt", content: "inner" },
  { path: "home/user/file", content: "was a file" },
  { path: "link1", symlink: "link2" },
  { path: "link2", symlink: "/etc/passwd" },
  { path: "loop1", symlink: "loop2" },
  { path: "loop2", symlink: "/loop1" },
  { path: "etc/alternatives/editor", symlink: "../../usr/lib/os-release" },
  { path: "etc/alternatives/pager", symlink: "/usr/bin/\x1b[31mless" },
];

// Layer 1: deletions, a directory made opaque with its marker AFTER a new entry, dir → file, file → dir.
const L1files: FileSpec[] = [
  { path: "etc/.wh.group", content: "" },
  { path: "var/cache/.wh.apt", content: "" },
  { path: "opt/app/config/c.conf", content: "c=1" },
  { path: "opt/app/.wh..wh..opq", content: "" },
  { path: "srv/dir", content: "now a file" },
  { path: "home/user/file/nested.txt", content: "now a dir" },
];
const L1order = [
  "etc",
  "etc/.wh.group",
  "var",
  "var/cache",
  "var/cache/.wh.apt",
  "opt",
  "opt/app",
  "opt/app/config",
  "opt/app/config/c.conf",
  "opt/app/.wh..wh..opq",
  "srv",
  "srv/dir",
  "home",
  "home/user",
  "home/user/file",
  "home/user/file/nested.txt",
];

// Layer 2: file → dir again, opaque dirs at two depths, a modified file, a new hard link.
const L2files: FileSpec[] = [
  { path: "srv/dir/.wh..wh..opq", content: "" },
  { path: "srv/dir/new.txt", content: "dir again" },
  { path: "var/.wh..wh..opq", content: "" },
  { path: "var/log/new.log", content: "new" },
  { path: "usr/share/doc/pkg/.wh..wh..opq", content: "" },
  { path: "usr/share/doc/pkg/README", content: "new readme" },
  { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/ash\nuser:x:1000:1000::/home/user:/bin/sh\n" },
  { path: "bin/busybox", content: "BUSYBOX", mode: 0o755 },
  { path: "bin/ash", hardlink: "bin/busybox" },
];

describe("merged views on a real registry", () => {
  const reg = useRegistry();
  let big: PushedImage;
  let tars: Uint8Array[];
  beforeAll(async () => {
    tars = [tarOf(L0), tarOf(L1files, L1order), tarOf(L2files)];
    await pushImage(reg, "views/app", "v1", {
      layers: tars.map((t) => ({ bytes: compress(t, "gzip") })),
      history: [{ created_by: "ADD rootfs.tar /" }, { created_by: "RUN cleanup" }, { created_by: "RUN upgrade" }],
    });
    // A large top layer whose first member is small: cat must stop early.
    const files: FileSpec[] = [{ path: "aaa/first.txt", content: "the first file\n" }];
    for (let i = 0; i < 300; i++) files.push({ path: `data/blob-${String(i).padStart(3, "0")}`, content: crypto.getRandomValues(new Uint8Array(30_000)) });
    big = await pushImage(reg, "views/big", "v1", { layers: [{ bytes: compress(tars[0]!, "gzip") }, { bytes: compress(tarOf(files), "gzip") }] });
  }, 60_000);
  const ref = () => `${reg.host}/views/app:v1`;

  test("ls -R of / matches GNU tar extracting the layers with whiteouts applied", async () => {
    const r = await runCli(["ls", ref(), "/", "-R", "--json"]);
    expect(r.stderr).toBe("");
    const ours = new Map<string, FsEntry>();
    const doc = JSON.parse(r.stdout);
    const byPath = new Map<string, { path: string; type: string; size: number; linkname?: string }>(doc.entries.map((e: { path: string }) => [e.path, e]));
    for (const e of doc.entries as { path: string; type: string; size: number; linkname?: string }[]) {
      let t = e;
      if (e.type === "hardlink") t = byPath.get(e.linkname!)!; // extracted as a regular file
      const type = t.type === "file" ? "file" : t.type === "dir" ? "dir" : t.type === "symlink" ? "symlink" : "other";
      expect(e.path.startsWith("/")).toBe(true);
      ours.set(e.path.slice(1), { type, ...(type === "file" ? { size: t.size } : {}), ...(type === "symlink" ? { linkname: t.linkname } : {}) } as FsEntry);
    }
    const root = referenceRootfs(tars);
    try {
      const reference = walkRootfs(root);
      expect(Object.fromEntries([...ours].sort())).toEqual(Object.fromEntries([...reference].sort()));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    // Spot checks of the rules, so a shared blind spot of both sides cannot hide.
    expect(ours.has("etc/group")).toBe(false);
    expect(ours.has("var/cache")).toBe(false);
    expect([...ours.keys()].filter((p) => p.startsWith("opt/app/"))).toEqual(["opt/app/config", "opt/app/config/c.conf"]);
    expect(ours.get("srv/dir")?.type).toBe("dir");
    expect([...ours.keys()].filter((p) => p.startsWith("srv/dir/"))).toEqual(["srv/dir/new.txt"]);
    expect(ours.get("home/user/file")?.type).toBe("dir");
    expect([...ours.keys()].filter((p) => p.startsWith("var/"))).toEqual(["var/log", "var/log/new.log"]);
    expect([...ours.keys()].filter((p) => p.startsWith("usr/share/doc/pkg/"))).toEqual(["usr/share/doc/pkg/README"]);
  });

  test("ls -l of a directory shows the layer that gave each entry; through a symlinked dir too", async () => {
    const r = await runCli(["ls", ref(), "/bin", "-l"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(" ")[l.includes(" link to ") ? l.split(" ").length - 4 : l.split(" ").length - 1])).toEqual(["ash", "busybox", "ls", "sh"]);
    // GNU tar stores the first name (bin/ash) as the file and bin/busybox as a link to it.
    expect(lines.find((l) => l.includes(" busybox link to bin/ash"))).toMatch(/^L2 /);
    expect(lines.find((l) => l.includes(" sh link to bin/ls"))).toMatch(/^L0 /);
    const viaLink = await runCli(["ls", ref(), "/lib"]);
    expect(viaLink.stdout.trim().split("\n")).toEqual(["libc.so", "os-release"]);
  });

  test("ls --tree shows a symlink's target once, escaped once", async () => {
    const r = await runCli(["ls", ref(), "/etc/alternatives", "--tree"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("── editor -> ../../usr/lib/os-release\n");
    expect(r.stdout).toContain("── pager -> /usr/bin/\\x1b[31mless\n");
    expect(r.stdout).not.toContain("\x1b");
  });

  test("ls --tree -l shows each entry's layer, mode, owner, size and time before its name", async () => {
    const r = await runCli(["ls", ref(), "/etc/alternatives", "--tree", "-l"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("/etc/alternatives");
    expect(lines[1]).toMatch(/^├── \[L0 lrwxrwxrwx +\S+ +\S+ +0 \d{4}-\d\d-\d\d \d\d:\d\d\]  editor -> \.\.\/\.\.\/usr\/lib\/os-release$/);
    expect(lines[2]).toMatch(/^└── \[L0 lrwxrwxrwx .*\]  pager -> \/usr\/bin\/\\x1b\[31mless$/);
    const bin = (await runCli(["ls", ref(), "/bin", "--tree", "-l", "--human"])).stdout;
    expect(bin).toMatch(/── \[L\d -rwxr-xr-x .*\]  ash\n/);
    // Without -l, no brackets.
    expect((await runCli(["ls", ref(), "/bin", "--tree"])).stdout).not.toContain("[");
  });

  test("ls --history marks overridden, deleted and hidden entries", async () => {
    const etc = (await runCli(["ls", ref(), "/etc", "--history"])).stdout;
    expect(etc).toMatch(/^L1 D .* group$/m); // deleted in layer 1
    expect(etc).toMatch(/^L0 O .* passwd$/m);
    expect(etc).toMatch(/^L2 {3}-rw-r--r-- .* passwd$/m);
    const opt = (await runCli(["ls", ref(), "/opt/app/config", "--history"])).stdout;
    expect(opt).toMatch(/^L1 H .* a\.conf$/m);
    expect(opt).toMatch(/^L1 {3}.* c\.conf$/m);
  });

  test("ls --layer shows one layer alone, whiteouts included as they are in the tar", async () => {
    const r = JSON.parse((await runCli(["ls", ref(), "/", "-R", "--layer", "1", "--json"])).stdout);
    const paths = r.entries.map((e: { path: string }) => e.path);
    expect(paths).toContain("/opt/app/config/c.conf");
    expect(paths).not.toContain("/etc/passwd");
    expect(paths.some((p: string) => p.includes(".wh."))).toBe(false);
    const two = await runCli(["ls", ref(), "/", "--layer", "0,1"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe("layerslayer: --layer 0,1: names 2 layers; give one\n");
  });

  test("find reports added, modified, deleted and hidden with the build step", async () => {
    const r = await runCli(["find", ref(), "*.conf", "--json"]);
    const hits = JSON.parse(r.stdout).hits.map((h: { path: string; layer: number; action: string; createdBy: string }) => `${h.layer} ${h.action} ${h.path} ${h.createdBy}`);
    expect(hits).toEqual([
      "0 added /opt/app/config/a.conf ADD rootfs.tar /",
      "1 hidden /opt/app/config/a.conf RUN cleanup",
      "0 added /opt/app/config/b.conf ADD rootfs.tar /",
      "1 hidden /opt/app/config/b.conf RUN cleanup",
      "1 added /opt/app/config/c.conf RUN cleanup",
    ]);
    const passwd = (await runCli(["find", ref(), "/etc/passwd"])).stdout.trim().split("\n");
    expect(passwd.length).toBe(2);
    expect(passwd[0]).toMatch(/^L0 added +-rw-r--r-- +\S+ \/etc\/passwd +ADD rootfs\.tar \/$/);
    expect(passwd[1]).toMatch(/^L2 modified .* RUN upgrade$/);
    const apt = JSON.parse((await runCli(["find", ref(), "/var/cache/**", "--json"])).stdout).hits;
    expect(apt.filter((h: { action: string }) => h.action === "deleted").map((h: { path: string }) => h.path)).toContain("/var/cache/apt/lists/l1");
    const re = JSON.parse((await runCli(["find", ref(), "^/srv/dir$", "--regex", "--json"])).stdout).hits;
    expect(re.map((h: { layer: number; action: string; type: string }) => `${h.layer} ${h.action} ${h.type}`)).toEqual(["0 added dir", "1 modified file", "2 modified dir"]);
  });

  test("find: {a,b} alternatives, -i ignores case, --min-size and --max-size bound the size", async () => {
    const paths = async (...args: string[]) => {
      const r = await runCli(["find", ref(), ...args, "--json"]);
      expect(r.code).toBe(0);
      return [...new Set(JSON.parse(r.stdout).hits.map((h: { path: string }) => h.path))];
    };
    expect(await paths("{a,c}.conf")).toEqual(["/opt/app/config/a.conf", "/opt/app/config/c.conf"]);
    expect(await paths("/{etc,usr/lib}/{passwd,os-release}")).toEqual(["/etc/passwd", "/usr/lib/os-release"]);
    expect(await paths("README")).toEqual(["/usr/share/doc/pkg/README"]);
    expect(await paths("readme")).toEqual([]);
    expect(await paths("readme", "-i")).toEqual(["/usr/share/doc/pkg/README"]);
    expect(await paths("/USR/share/*/PKG/{readme,changes}", "--ignore-case")).toEqual(["/usr/share/doc/pkg/CHANGES", "/usr/share/doc/pkg/README"]);
    expect(await paths("^/ETC/PASS", "--regex", "-i")).toEqual(["/etc/passwd"]);
    // os-release is 24 bytes, libc.so 8; passwd 30 in layer 0 and 68 in layer 2.
    expect(await paths("/usr/lib/*", "--min-size", "10")).toEqual(["/usr/lib/os-release"]);
    expect(await paths("/usr/lib/*", "--max-size", "10")).toEqual(["/usr/lib/libc.so"]);
    const passwd = JSON.parse((await runCli(["find", ref(), "passwd", "--min-size", "31", "--max-size", "1K", "--json"])).stdout).hits;
    expect(passwd.map((h: { layer: number; size: number }) => `${h.layer} ${h.size}`)).toEqual(["2 68"]);
    const bad = await runCli(["find", ref(), "*", "--min-size", "2K", "--max-size", "1K"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("layerslayer: --min-size 2K is above --max-size 1K\n");
  });

  test("cat follows symlink chains and hard links, honours whiteouts", async () => {
    const passwd = await runCli(["cat", ref(), "/link1"]);
    expect(passwd.stdout).toBe("root:x:0:0:root:/root:/bin/ash\nuser:x:1000:1000::/home/user:/bin/sh\n");
    expect(passwd.stderr).toMatch(/^\/etc\/passwd: 68 from layer 2, downloaded/);
    expect((await runCli(["cat", ref(), "/etc/alternatives/editor"])).stdout).toBe("ID=fixture\nVERSION_ID=1\n");
    expect((await runCli(["cat", ref(), "/lib/libc.so"])).stdout).toBe("ELF-libc");
    expect((await runCli(["carve", ref(), "bin/ls"])).stdout).toBe("#!/bin/busybox sh\n");
    expect((await runCli(["cat", ref(), "/bin/ash"])).stdout).toBe("BUSYBOX");
    const deleted = await runCli(["cat", ref(), "/etc/group"]);
    expect(deleted.code).toBe(4);
    expect(deleted.stderr).toBe("layerslayer: /etc/group: deleted in layer 1\n");
    const hidden = await runCli(["cat", ref(), "/opt/app/data/x"]);
    expect(hidden.stderr).toBe("layerslayer: /opt/app/data/x: hidden by an opaque directory in layer 1\n");
    const loop = await runCli(["cat", ref(), "/loop1"]);
    expect(loop.code).toBe(7);
    expect(loop.stderr).toBe("layerslayer: /loop1: too many levels of symbolic links\n");
    const dir = await runCli(["cat", ref(), "/srv/dir"]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toBe("layerslayer: /srv/dir: is a directory\n");
    const missing = await runCli(["cat", ref(), "/nope"]);
    expect(missing.code).toBe(4);
    expect(missing.stdout).toBe("");
  });

  test("cat -o writes the file atomically; a failed cat leaves no file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ls-cat-"));
    const ok = await runCli(["cat", ref(), "/usr/lib/os-release", "-o", join(dir, "os-release"), "--json"]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ path: "/usr/lib/os-release", layer: 0, size: 24 });
    expect(readFileSync(join(dir, "os-release"), "utf8")).toBe("ID=fixture\nVERSION_ID=1\n");
    const bad = await runCli(["cat", ref(), "/etc/group", "-o", join(dir, "group")]);
    expect(bad.code).toBe(4);
    expect(existsSync(join(dir, "group"))).toBe(false);
    expect(Bun.spawnSync(["ls", "-A", dir]).stdout.toString().trim()).toBe("os-release");
    rmSync(dir, { recursive: true, force: true });
  });

  test("cat -o gives the file the mode of its tar header, without setuid, setgid and sticky", async () => {
    const modes = { "bin/tool": 0o755, "bin/su": 0o4755, "etc/secret": 0o600, "tmp/note": 0o1666, "etc/group-run": 0o2750 };
    const layer = concat(...Object.entries(modes).map(([name, mode]) => member({ name, mode }, bytesOf(name))), END);
    await pushImage(reg, "views/modes", "v1", { layers: [{ bytes: compress(layer, "gzip") }] });
    const dir = mkdtempSync(join(tmpdir(), "ls-cat-mode-"));
    try {
      for (const [name, mode] of Object.entries(modes)) {
        const out = join(dir, name.replace("/", "-"));
        const r = await runCli(["cat", `${reg.host}/views/modes:v1`, `/${name}`, "-o", out, "-q"]);
        expect(r.code).toBe(0);
        expect(readFileSync(out, "utf8")).toBe(name);
        expect({ name, mode: (statSync(out).mode & 0o7777).toString(8) }).toEqual({ name, mode: (mode & 0o777).toString(8) });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("cat of a file near the start of a large layer downloads a small fraction of it", async () => {
    const r = await runCli(["cat", `${reg.host}/views/big:v1`, "/aaa/first.txt", "--json", "-o", "/dev/null"]);
    const d = JSON.parse(r.stdout);
    expect(d.layer).toBe(1);
    expect(d.layerSize).toBe(big.layers[1]!.size);
    // Ranged reads stop with the file: one small range of a 9 MB layer, not the stream a single GET would buffer.
    expect(d.bytesDownloaded).toBeLessThan(big.layers[1]!.size / 50);
    expect(d.totalDownloaded).toBe(d.bytesDownloaded);
    expect(require("node:fs").statSync("/dev/null").isCharacterDevice()).toBe(true); // written in place, not replaced
    const bin = await runCli(["cat", `${reg.host}/views/big:v1`, "/data/blob-007"]);
    expect(bin.bytes.byteLength).toBe(30_000);
  });

  test("Ctrl-C during cat -o leaves neither the file nor its temp file", async () => {
    const proxy = startFaultProxy(reg.url);
    const dir = mkdtempSync(join(tmpdir(), "ls-cat-int-"));
    let blobGets = 0;
    proxy.rule = (req) =>
      req.method === "GET" && req.url.includes("/blobs/") && !req.url.includes(big.configDigest) && ++blobGets === 3 ? { kind: "stall", afterBytes: 1000 } : undefined;
    try {
      const proc = Bun.spawn([process.execPath, MAIN, "cat", `${proxy.host}/views/big:v1`, "/data/blob-050", "-o", join(dir, "out.bin"), "--no-cache"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const deadline = Date.now() + 10_000;
      while (blobGets < 3 && Date.now() < deadline) await Bun.sleep(20);
      await Bun.sleep(200);
      expect(readdirSync(dir).length).toBe(1); // the temp file, while the transfer hangs
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(130);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      proxy.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("binary content comes out byte for byte", async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7919) & 0xff);
    const b = await pushImage(reg, "views/bin", "v1", { layers: [{ bytes: compress(tarOf([{ path: "bin.dat", content: bytes }]), "zstd") }] });
    void b;
    const r = await runCli(["cat", `${reg.host}/views/bin:v1`, "bin.dat"]);
    expect(r.bytes).toEqual(bytes);
    void enc;
  });
});
