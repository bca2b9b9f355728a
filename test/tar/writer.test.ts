import { describe, expect, test } from "bun:test";
import { END_OF_ARCHIVE, memberHeaders, padding, type MemberHeader } from "../../src/tar/writer.ts";
import { listBytes } from "./helpers.ts";

const base = { mode: 0o644, size: 0, uid: 0, gid: 0, mtime: 1_700_000_000, uname: "root", gname: "root" };

function archive(members: (MemberHeader & { data?: string })[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    const data = new TextEncoder().encode(m.data ?? "");
    parts.push(...memberHeaders({ ...m, size: data.byteLength || m.size }), data, padding(data.byteLength));
  }
  parts.push(END_OF_ARCHIVE);
  return new Uint8Array(Buffer.concat(parts));
}

describe("the tar writer", () => {
  const members: (MemberHeader & { data?: string })[] = [
    { ...base, path: "etc", type: "dir", mode: 0o755 },
    { ...base, path: "etc/passwd", type: "file", data: "root:x:0:0\n" },
    { ...base, path: `deep/${"d".repeat(120)}/${"n".repeat(150)}.txt`, type: "file", data: "long name" },
    { ...base, path: "link", type: "symlink", linkname: `/target/${"t".repeat(120)}`, mode: 0o777 },
    { ...base, path: "big-owner", type: "file", uid: 3_000_000_000, gid: 3_000_000, uname: "a-user-name-longer-than-thirty-one-bytes", data: "x" },
    { ...base, path: "fraction", type: "file", mtime: 1_700_000_000.25, data: "y" },
    { ...base, path: "caf\u00e9-\udcff", type: "file", data: "raw byte in the name" },
    { ...base, path: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 },
    { ...base, path: "fifo", type: "fifo" },
    { ...base, path: "hard", type: "hardlink", linkname: "etc/passwd" },
  ];

  test("our own reader reads back every field, PAX records included", async () => {
    const got = await listBytes(archive(members), 700);
    expect(got.error).toBeUndefined();
    expect(got.entries.map((e) => [e.path, e.type, e.mode, e.size, e.uid, e.gid, e.mtime, e.linkname ?? "", e.uname ?? "", e.devmajor ?? 0, e.devminor ?? 0])).toEqual(
      members.map((m) => [
        m.path,
        m.type,
        m.mode,
        new TextEncoder().encode(m.data ?? "").byteLength,
        m.uid,
        m.gid,
        m.mtime,
        m.linkname ?? "",
        m.uname ?? "",
        m.devmajor ?? 0,
        m.devminor ?? 0,
      ]),
    );
  });

  test("GNU tar lists it without a warning, names and targets whole", () => {
    const r = Bun.spawnSync(["tar", "-tvf", "-", "--numeric-owner"], { stdin: archive(members), stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain(`${"n".repeat(150)}.txt`);
    expect(out).toContain(`-> /target/${"t".repeat(120)}`);
    expect(out).toContain("3000000000/3000000");
    expect(out).toContain("hard link to etc/passwd");
  });
});
