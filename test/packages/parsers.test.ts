import { describe, expect, test } from "bun:test";
import { parseApkInstalled } from "../../src/packages/apk.ts";
import { parseDpkgStatus } from "../../src/packages/dpkg.ts";
import { parseRpmHeader, parseRpmSqlite } from "../../src/packages/rpm.ts";
import { rpmHeader, rpmSqlite } from "../support/rpmdb.ts";

describe("dpkg status", () => {
  test("stanzas with continuation lines; the source's name without its version; not-installed packages left out", () => {
    const text = [
      "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\nDescription: GNU C Library\n Contains the standard libraries.\n .\n More.",
      "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64",
      "Package: gone\nStatus: purge ok not-installed\nArchitecture: amd64",
      "Package: libfoo1\nStatus: install ok installed\nArchitecture: arm64\nSource: foo (1.2-3)\nVersion: 1.2-3+b1\n",
    ].join("\n\n");
    expect(parseDpkgStatus(text)).toEqual([
      { manager: "dpkg", name: "libc6", version: "2.36-9+deb12u4", architecture: "amd64", source: "glibc" },
      { manager: "dpkg", name: "bash", version: "5.2.15-2+b2", architecture: "amd64", source: "bash" },
      { manager: "dpkg", name: "libfoo1", version: "1.2-3+b1", architecture: "arm64", source: "foo" },
    ]);
  });
});

describe("apk installed", () => {
  test("one block per package; P, V, A and o", () => {
    const text = "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\no:musl\nF:lib\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r29\nA:x86_64\no:busybox\n";
    expect(parseApkInstalled(text)).toEqual([
      { manager: "apk", name: "musl", version: "1.2.5-r0", architecture: "x86_64", source: "musl" },
      { manager: "apk", name: "busybox", version: "1.36.1-r29", architecture: "x86_64", source: "busybox" },
    ]);
  });
});

describe("rpm headers and rpmdb.sqlite", () => {
  test("name, epoch:version-release, arch and the source rpm's name", () => {
    expect(parseRpmHeader(rpmHeader({ name: "glibc", version: "2.34", release: "60.el9", arch: "x86_64", epoch: 2, sourcerpm: "glibc-2.34-60.el9.src.rpm" }), "t")).toEqual({
      manager: "rpm",
      name: "glibc",
      version: "2:2.34-60.el9",
      architecture: "x86_64",
      source: "glibc",
    });
  });

  test("a header that lies about its sizes, or a string without its end, is corrupt data", () => {
    const h = rpmHeader({ name: "a", version: "1", release: "1", arch: "noarch" });
    const lying = h.slice();
    new DataView(lying.buffer).setUint32(4, 1 << 30);
    expect(() => parseRpmHeader(lying, "t")).toThrow(/data bytes/);
    const unterminated = h.slice(0, h.byteLength - 1);
    new DataView(unterminated.buffer).setUint32(4, new DataView(h.buffer).getUint32(4) - 1);
    expect(() => parseRpmHeader(unterminated, "t")).toThrow(/without its end/);
    expect(() => parseRpmHeader(new Uint8Array(3), "t")).toThrow(/preamble/);
  });

  test("every package of an rpmdb.sqlite; a file that is not one is corrupt data", () => {
    const db = rpmSqlite([
      { name: "bash", version: "5.1.8", release: "9.el9", arch: "x86_64", sourcerpm: "bash-5.1.8-9.el9.src.rpm" },
      { name: "tzdata", version: "2024a", release: "1.el9", arch: "noarch" },
    ]);
    expect(parseRpmSqlite(db, "t").map((p) => `${p.name} ${p.version} ${p.architecture} ${p.source}`)).toEqual([
      "bash 5.1.8-9.el9 x86_64 bash",
      "tzdata 2024a-1.el9 noarch tzdata",
    ]);
    expect(() => parseRpmSqlite(new TextEncoder().encode("not a database at all"), "t")).toThrow(/SQLite|Packages/);
  });
});
