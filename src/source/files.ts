/**
 * The files of a local image, read by byte ranges and never whole: a directory on disk (an OCI
 * layout) or the members of a tar archive (oci-archive, docker-archive; see archive.ts). Names
 * are relative, "/"-separated ("index.json", "blobs/sha256/<hex>").
 */
import { open, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";

export interface LocalFiles {
  /** The directory or archive, for messages. */
  readonly location: string;
  /** Size of the regular file `name`, undefined when there is none. */
  size(name: string): Promise<number | undefined>;
  /** Bytes [start, end) of the file `name` (which must exist), as a stream read on demand. */
  stream(name: string, start: number, end: number): ReadableStream<Uint8Array>;
}

const READ_CHUNK = 256 * 1024;

/** An I/O failure on a local file as one error line (exit 9); ENOENT/ENOTDIR as not found (exit 4). */
export function localError(e: unknown, what: string): LayerslayerError {
  if (e instanceof LayerslayerError) return e;
  const err = e as { code?: string; message?: string };
  if (err.code === "ENOENT" || err.code === "ENOTDIR") return new LayerslayerError("NOT_FOUND", `${what}: no such file or directory`, { cause: e });
  return new LayerslayerError("IO", `${what}: ${err.code ?? err.message ?? String(e)}`, { cause: e });
}

/**
 * Bytes [start, end) of a file on disk, read in chunks as the consumer pulls; cancelling closes it.
 * `path` may be a check that gives the path to open (it runs at the first read, and may throw).
 */
export function fileRange(path: string | (() => Promise<string>), start: number, end: number, what: string): ReadableStream<Uint8Array> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  let pos = start;
  const close = async () => {
    const h = fh;
    fh = undefined;
    await h?.close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        fh ??= await open(typeof path === "string" ? path : await path(), "r");
        if (pos >= end) {
          await close();
          controller.close();
          return;
        }
        const buf = new Uint8Array(Math.min(READ_CHUNK, end - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.byteLength, pos);
        if (bytesRead === 0) throw new LayerslayerError("CORRUPT", `${what}: the file ends at byte ${pos}, before byte ${end}`);
        pos += bytesRead;
        controller.enqueue(buf.subarray(0, bytesRead));
      } catch (e) {
        await close();
        controller.error(localError(e, what));
      }
    },
    async cancel() {
      await close();
    },
  });
}

/**
 * The files of a directory. Names with "..", absolute names and empty components are refused, and
 * so is a file that a symlink (the file itself or a directory on its way) places outside the
 * directory: an image's blobs are its own files, never whatever a link in it points to elsewhere.
 * Links that stay inside are followed.
 */
export class DirectoryFiles implements LocalFiles {
  private root: Promise<string> | undefined;
  constructor(readonly location: string) {}

  private path(name: string): string {
    const parts = name.split("/");
    if (parts.some((p) => p === "" || p === "." || p === "..")) throw new LayerslayerError("CORRUPT", `${escapeName(this.location)}: refusing the path "${escapeName(name)}"`);
    return join(this.location, ...parts);
  }

  /** Where `name` really is, once every link is resolved; refused when that is outside the directory. */
  private async inside(name: string): Promise<string> {
    const path = this.path(name);
    this.root ??= realpath(this.location);
    const [root, real] = await Promise.all([this.root, realpath(path)]);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new LayerslayerError("CORRUPT", `${escapeName(this.location)}: "${escapeName(name)}" is a link to ${escapeName(real)}, outside the image directory; refusing it`);
    }
    return real;
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const st = await stat(await this.inside(name));
      return st.isFile() ? st.size : undefined;
    } catch (e) {
      const err = localError(e, escapeName(this.path(name)));
      if (err.code === "NOT_FOUND") return undefined;
      throw err;
    }
  }

  stream(name: string, start: number, end: number): ReadableStream<Uint8Array> {
    return fileRange(() => this.inside(name), start, end, escapeName(this.path(name)));
  }
}
