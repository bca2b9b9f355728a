/** The reader against archives written by GNU tar, compared with the tree they were made from. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { LayerslayerError } from "../../src/errors.ts";
import type { Entry } from "../../src/types.ts";
import { type Expected, FRACTION_FILE, FRACTION_MTIME, type Fixtures, makeFixtures } from "./fixtures.ts";
import { chunked, concat, content, list, listBytes, type SourceStats, strip } from "./helpers.ts";

let fx: Fixtures;
beforeAll(() => {
  fx = makeFixtures();
});
afterAll(() => fx.cleanup());

function compare(entries: Entry[], expected: Expected[], pax: boolean): void {
  expect(entries.map((e) => e.path)).toEqual(expected.map((e) => e.path));
  for (let i = 0; i < expected.length; i++) {
    const e = entries[i]!;
    const x = expected[i]!;
    const got = { path: e.path, type: e.type, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid, linkname: e.linkname };
    const want = { path: x.path, type: x.type, size: x.size, mode: x.mode, uid: x.uid, gid: x.gid, linkname: x.linkname };
    expect(got).toEqual(want);
    if (pax) expect(Math.abs(e.mtime - Number(x.mtimeNs) / 1e9)).toBeLessThan(1e-6);
    else expect(e.mtime).toBe(Number(x.mtimeNs / 1_000_000_000n));
    if (x.devmajor !== undefined) expect([e.devmajor, e.devminor]).toEqual([x.devmajor, x.devminor]);
    if (e.uid === 0) expect(e.uname).toBe("root");
    expect(e.layer).toBe(3);
  }
}

describe("GNU tar archives", () => {
  test("ustar: every entry matches the tree (prefix field, control chars, unicode, fifo, device, hardlink)", async () => {
    const r = await listBytes(fx.ustar, 65536, { layer: 3 });
    expect(r.error).toBeUndefined();
    expect(r.summary!.complete).toBe(true);
    expect(r.summary!.entries).toBe(fx.expectStd.length);
    compare(r.entries, fx.expectStd, false);
    const paths = new Set(r.entries.map((e) => e.path));
    for (const p of [".", "\x1b[31mred", "new\nline", "ünïcödé-日本語-😀.txt", `${"p".repeat(90)}/${"q".repeat(90)}`]) {
      expect(paths.has(p)).toBe(true);
    }
    expect(r.entries.find((e) => e.path === "hard")!.type).toBe("file");
    expect(r.entries.find((e) => e.path === "s512")).toMatchObject({ type: "hardlink", linkname: "hard", size: 0 });
    expect(r.entries.find((e) => e.path === "setuid")!.mode).toBe(0o4755);
    expect(r.entries.find((e) => e.path === "sticky")!.mode).toBe(0o1777);
    if (fx.hasDevice) expect(r.entries.find((e) => e.path === "null")).toMatchObject({ type: "char", devmajor: 1, devminor: 3 });
  });

  test("gnu: long names (L), long link targets (K), base-256 uid/gid", async () => {
    const r = await listBytes(fx.gnu, 65536, { layer: 3 });
    expect(r.error).toBeUndefined();
    expect(r.summary!.complete).toBe(true);
    compare(r.entries, fx.expectAll, false);
    const longName = `long/${"a".repeat(200)}/${"b".repeat(200)}/${"c".repeat(50)}`;
    expect(r.entries.find((e) => e.path === longName)!.size).toBe(2000);
    expect(r.entries.find((e) => e.path === "long/zhard")).toMatchObject({ type: "hardlink", linkname: longName });
    expect(r.entries.find((e) => e.path === "long/longlink")!.linkname).toBe("t".repeat(150));
    expect(r.entries.find((e) => e.path === "long/hugeid")).toMatchObject({ uid: 4000000, gid: 4000001 });
    expect(r.entries.some((e) => e.path.includes("LongLink"))).toBe(false);
  });

  test("pax: same tree via extended headers; mtime fractions; PaxHeaders never listed", async () => {
    const r = await listBytes(fx.pax, 65536, { layer: 3 });
    expect(r.error).toBeUndefined();
    expect(r.summary!.complete).toBe(true);
    compare(r.entries, fx.expectAll, true);
    expect(r.entries.some((e) => e.path.includes("PaxHeaders"))).toBe(false);
    const frac = r.entries.find((e) => e.path === FRACTION_FILE)!;
    expect(frac.mtime).not.toBe(Math.floor(frac.mtime));
    expect(Math.abs(frac.mtime - FRACTION_MTIME)).toBeLessThan(1e-6);
    expect(r.entries.find((e) => e.path === "long/hugeid")).toMatchObject({ uid: 4000000, gid: 4000001 });
    // headerOffset points at the entry's 'x' header, not its ustar header.
    for (const e of r.entries) expect(String.fromCharCode(fx.pax[e.headerOffset + 156]!)).toBe("x");
  });

  test("pax global header (--pax-option=uname=...): an entry of its own, applied to nothing (as Go)", async () => {
    const r = await listBytes(fx.gnuGlobal);
    expect(r.error).toBeUndefined();
    expect(r.entries.length).toBe(fx.expectStd.length + 1);
    expect(r.entries[0]!.type).toBe("pax-global");
    expect(r.entries[0]!.headerOffset).toBe(0);
    for (const e of r.entries.slice(1)) expect(e.uname).not.toBe("gowner");
    expect(r.entries[1]!.headerOffset).toBeGreaterThan(0);
  });

  test("GNU sparse files (old GNU and PAX 1.0): real size listed, the next entry still found, content rebuilt", async () => {
    for (const bytes of [fx.sparseGnu, fx.sparsePax]) {
      const r = await listBytes(bytes, 513);
      expect(r.error).toBeUndefined();
      expect(r.summary!.complete).toBe(true);
      expect(r.entries.map((e) => [e.path, e.type, e.size])).toEqual([
        [".", "dir", 0],
        ["holes", "file", 1 << 20],
        ["zafter", "file", 6],
      ]);
      const w = await listBytes(bytes, 513, { wantContent: (e) => e.path === "holes" });
      expect(w.error).toBeUndefined();
      const got = concat(...w.events.flatMap((e) => (e.kind === "data" ? [e.chunk] : [])));
      const want = new Uint8Array(1 << 20);
      want.set(content(5000, 12), 300000);
      expect(got.length).toBe(want.length);
      expect(Buffer.compare(got, want)).toBe(0);
      expect(w.events.filter((e) => e.kind === "data" && e.done).length).toBe(1);
    }
  });

  test("chunk sizes 1, 7, 512, 513, 65536 give identical listings", async () => {
    for (const bytes of [fx.gnu, fx.pax]) {
      const ref = await listBytes(bytes, bytes.length);
      for (const size of [1, 7, 512, 513, 65536]) {
        const r = await listBytes(bytes, size);
        expect(r.error).toBeUndefined();
        expect(r.summary).toEqual(ref.summary!);
        expect(strip(r.entries)).toEqual(strip(ref.entries));
      }
    }
  });

  test("compressedOffset is the compressedConsumed of the chunk completing the last header block", async () => {
    // Byte-sized chunks whose compressedConsumed is the tar offset: compressedOffset is exactly the end of the header.
    const one = await listBytes(fx.ustar, 1);
    for (const e of one.entries) expect(e.compressedOffset).toBe(e.headerOffset + 512);
    // GNU: entries with long names end after their L/K headers.
    const g = await listBytes(fx.gnu, 1);
    let withMeta = 0;
    for (const e of g.entries) {
      const last = e.compressedOffset - 512;
      expect(last).toBeGreaterThanOrEqual(e.headerOffset);
      if (last > e.headerOffset) {
        withMeta++;
        expect("LK").toContain(String.fromCharCode(fx.gnu[e.headerOffset + 156]!));
      }
      expect("LKxg").not.toContain(String.fromCharCode(fx.gnu[last + 156]!));
    }
    // 'L': dirs a…, a…/b…, the file under them, u…(101), p…/q…; 'K': longlink, zhard.
    expect(withMeta).toBe(7);
    // A made-up mapping: compressed bytes are not tar bytes.
    const size = 700;
    const consumed = (end: number) => 1_000_000 + Math.floor(end / 3);
    const r = await list(chunked(fx.ustar, size, undefined, consumed));
    for (const e of r.entries) {
      const chunkEnd = Math.min(fx.ustar.length, Math.ceil((e.headerOffset + 512) / size) * size);
      expect(e.compressedOffset).toBe(consumed(chunkEnd));
    }
  });

  test("truncation at every 100th byte: never throws, always a prefix, complete only after the end marker", async () => {
    const full = await listBytes(fx.ustar);
    const all = strip(full.entries);
    const lastEnd = full.summary!.tarBytes - 1024; // where the end marker starts
    for (let cut = 0; cut <= fx.ustar.length; cut += 100) {
      const r = await listBytes(fx.ustar.subarray(0, cut), 4096);
      expect(r.error).toBeUndefined();
      const n = full.entries.filter((e) => e.headerOffset + 512 <= cut).length;
      expect(strip(r.entries)).toEqual(all.slice(0, n));
      // One zero block then the end is the end (Go, GNU tar); a zero block then part of one is not.
      expect(r.summary!.complete).toBe(cut === lastEnd + 512 || cut >= lastEnd + 1024);
      expect(r.summary!.tarBytes).toBe(cut >= lastEnd + 1024 ? lastEnd + 1024 : cut);
    }
  });

  test("corrupt checksum in the 3rd header: CORRUPT after exactly 2 entries, source closed", async () => {
    const full = await listBytes(fx.ustar);
    const bad = fx.ustar.slice();
    const third = full.entries[2]!.headerOffset;
    bad[third + 3]! ^= 0x20;
    for (const size of [1, 512, 65536]) {
      const stats: SourceStats = { pulled: 0, closed: false, finished: false };
      const r = await list(chunked(bad, size, stats));
      expect(r.entries.length).toBe(2);
      expect(r.error).toBeInstanceOf(LayerslayerError);
      expect((r.error as LayerslayerError).code).toBe("CORRUPT");
      expect((r.error as LayerslayerError).message).toContain(`at tar offset ${third}`);
      expect(stats.closed).toBe(true);
    }
  });
});

describe("content", () => {
  test("wantContent streams exactly the file's bytes, split as the input splits", async () => {
    const want = new Set(["std/s0", "std/s511", "std/s513", "std/s10240", "std/s70001", "std/ünïcödé-日本語-😀.txt", "std/hard", "std/link", "std/dir"]);
    want.add(`long/${"a".repeat(200)}/${"b".repeat(200)}/${"c".repeat(50)}`);
    for (const bytes of [fx.gnu, fx.pax]) {
      for (const size of [7, 65536]) {
        const r = await listBytes(bytes, size, { wantContent: (e) => want.has(e.path) });
        expect(r.error).toBeUndefined();
        const got = new Map<string, Uint8Array[]>();
        let current: Entry | null = null;
        let open = false;
        for (const ev of r.events) {
          if (ev.kind === "entry") {
            expect(open).toBe(false); // no entry starts while another's content is still coming
            current = ev.entry;
            open = want.has(ev.entry.path);
            continue;
          }
          expect(ev.entry).toBe(current!);
          expect(open).toBe(true);
          expect(ev.chunk.length).toBeLessThanOrEqual(size);
          got.set(ev.entry.path, [...(got.get(ev.entry.path) ?? []), ev.chunk]);
          if (ev.done) open = false;
        }
        expect([...got.keys()].sort()).toEqual([...want].sort());
        for (const x of fx.expectAll.filter((e) => want.has(e.path))) {
          const parts = got.get(x.path)!;
          const data = Buffer.concat(parts);
          const expected = x.type === "file" ? fs.readFileSync(x.file) : Buffer.alloc(0);
          expect([x.path, data.length]).toEqual([x.path, expected.length]);
          expect(data.equals(expected)).toBe(true);
        }
        expect(got.get("std/s0")).toEqual([new Uint8Array(0)]); // one empty, done event
      }
    }
  });

  test("returning early from the generator closes the source and stops reading", async () => {
    const { readTar } = await import("../../src/tar/reader.ts");
    const stats: SourceStats = { pulled: 0, closed: false, finished: false };
    const target = "std/s513";
    const parts: Uint8Array[] = [];
    for await (const ev of readTar(chunked(fx.gnu, 512, stats), { wantContent: (e) => e.path === target })) {
      if (ev.kind !== "data") continue;
      parts.push(ev.chunk.slice());
      if (ev.done) break;
    }
    expect(Buffer.concat(parts).equals(fs.readFileSync(fx.expectAll.find((e) => e.path === target)!.file))).toBe(true);
    expect(stats.closed).toBe(true);
    expect(stats.finished).toBe(false);
    expect(stats.pulled).toBeLessThan(fx.gnu.length / 512);
  });
});
