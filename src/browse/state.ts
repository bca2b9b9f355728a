/**
 * The browser's state and what each key does to it. No terminal here: screen.ts draws the state,
 * app.ts feeds keys in and redraws on `onChange`. The image's data comes only through core.ts.
 */
import { basename } from "node:path";
import type { Context } from "../cli/common.ts";
import { LayerslayerError } from "../errors.ts";
import { globToRegExp } from "../image/glob.ts";
import type { MergedTree } from "../image/merge.ts";
import type { LayerListing } from "../image/load.ts";
import { ROOT, parentOf } from "../image/paths.ts";
import { resolvePath } from "../image/resolve.ts";
import { unescapeName } from "../names.ts";
import type { EfficiencyReport } from "../analysis/efficiency.ts";
import type { OpenedImage } from "./core.ts";
import { GrowingTree } from "./growing-tree.ts";
import { Actions } from "./actions.ts";
import { clamp, moveBy, show, typeInto, type Key, type Prompt } from "./keys.ts";
import { blobFileName } from "../blob/download.ts";
import { readListings } from "./listings.ts";
import { diffAsked, DiffView, type OpenOther } from "./diff-view.ts";
import { detailLines } from "./details.ts";
import { directorySizes, treeRows, type TreeRow } from "./tree-rows.ts";
import { Viewer, type FileView } from "./viewer.ts";

export class Browser {
  focus: "layers" | "tree" = "tree";
  view: "main" | "file" | "details" | "diff" = "main";
  /** The diff view (`d`). */
  diff?: DiffView | undefined;
  /** Opens another image for a diff (the navigator gives it: references, credentials, platforms). */
  openOther?: OpenOther | undefined;
  /** The image's details (`i`) and the first of them shown. */
  details?: { lines: string[]; top: number } | undefined;
  help = false;
  layerCursor = 0;
  layerTop = 0;
  treeCursor = 0;
  treeTop = 0;
  mode: "merged" | "layer" = "merged";
  sort: "name" | "size" = "name";
  filter?: { text: string; test: (p: string) => boolean } | undefined;
  prompt?: Prompt | undefined;
  message = "";
  viewer?: Viewer | undefined;
  rows: TreeRow[] = [];
  quit = false;
  /** Rows of the tree pane and the file body at the last draw (screen.ts sets them). */
  treeHeight = 10;
  bodyHeight = 20;

  private readonly growing: GrowingTree;
  private sizes = new Map<string, number>();
  private readonly open = new Set<string>();
  private readonly closed = new Set<string>();
  private listingsAbort = new AbortController();
  /** Saving, $PAGER / $EDITOR, the clipboard: their messages go to the status line. */
  readonly actions: Actions;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly ctx: Context,
    readonly image: OpenedImage,
  ) {
    this.layerCursor = Math.max(0, image.layers.length - 1);
    this.actions = new Actions(ctx, image, (message) => {
      this.message = message;
      this.changed();
    });
    this.growing = new GrowingTree(image.layers.length, () => {
      this.sizes = directorySizes(this.tree);
      this.refresh();
    });
  }

  /** The merged tree of what is listed so far. */
  get tree(): MergedTree {
    return this.growing.tree;
  }

  /** dive's score, once every layer is complete. */
  get efficiency(): EfficiencyReport | undefined {
    return this.growing.efficiency;
  }

  /** The complete listings, bottom first. */
  get listings(): LayerListing[] {
    return this.growing.listings;
  }

  get file(): FileView | undefined {
    return this.viewer?.view;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Starts reading the layers' listings in the background; the tree grows as entries come in. */
  start(): Promise<void> {
    return readListings(
      this.ctx,
      this.image,
      {
        onState: () => this.changed(),
        onPartial: (index, entries) => this.growing.addPartial(index, entries),
        onListing: (l) => this.growing.addListing(l),
      },
      this.listingsAbort.signal,
    ).then(() => this.changed());
  }

  get listing(): boolean {
    return this.image.layers.some((l) => l.state === "reading" || l.state === "waiting" || l.state === "partial");
  }

  /** Complete layers merged into the tree, and those merged from a part of their listing. */
  get mergedLayers(): { complete: number; partial: number } {
    return { complete: this.growing.completeLayers, partial: this.growing.partialLayers };
  }

  /** Recomputes the tree rows, keeping the cursor on the same path when it is still there. */
  refresh(): void {
    const at = this.rows[this.treeCursor]?.path;
    this.rows = treeRows(
      this.tree,
      { mode: this.mode, layer: this.layerCursor, open: this.open, closed: this.closed, sort: this.sort, ...(this.filter ? { filter: this.filter.test } : {}) },
      this.sizes,
    );
    const again = at === undefined ? -1 : this.rows.findIndex((r) => r.path === at);
    this.treeCursor = again >= 0 ? again : Math.min(this.treeCursor, Math.max(0, this.rows.length - 1));
    this.scrollTree();
    this.changed();
  }

  private scrollTree(): void {
    const h = Math.max(1, this.treeHeight);
    if (this.treeCursor < this.treeTop) this.treeTop = this.treeCursor;
    if (this.treeCursor >= this.treeTop + h) this.treeTop = this.treeCursor - h + 1;
    this.treeTop = Math.max(0, Math.min(this.treeTop, Math.max(0, this.rows.length - h)));
  }

  /** Esc with nothing else to undo (no filter, no layer being read): back a pane, when there is one. */
  onBack?: (() => void) | undefined;

  /** Cancels every download (the pane is left). */
  close(): void {
    this.listingsAbort.abort();
    this.growing.close();
    this.viewer?.close();
    this.diff?.close();
    this.actions.close();
  }

  /** Cancels every download and leaves. */
  stop(): void {
    this.close();
    this.quit = true;
    this.changed();
  }

  key(k: Key): void {
    this.message = this.prompt ? this.message : "";
    if (this.prompt) return this.promptKey(k);
    if (k.name === "char" && k.ch === "q") return this.stop();
    if (this.help) {
      this.help = false;
      return this.changed();
    }
    if (k.name === "char" && k.ch === "?") {
      this.help = true;
      return this.changed();
    }
    if (this.view === "file") return this.fileKey(k);
    if (this.view === "details") return this.detailsKey(k);
    if (this.view === "diff") return this.diffKey(k);
    this.mainKey(k);
  }

  private move(k: Key): number | undefined {
    return moveBy(k, this.focus === "tree" ? this.treeHeight : 5);
  }

  private mainKey(k: Key): void {
    const d = this.move(k);
    if (k.name === "tab") this.focus = this.focus === "tree" ? "layers" : "tree";
    else if (d !== undefined && this.focus === "layers") {
      this.layerCursor = clamp(this.layerCursor + d, 0, this.image.layers.length - 1);
      return this.refresh();
    } else if (d !== undefined) {
      this.treeCursor = clamp(this.treeCursor + d, 0, this.rows.length - 1);
      this.scrollTree();
    } else if (k.ch === "c") {
      this.mode = this.mode === "merged" ? "layer" : "merged";
      this.treeCursor = 0;
      this.treeTop = 0;
      return this.refresh();
    } else if (k.ch === "o") {
      this.sort = this.sort === "name" ? "size" : "name";
      return this.refresh();
    } else if (k.ch === ":") this.prompt = { kind: "path", label: "Go to path: /", text: "" };
    else if (k.ch === "i") {
      this.details = { lines: detailLines(this.image, this.efficiency), top: 0 };
      this.view = "details";
    } else if (k.ch === "/") this.prompt = { kind: "filter", label: "Filter (glob, e.g. passwd or /etc/*.conf): ", text: this.filter?.text ?? "" };
    else if (k.name === "escape" || k.name === "back") this.back();
    else if (k.ch === "S") this.askSaveLayer();
    else if (k.ch === "d") {
      const n = this.layerCursor;
      this.prompt = { kind: "diff", label: `Diff layer ${n} against (a layer number, or an image): `, text: n > 0 ? String(n - 1) : "" };
    } else if (k.ch === "y" && this.rows[this.treeCursor]) this.actions.copyPath(this.rows[this.treeCursor]!.path);
    else if (this.focus === "tree") return this.treeKey(k);
    else if (k.name === "enter") this.focus = "tree";
    this.changed();
  }

  /** Esc in the main view: clears the filter, else stops the layers still being read. */
  private back(): void {
    if (this.filter) {
      this.filter = undefined;
      return this.refresh();
    }
    if (this.listing) {
      this.listingsAbort.abort();
      this.message = "stopped reading layers";
    } else this.onBack?.();
  }

  private treeKey(k: Key): void {
    const row = this.rows[this.treeCursor];
    if (!row) return this.changed();
    const isOpen = (r: TreeRow) => r.open;
    const setOpen = (r: TreeRow, open: boolean) => {
      if (this.mode === "merged") open ? this.open.add(r.path) : this.open.delete(r.path);
      else open ? this.closed.delete(r.path) : this.closed.add(r.path);
    };
    if ((k.name === "right" || k.ch === "l") && row.dir) setOpen(row, true);
    else if (k.name === "left" || k.ch === "h") {
      if (row.dir && isOpen(row)) setOpen(row, false);
      else {
        const up = parentOf(row.path);
        const i = up && up !== ROOT ? this.rows.findIndex((r) => r.path === up) : -1;
        if (i >= 0) this.treeCursor = i;
      }
    } else if (k.name === "enter" && row.dir) setOpen(row, !isOpen(row));
    else if (k.name === "enter") return void this.openFile(row);
    else if (k.ch === "s" && !row.dir) this.askSave(row.path);
    else return this.changed();
    this.refresh();
  }

  /** Opens the viewer on a file (a symlink followed through the tree first). */
  async openFile(row: TreeRow): Promise<void> {
    if (row.change === "removed") {
      this.message = `${show(row.path)} was removed in layer ${row.layer}`;
      return this.changed();
    }
    let file: ConstructorParameters<typeof Viewer>[2];
    try {
      const r = resolvePath(this.tree, row.path, { followFinal: true });
      if (r.node.entry.type === "dir") return this.jumpTo(r.path);
      if (r.node.entry.type !== "file" && r.node.entry.type !== "contiguous" && r.node.entry.type !== "hardlink") {
        this.message = `${show(r.path)} is a ${r.node.entry.type}: nothing to view`;
        return this.changed();
      }
      file = { path: row.path, target: r.path, size: r.node.target?.entry.size ?? r.node.entry.size, layer: r.node.layer };
    } catch (e) {
      // Not in the layers merged so far: the core looks (it reads the layers itself).
      file = { path: row.path, target: row.path, size: row.size, layer: row.layer, ...(this.listing ? {} : { error: (e as Error).message }) };
    }
    this.viewer = new Viewer(this.ctx, this.image, file, () => this.changed());
    this.view = "file";
    this.changed();
    if (file.error === undefined) await this.viewer.load();
  }

  /** Puts the cursor on a path of the merged view, opening the directories above it. */
  private jumpTo(path: string): void {
    this.mode = "merged";
    this.filter = undefined;
    for (let p = parentOf(path); p !== undefined && p !== ROOT; p = parentOf(p)) this.open.add(p);
    this.open.add(path);
    this.rows = [];
    this.refresh();
    const i = this.rows.findIndex((r) => r.path === path);
    if (i >= 0) this.treeCursor = i;
    this.scrollTree();
    this.message = `→ ${show(path)}`;
    this.changed();
  }

  /** `:` a typed path (as `ls` prints names, escapes read back): the cursor goes there. */
  private goTo(text: string): void {
    if (text.trim() === "") return;
    try {
      const r = resolvePath(this.tree, unescapeName(text), { followFinal: false });
      this.jumpTo(r.path);
    } catch (e) {
      this.message = e instanceof LayerslayerError ? e.message : String(e);
    }
  }

  private fileKey(k: Key): void {
    const viewer = this.viewer!;
    const d = this.move(k);
    if (d !== undefined) viewer.scroll(k.name === "pageup" || k.name === "pagedown" ? Math.sign(d) * Math.max(1, this.bodyHeight - 1) : d, this.bodyHeight);
    else if (k.name === "escape" || k.name === "back" || k.name === "left" || k.ch === "h") {
      viewer.close();
      this.viewer = undefined;
      this.view = "main";
    } else if (k.ch === "m") return viewer.more();
    else if (k.ch === "s") this.askSave(viewer.view.target);
    else if (k.ch === "/") this.prompt = { kind: "search", label: "Search the file for: ", text: viewer.view.search?.text ?? "" };
    else if (k.ch === "n" || k.ch === "N") viewer.nextMatch(k.ch === "n" ? 1 : -1, this.bodyHeight);
    else if (k.ch === "p" || k.ch === "e") return void this.actions.external(viewer.view.target, k.ch === "p" ? "pager" : "editor");
    else if (k.ch === "y") this.actions.copyPath(viewer.view.path);
    this.changed();
  }

  /** `S`: the selected layer's blob, verified, to a path asked for. */
  private askSaveLayer(): void {
    const desc = this.image.img.manifest.image.layers[this.layerCursor];
    if (!desc) return;
    this.prompt = { kind: "layer", label: `Save layer ${this.layerCursor} to: `, text: blobFileName(desc) };
  }

  /** `d`: the diff the text asks for (diff-view.ts reads it), in its view. */
  private startDiff(text: string): void {
    const asked = diffAsked(text, this.ctx, this.image, this.layerCursor, this.openOther);
    if (typeof asked === "string") {
      this.message = asked;
      return;
    }
    this.diff?.close();
    this.diff = new DiffView(asked.title, asked.run, () => this.changed());
    this.view = "diff";
    void this.diff.load();
  }

  private diffKey(k: Key): void {
    const diff = this.diff!;
    const d = this.move(k);
    if (d !== undefined) diff.move(d, this.bodyHeight);
    else if (k.name === "escape" || k.name === "back" || k.name === "left" || k.ch === "h") {
      diff.close();
      this.diff = undefined;
      this.view = "main";
    }
    this.changed();
  }

  private detailsKey(k: Key): void {
    const d = this.move(k);
    const details = this.details!;
    if (d !== undefined) details.top = clamp(details.top + d, 0, Math.max(0, details.lines.length - this.bodyHeight));
    else if (k.name === "escape" || k.name === "back" || k.ch === "i") {
      this.details = undefined;
      this.view = "main";
    }
    this.changed();
  }

  private askSave(path: string): void {
    this.prompt = { kind: "save", label: `Save ${show(path)} to: `, text: basename(path).replace(/[^\w.+-]/g, "_") || "file" };
    this.savePath = path;
  }

  private savePath = "";

  private promptKey(k: Key): void {
    const p = this.prompt!;
    const end = typeInto(p, k);
    if (end) this.prompt = undefined;
    if (end === "enter") {
      if (p.kind === "filter") this.setFilter(p.text);
      else if (p.kind === "path") this.goTo(p.text);
      else if (p.kind === "search") this.viewer?.find(p.text, this.bodyHeight);
      else if (p.kind === "layer") void this.actions.saveLayer(this.layerCursor, p.text);
      else if (p.kind === "diff") this.startDiff(p.text.trim());
      else void this.actions.saveFile(this.savePath, p.text);
    }
    this.changed();
  }

  private setFilter(text: string): void {
    if (text === "") this.filter = undefined;
    else {
      try {
        const re = globToRegExp(text);
        this.filter = { text, test: (p) => re.test(p) };
      } catch (e) {
        this.message = (e as Error).message;
      }
    }
    this.treeCursor = 0;
    this.treeTop = 0;
    this.focus = "tree";
    this.refresh();
  }
}
