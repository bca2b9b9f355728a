/**
 * The members of a tar archive on disk (oci-archive, docker save), located once: every header is
 * read where it sits (the data between headers is skipped, never read), so opening a multi-GB
 * archive costs one small read per member. A member is then read by ranges straight from the file.
 */
import { open } from "node:fs/promises";
import { posix } from "node:path";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { BLOCK, parseHeader, TF } from "../tar/header.ts";
import { gnuLongName, MAX_META_SIZE, paxGet, paxInt, parsePax, type PaxRecords } from "../tar/pax.ts";
import { fileRange, localError, type LocalFiles } from "./files.ts";

interface Member {
  /** Offset of the member's data in the archive file. */
  offset: number;
  size: number;
  kind: "file" | "symlink" | "hardlink" | "other";
  linkname: string;
}

/** Members an archive may hold (an image has a few per layer). */
const MAX_MEMBERS = 1_000_000;
/** Links followed to reach a file (as Linux MAXSYMLINKS). */
const MAX_HOPS = 40;

/** "./a//b/" → "a/b" (a name is only a key into the member table: ".." cannot leave it). */
function clean(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, "");
}

function kindOf(typeflag: number): Member["kind"] {
  if (typeflag === TF.REG || typeflag === TF.AREG || typeflag === TF.CONT) return "file";
  if (typeflag === TF.SYM) return "symlink";
  if (typeflag === TF.LINK) return "hardlink";
  return "other";
}

export class ArchiveFiles implements LocalFiles {
  private constructor(
    readonly location: string,
    private readonly members: Map<string, Member>,
  ) {}

  /** Reads every header of the archive at `path`. NOT_FOUND when it is missing, CORRUPT when it is no tar. */
  static async open(path: string): Promise<ArchiveFiles> {
    const shown = escapeName(path);
    const members = new Map<string, Member>();
    let fh;
    try {
      fh = await open(path, "r");
      const st = await fh.stat();
      if (!st.isFile()) throw new LayerslayerError("IO", `${shown}: not a regular file`);
      const fileSize = st.size;
      const block = new Uint8Array(BLOCK);
      const readAt = async (pos: number, buf: Uint8Array): Promise<boolean> => {
        const { bytesRead } = await fh!.read(buf, 0, buf.byteLength, pos);
        return bytesRead === buf.byteLength;
      };
      let pos = 0;
      let pax: PaxRecords | null = null;
      let longName: string | undefined;
      let longLink: string | undefined;
      for (let n = 0; n < MAX_MEMBERS * 4; n++) {
        if (pos + BLOCK > fileSize || !(await readAt(pos, block))) {
          if (pos === 0) throw new LayerslayerError("CORRUPT", `${shown}: not a tar archive (empty)`);
          break; // no end-of-archive marker: tolerated, as tar does
        }
        let h;
        try {
          h = parseHeader(block, 0, pos);
        } catch (e) {
          if (pos === 0) throw new LayerslayerError("CORRUPT", `${shown}: not a tar archive`);
          throw new LayerslayerError("CORRUPT", `${shown}: ${(e as Error).message}`);
        }
        if (h === null) break;
        const dataAt = pos + BLOCK;
        const size = paxInt(pax, "size", pos) ?? h.size;
        if (!Number.isSafeInteger(size) || size < 0 || dataAt + size > fileSize) {
          throw new LayerslayerError("CORRUPT", `${shown}: the archive is truncated (a member at byte ${pos} runs past its end)`);
        }
        const next = dataAt + Math.ceil(size / BLOCK) * BLOCK;
        const meta = async () => {
          if (size > MAX_META_SIZE) throw new LayerslayerError("CORRUPT", `${shown}: an extended header at byte ${pos} is too large`);
          const data = new Uint8Array(size);
          await readAt(dataAt, data);
          return data;
        };
        if (h.typeflag === TF.PAX) pax = parsePax(await meta(), pos);
        else if (h.typeflag === TF.GNU_LONGNAME) longName = gnuLongName(await meta());
        else if (h.typeflag === TF.GNU_LONGLINK) longLink = gnuLongName(await meta());
        else if (h.typeflag !== TF.PAX_GLOBAL) {
          const name = clean(paxGet(pax, "path") ?? longName ?? h.name);
          const linkname = paxGet(pax, "linkpath") ?? longLink ?? h.linkname;
          if (members.size >= MAX_MEMBERS) throw new LayerslayerError("CORRUPT", `${shown}: more than ${MAX_MEMBERS} members`);
          if (name !== "") members.set(name, { offset: dataAt, size, kind: kindOf(h.typeflag), linkname });
          pax = null;
          longName = undefined;
          longLink = undefined;
        }
        pos = next;
      }
    } catch (e) {
      throw localError(e, shown);
    } finally {
      await fh?.close();
    }
    return new ArchiveFiles(path, members);
  }

  /**
   * The regular file a name leads to, following symlinks and hard links inside the archive. A link
   * that points out of it (an absolute target, or one that climbs above its root) is refused: it
   * names a file of whatever system unpacks the archive, never one of the image's.
   */
  private find(name: string): Member | undefined {
    let current = clean(name);
    for (let hops = 0; hops <= MAX_HOPS; hops++) {
      const m = this.members.get(current);
      if (!m) return undefined;
      if (m.kind === "file") return m;
      if (m.kind === "other") return undefined;
      const target = m.kind === "symlink" ? posix.normalize(posix.join(posix.dirname(current), m.linkname)) : posix.normalize(m.linkname);
      if (m.linkname.startsWith("/") || target === ".." || target.startsWith("../")) {
        throw new LayerslayerError("CORRUPT", `${escapeName(this.location)}: "${escapeName(current)}" is a link to ${escapeName(m.linkname)}, outside the archive; refusing it`);
      }
      current = clean(target);
    }
    throw new LayerslayerError("CORRUPT", `${escapeName(this.location)}: too many levels of links at "${escapeName(name)}"`);
  }

  async size(name: string): Promise<number | undefined> {
    return this.find(name)?.size;
  }

  stream(name: string, start: number, end: number): ReadableStream<Uint8Array> {
    const m = this.find(name);
    if (!m) throw new LayerslayerError("NOT_FOUND", `${escapeName(this.location)}: no member "${escapeName(name)}"`);
    const what = `${escapeName(this.location)}: ${escapeName(name)}`;
    return fileRange(this.location, m.offset + Math.min(start, m.size), m.offset + Math.min(end, m.size), what);
  }
}
