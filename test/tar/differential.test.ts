/**
 * Differential test: tricky archives (cases.ts) read by our reader and by Go's archive/tar (the
 * reader container runtimes use), Python's tarfile and GNU tar (reference.ts). Ours must agree
 * with Go on every case: the entries (names byte for byte, types, sizes, link targets), the
 * content of every file (sparse files rebuilt) and whether the archive is corrupt. Where Python or
 * GNU tar read a case differently, the difference is listed below and in docs/tar-semantics.md;
 * the test checks that each listed difference is real, so the document stays true.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tarCases } from "./cases.ts";
import { listBytes } from "./helpers.ts";
import { goList, gnuTarList, ours, pythonList, type Listed } from "./reference.ts";

/** Cases where a reader other than Go sees something else (docs/tar-semantics.md says why). */
export const DIFFERS: Record<string, Array<"python" | "gnutar">> = {
  "pax-multi-x": ["python"],
  "pax-nul-path": ["python", "gnutar"],
  "pax-nul-linkpath": ["python", "gnutar"],
  "pax-nul-key": ["python", "gnutar"],
  "pax-bad-mtime": ["python", "gnutar"],
  "pax-bad-size": ["python", "gnutar"],
  "pax-bad-uid": ["python", "gnutar"],
  "pax-bad-gid": ["python", "gnutar"],
  "pax-bad-length": ["python", "gnutar"],
  "pax-nul-padding": ["python", "gnutar"],
  "pax-empty-value": ["python", "gnutar"],
  "pax-global": ["python", "gnutar"],
  "pax-global-drops-pending": ["python", "gnutar"],
  "pax-then-gnu-long": ["python", "gnutar"],
  "gnu-long-empty": ["python", "gnutar"],
  "v7-dir-slash-size": ["gnutar"],
  "reg-slash-data": ["gnutar"],
  "octal-space-inside": ["python", "gnutar"],
  "unknown-type": ["gnutar"],
  "sparse-flag-in-ustar": ["python", "gnutar"],
  "end-zero-then-partial": ["python", "gnutar"],
  "end-zero-then-header": ["python", "gnutar"],
  "end-in-padding": ["python", "gnutar"],
  "end-partial-header": ["python", "gnutar"],
  "end-dangling-pax": ["python"],
  "pax-global-by-gnu": ["python", "gnutar"],
};

/**
 * Cases where we read differently from Go on purpose: Go lists a Solaris/star 'X' extended header
 * as a file of its own (and a runtime then fails on its unknown type); GNU tar, bsdtar and Python
 * read it as a PAX 'x' header, and so do we (docs/tar-semantics.md).
 */
const NOT_GO = new Set(["pax-solaris-X"]);

const dir = mkdtempSync(join(tmpdir(), "tar-diff-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  // TAR_DIFF_DUMP=file writes the differences found, to update DIFFERS and the document.
  if (process.env.TAR_DIFF_DUMP) writeFileSync(process.env.TAR_DIFF_DUMP, `${JSON.stringify(seen, null, 1)}\n`);
});

async function readOurs(tar: Uint8Array): Promise<Listed> {
  const sums = new Map<unknown, ReturnType<typeof createHash>>();
  const r = await listBytes(tar, 1000, { wantContent: (e) => e.type === "file" || e.type === "contiguous" });
  for (const ev of r.events) {
    if (ev.kind !== "data") continue;
    if (!sums.has(ev.entry)) sums.set(ev.entry, createHash("sha256"));
    sums.get(ev.entry)!.update(ev.chunk);
  }
  const sha = r.entries.map((e) => (e.size > 0 && sums.has(e) ? sums.get(e)!.digest("hex") : ""));
  const error = r.error !== undefined || (r.summary !== undefined && !r.summary.complete && !r.summary.cleanEnd);
  return ours(r.entries, error, sha);
}

const cases = tarCases();
const seen: Record<string, Array<"python" | "gnutar">> = {};
const fileOf = (name: string) => join(dir, `${name}.tar`);
for (const c of cases) writeFileSync(fileOf(c.name), c.tar);
const goAll = goList(cases.map((c) => fileOf(c.name)));
const pythonAll = pythonList(cases.map((c) => fileOf(c.name)));

describe("our reader against Go's archive/tar, Python's tarfile and GNU tar", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const file = fileOf(c.name);
      const mine = await readOurs(c.tar);
      const go = goAll.get(file)!;
      const others = { python: pythonAll.get(file)!, gnutar: gnuTarList(file) };
      if (NOT_GO.has(c.name)) {
        expect(mine.entries).not.toEqual(go.entries);
        expect(mine.entries).toEqual(others.python.entries);
        expect(mine.entries).toEqual(others.gnutar.entries);
        return;
      }
      expect(mine).toEqual(go);
      for (const [who, listed] of Object.entries(others) as Array<["python" | "gnutar", Listed]>) {
        const same = Bun.deepEquals({ entries: listed.entries, error: listed.error }, { entries: go.entries, error: go.error });
        if (!same) (seen[c.name] ??= []).push(who);
      }
      expect([c.name, (seen[c.name] ?? []).join(",")]).toEqual([c.name, (DIFFERS[c.name] ?? []).join(",")]);
    });
  }
});
