/**
 * Whole-blob download to a file: streamed into a temp file beside the target, digest and size
 * checked while streaming, renamed into place only when verified. A verified target is left alone
 * ("present").
 *
 * Several processes may save the same blob into the same directory at once: each writes its own
 * temp file (`.<name>.<pid>-<random>.tmp`), and the last atomic rename of a verified file wins, so
 * the target is always one whole verified file and no two writers share a file. Resuming goes
 * through one well-known file, `.<name>.partial`: a download adopts it by renaming it to its own
 * temp name (atomic: one process gets it, the others start from byte 0) and continues it with a
 * Range from its length; an interrupted download hands its temp file back under that name.
 */
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isLayerslayerError, LayerslayerError } from "../errors.ts";
import { DigestHasher, digestAlgorithm } from "../oci/digest.ts";
import type { Descriptor } from "../oci/manifest.ts";
import type { ImageSource } from "../source/source.ts";
import { BlobReader } from "./reader.ts";

export interface DownloadSource {
  source: ImageSource;
  digest: string;
  /** The descriptor's size: the file must have exactly this many bytes. */
  size: number;
  mediaType?: string;
  /** Names the blob in error messages, e.g. "layer 2"; defaults to the digest. */
  label?: string;
}

export type DownloadStatus = "saved" | "present" | "resumed";

export interface DownloadProgress {
  /** "verify": re-hashing bytes already on disk; "download": fetching from the registry. */
  phase: "verify" | "download";
  /** Bytes of the blob handled so far (on disk, or hashed when verifying). */
  done: number;
  total: number;
  /** Bytes taken off the network in this call. */
  downloaded: number;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Retry once from byte 0 when a resumed download does not verify (default true). */
  retryFromScratch?: boolean;
  /** Passed to the blob reader: resumes of a broken transfer inside one call. */
  resumeAttempts?: number;
}

export interface DownloadResult {
  /** saved: downloaded from byte 0; resumed: completed a partial file; present: the file was already there and verified. */
  status: DownloadStatus;
  path: string;
  size: number;
  /** Bytes taken off the network by this call (0 when present). */
  bytesDownloaded: number;
  /** Where a resume started (the partial file's length), when status is "resumed". */
  resumedFrom?: number;
}

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const READ_CHUNK = 1024 * 1024;

/** File extension for a layer media type: .tar.gz, .tar.zst, .tar, or .bin when unknown. */
export function extensionFor(mediaType: string | undefined): string {
  const mt = (mediaType ?? "").toLowerCase();
  if (/[.+]tar[.+]gzip$/.test(mt) || /[.+]tar\+gz$/.test(mt)) return ".tar.gz";
  if (/[.+]tar[.+]zstd$/.test(mt)) return ".tar.zst";
  if (/[.+]tar$/.test(mt)) return ".tar";
  return ".bin";
}

/**
 * `<algo>_<hex><ext>` for a descriptor. The digest comes from an untrusted manifest: anything but a
 * known algorithm with the right number of lower-case hex digits is refused (no path tricks).
 */
export function blobFileName(desc: Pick<Descriptor, "digest" | "mediaType">): string {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(desc.digest);
  const want = m ? HEX_LENGTH[m[1]!] : undefined;
  if (!m || want === undefined || m[2]!.length !== want) {
    throw new LayerslayerError("CORRUPT", `the manifest names an invalid or unsupported digest "${desc.digest.slice(0, 80).replace(/[^\x20-\x7e]/g, "?")}"`);
  }
  return `${m[1]}_${m[2]}${extensionFor(desc.mediaType)}`;
}

/** The temp file a download of `path` writes to (and resumes from): `.<name>.partial` beside it. */
export function partialPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial`);
}

/** A temp name that only this call writes, beside `path`. */
export function privateTempFor(path: string): string {
  const tag = `${process.pid}-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)}`;
  return join(dirname(path), `.${basename(path)}.${tag}.tmp`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** Removes temp files of `path` left by processes that no longer run (killed with SIGKILL, a crash). */
async function removeDeadTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)-[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (m && !processAlive(Number(m[1]))) await rm(join(dirname(path), name), { force: true });
  }
}

/** Takes the resumable `.partial` file for this call (renamed to `mine`); its length, 0 when there was none. */
async function adoptPartial(partial: string, mine: string, size: number): Promise<number> {
  if ((await regularFileSize(partial, true)) === undefined) return 0;
  try {
    await rename(partial, mine);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return 0; // another process took it first
    throw e;
  }
  const start = (await regularFileSize(mine, true)) ?? 0;
  if (start <= size) return start;
  await rm(mine, { force: true });
  return 0;
}

/** After an interruption: what this call downloaded becomes the resumable `.partial` (or goes, when empty). */
async function handBack(mine: string, partial: string): Promise<void> {
  try {
    if (((await regularFileSize(mine, true)) ?? 0) > 0) await rename(mine, partial);
    else await rm(mine, { force: true });
  } catch {
    await rm(mine, { force: true }).catch(() => {});
  }
}

/** Size of a regular file, undefined when absent; anything else at the path (link, dir) is removed or refused. */
async function regularFileSize(path: string, removeOther: boolean): Promise<number | undefined> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
  if (st.isFile()) return st.size;
  if (removeOther && st.isSymbolicLink()) {
    await rm(path, { force: true });
    return undefined;
  }
  throw new LayerslayerError("IO", `${path} exists and is not a regular file`);
}

/** Hashes an open file's bytes from its start; returns how many there were. */
async function hashFile(fh: FileHandle, hasher: DigestHasher, size: number, onBytes: (n: number) => void, signal?: AbortSignal): Promise<number> {
  const buf = new Uint8Array(Math.min(READ_CHUNK, Math.max(size, 1)));
  let pos = 0;
  for (;;) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(buf, 0, buf.byteLength, pos);
    if (bytesRead === 0) return pos;
    hasher.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
    onBytes(pos);
  }
}

/**
 * The file a download writes. To resume, the adopted file itself, opened without following a
 * symlink and kept only while it is a regular file with one link and the length measured: a hard
 * link shares its bytes with a file elsewhere, which appending (or truncating) would change. Else,
 * or from scratch, our name is unlinked (never truncated: that would reach another link's bytes)
 * and a new file created exclusively. Returns the handle and the byte it continues from.
 */
async function openTarget(path: string, start: number): Promise<{ fh: FileHandle; start: number }> {
  if (start > 0) {
    const fh = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW).catch(() => undefined);
    if (fh) {
      const st = await fh.stat();
      if (st.isFile() && st.nlink === 1 && st.size === start) return { fh, start };
      await fh.close();
    }
  }
  await rm(path, { force: true });
  return { fh: await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644), start: 0 };
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off);
    off += bytesWritten;
  }
}

/** True when the file at `path` has exactly the blob's size and digest. */
async function verifiedFile(src: DownloadSource, path: string, opts: DownloadOptions): Promise<boolean> {
  const size = await regularFileSize(path, false);
  if (size !== src.size) return false;
  const hasher = new DigestHasher(digestAlgorithm(src.digest));
  const progress = (done: number) => opts.onProgress?.({ phase: "verify", done, total: src.size, downloaded: 0 });
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const read = await hashFile(fh, hasher, size, progress, opts.signal);
    return read === src.size && hasher.digest() === src.digest;
  } finally {
    await fh.close();
  }
}

function corrupt(src: DownloadSource, why: string): LayerslayerError {
  return new LayerslayerError("CORRUPT", `${src.label ?? src.digest}: ${why}; nothing was saved`);
}

/**
 * One attempt: continue `partial` from its length (0 = from scratch), hashing what is there first;
 * a partial file that may not be appended to (see openTarget) is started over. Returns bytes
 * downloaded (also added to `counter`, which survives a throw) and where it continued from; throws
 * CORRUPT (after deleting the partial file) when the result does not match the digest and size. On
 * any other failure (network, abort) the partial file stays.
 */
async function fetchInto(src: DownloadSource, partial: string, from: number, opts: DownloadOptions, counter: { bytes: number }): Promise<{ downloaded: number; start: number }> {
  const hasher = new DigestHasher(digestAlgorithm(src.digest));
  const { fh, start } = await openTarget(partial, from);
  let written = start;
  let downloaded = 0;
  let bad: string | undefined;
  try {
    if (start > 0) {
      const read = await hashFile(fh, hasher, start, (done) => opts.onProgress?.({ phase: "verify", done, total: src.size, downloaded: 0 }), opts.signal);
      if (read !== start) throw new LayerslayerError("IO", `${partial} changed while it was being read`);
    }
    if (written < src.size) {
      const reader = new BlobReader(
        { source: src.source, digest: src.digest, size: src.size },
        { start, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.resumeAttempts !== undefined ? { resumeAttempts: opts.resumeAttempts } : {}) },
      );
      for await (const chunk of reader.chunks()) {
        downloaded += chunk.byteLength;
        counter.bytes += chunk.byteLength;
        if (written + chunk.byteLength > src.size) {
          bad = `the registry sent more than the ${src.size} bytes the manifest gives as its size`;
          break;
        }
        await writeAll(fh, chunk);
        hasher.update(chunk);
        written += chunk.byteLength;
        opts.onProgress?.({ phase: "download", done: written, total: src.size, downloaded });
        opts.signal?.throwIfAborted();
      }
    }
    if (!bad && written !== src.size) bad = `the registry sent ${written} bytes, but the manifest gives its size as ${src.size}`;
    if (!bad) {
      const got = hasher.digest();
      if (got !== src.digest) bad = `the downloaded bytes hash to ${got}, not the digest ${src.digest}`;
    }
    if (!bad) {
      // What is on disk must be what was hashed (another writer appending would show here).
      const onDisk = (await fh.stat()).size;
      if (onDisk !== src.size) bad = `${partial} holds ${onDisk} bytes after the download, not ${src.size}`;
      else await fh.sync();
    }
  } catch (e) {
    // A digest mismatch the reader itself noticed is a verdict on the bytes like ours.
    if (isLayerslayerError(e) && e.code === "CORRUPT") bad = e.message.replace(/^.*?: /, "");
    else throw e;
  } finally {
    await fh.close();
  }
  if (bad) {
    await rm(partial, { force: true });
    throw corrupt(src, bad);
  }
  return { downloaded, start };
}

async function download(src: DownloadSource, path: string, opts: DownloadOptions): Promise<DownloadResult> {
  if (!Number.isSafeInteger(src.size) || src.size < 0) throw corrupt(src, `the manifest gives an invalid size ${String(src.size)}`);
  digestAlgorithm(src.digest);
  await mkdir(dirname(path), { recursive: true });
  const partial = partialPathFor(path);
  await removeDeadTemps(path);

  if ((await regularFileSize(path, true)) !== undefined) {
    if (await verifiedFile(src, path, opts)) {
      await rm(partial, { force: true }); // a leftover from an earlier, interrupted run
      return { status: "present", path, size: src.size, bytesDownloaded: 0 };
    }
    // Known bad: never leave it under the final name, even if the new download fails.
    await rm(path, { force: true });
  }

  const mine = privateTempFor(path);
  const adopted = await adoptPartial(partial, mine, src.size);
  const counter = { bytes: 0 };
  let start = adopted;
  try {
    try {
      const got = await fetchInto(src, mine, adopted, opts, counter);
      const downloaded = got.downloaded;
      start = got.start;
      await rename(mine, path);
      return { status: start > 0 ? "resumed" : "saved", path, size: src.size, bytesDownloaded: downloaded, ...(start > 0 ? { resumedFrom: start } : {}) };
    } catch (e) {
      // A resumed file that does not verify may owe it to bad old bytes: start over once.
      if (!(start > 0 && opts.retryFromScratch !== false && isLayerslayerError(e) && e.code === "CORRUPT")) throw e;
    }
    await fetchInto(src, mine, 0, opts, counter);
    await rename(mine, path);
    return { status: "saved", path, size: src.size, bytesDownloaded: counter.bytes };
  } catch (e) {
    // Interrupted or cut off: keep what arrived for the next run (a CORRUPT file was already removed).
    await handBack(mine, partial);
    throw e;
  }
}

/**
 * Downloads a blob to `path`, verified against its digest and size. Never leaves unverified bytes
 * under `path`: they go to a temp file of this call first, which an interrupted call leaves behind
 * as `partialPathFor(path)` for the next call to resume. A resumed download that fails verification is retried once from
 * byte 0 (unless `retryFromScratch` is false); a failed fresh one deletes its temp file and throws
 * CORRUPT. Aborting (via `signal`) rejects with the signal's reason and keeps the temp file.
 */
export async function downloadBlob(src: DownloadSource, path: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  try {
    return await download(src, path, opts);
  } catch (e) {
    if (isLayerslayerError(e) || opts.signal?.aborted) throw e;
    const err = e as { code?: unknown; message?: string };
    if (typeof err?.code === "string" && /^E[A-Z]+$/.test(err.code)) {
      throw new LayerslayerError("IO", `${src.label ?? src.digest}: ${err.message ?? err.code}`, { cause: e });
    }
    throw e;
  }
}
