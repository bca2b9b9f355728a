/**
 * What the browser does beyond its own screen: a file opened in $PAGER or $EDITOR (the terminal
 * handed over, then taken back), a layer saved (the verified download `save` uses), a path copied
 * to the clipboard (OSC 52, which terminals and tmux understand, over SSH too).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve as resolveLocal } from "node:path";
import { blobFileName, downloadBlob } from "../blob/download.ts";
import type { Context } from "../cli/common.ts";
import { escapeName } from "../names.ts";
import { humanSize } from "../output/format.ts";
import { ROOT } from "../image/paths.ts";
import { saveFile, type OpenedImage } from "./core.ts";
import { show } from "./keys.ts";

/** The terminal as the browser's actions need it (app.ts gives it). */
export interface Term {
  /** Writes an escape sequence to the terminal. */
  write(sequence: string): void;
  /** Leaves full screen, runs `argv` on the terminal, comes back; the exit code (or -1 when it did not start). */
  external(argv: string[]): number;
}

/** OSC 52: the terminal puts `text` on the clipboard. Base64 keeps every byte of a name harmless. */
export function clipboardSequence(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, "utf8").toString("base64")}\x07`;
}

/** The program $PAGER (else less) or $EDITOR / $VISUAL (else vi) names, as a shell command line. */
export function programFor(which: "pager" | "editor", env: Record<string, string | undefined> = process.env): string {
  if (which === "pager") return env.PAGER?.trim() || "less";
  return env.VISUAL?.trim() || env.EDITOR?.trim() || "vi";
}

/**
 * Writes one file of the image whole to a private temporary file (0600, in a 0700 directory),
 * runs the pager or the editor on it, then removes it; a change made in the editor stays in that
 * copy only. Gives the line for the status.
 */
export async function openExternal(ctx: Context, image: OpenedImage, path: string, which: "pager" | "editor", term: Term, signal: AbortSignal): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "layerslayer-"));
  const name =
    path
      .split("/")
      .pop()!
      .replace(/[^\w.+-]/g, "_") || "file";
  const file = join(dir, name);
  try {
    await saveFile(ctx, image, path, file, signal, 0o600);
    const program = programFor(which);
    // The command line as the user wrote it, the file as "$1": no quoting of the name needed.
    const code = term.external(["sh", "-c", `${program} "$1"`, "sh", file]);
    return code === 0 ? `${which === "pager" ? "paged" : "edited (a copy)"}: ${escapeName(program)}` : `${escapeName(program)} ended with exit code ${code}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Saves layer `index`'s blob to `dest` (a directory gets the blob's own name), verified against its digest as `save` does. */
export async function saveLayer(image: OpenedImage, index: number, dest: string, signal: AbortSignal): Promise<string> {
  const desc = image.img.manifest.image.layers[index]!;
  let where = resolveLocal(dest);
  if (statSync(where, { throwIfNoEntry: false })?.isDirectory()) where = join(where, blobFileName(desc));
  const r = await downloadBlob({ source: image.img.source, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, label: `layer ${index}` }, where, { signal });
  return `${r.status === "present" ? "already there, verified" : "saved layer"} ${index} (${humanSize(r.size)}, ${desc.digest.slice(0, 19)}) to ${escapeName(r.path)}`;
}

/**
 * The image pane's actions that run in the background: each tells the status line what it is
 * doing, then what it did or why it failed. Leaving the pane stops those under way.
 */
export class Actions {
  /** The terminal (the navigator gives it once the app draws). */
  term?: Term | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly ctx: Context,
    private readonly image: OpenedImage,
    private readonly say: (message: string) => void,
  ) {}

  close(): void {
    this.abort.abort();
  }

  private async act(doing: string, failed: string, work: (signal: AbortSignal) => Promise<string>): Promise<void> {
    this.say(doing);
    try {
      this.say(await work(this.abort.signal));
    } catch (e) {
      this.say(`${failed}: ${(e as Error).message}`);
    }
  }

  /** One file of the merged image (symlinks followed), whole, never over an existing file. */
  saveFile(path: string, dest: string): Promise<void> {
    const where = resolveLocal(dest);
    return this.act(`saving ${show(path)} to ${escapeName(where)} …`, "not saved", async (signal) => {
      const r = await saveFile(this.ctx, this.image, path, where, signal);
      return `saved ${show(r.path)} (${humanSize(r.size)}) to ${escapeName(where)}`;
    });
  }

  saveLayer(index: number, dest: string): Promise<void> {
    return this.act(`saving layer ${index} …`, "not saved", (signal) => saveLayer(this.image, index, dest, signal));
  }

  /** The file in $PAGER or $EDITOR, then back. */
  external(path: string, which: "pager" | "editor"): Promise<void> {
    const term = this.term;
    if (!term) return Promise.resolve();
    return this.act(`reading ${show(path)} for the ${which} …`, "not opened", (signal) => openExternal(this.ctx, this.image, path, which, term, signal));
  }

  /** The path on the clipboard (OSC 52). */
  copyPath(path: string): void {
    this.term?.write(clipboardSequence(path === ROOT ? "/" : `/${path}`));
    this.say(`copied ${show(path)} to the clipboard (OSC 52)`);
  }
}
