/**
 * A pane that lists things to choose from (repositories, search results, tags, platforms): its
 * items, the cursor, a filter typed after `/`, and for a search the term typed first. What the
 * list holds and what choosing means come from nav.ts; no terminal code here (list-screen.ts draws it).
 */
import type { ListItem, ListResult } from "./where.ts";
import { typeInto, type Key } from "./keys.ts";

export interface ListPaneOptions {
  /** The heading, e.g. "Repositories of 127.0.0.1:5000". */
  title: string;
  /** Reads the list; called again when a search term is given. */
  load: (term: string) => Promise<ListResult>;
  /** Enter on an item. */
  choose: (item: ListItem) => void;
  /** A search: a term is asked for first, and `s` asks again. */
  search?: { label: string };
}

export class ListPane {
  readonly kind = "list";
  items: ListItem[] = [];
  cursor = 0;
  top = 0;
  loading = false;
  /** The error that ended the list (what came before it is listed). */
  error?: string | undefined;
  /** A passing message (opening an image, an error of the choice). */
  message = "";
  filter = "";
  /** The line being typed: the filter or the search term. */
  prompt?: { kind: "filter" | "search"; label: string; text: string } | undefined;
  term = "";
  /** The help overlay (`?`) is shown; any key closes it. */
  help = false;
  /** Rows of the list at the last draw (list-screen.ts sets it). */
  height = 10;
  private loads = 0;

  constructor(
    readonly opts: ListPaneOptions,
    private readonly changed: () => void,
  ) {
    if (opts.search) this.prompt = { kind: "search", label: opts.search.label, text: "" };
    else void this.reload();
  }

  get title(): string {
    return this.opts.title;
  }

  /** The items the filter lets through (a case-insensitive substring of the name or the detail). */
  get shown(): ListItem[] {
    if (!this.filter) return this.items;
    const f = this.filter.toLowerCase();
    return this.items.filter((i) => i.label.toLowerCase().includes(f) || (i.detail ?? "").toLowerCase().includes(f));
  }

  async reload(): Promise<void> {
    const n = ++this.loads;
    this.loading = true;
    this.error = undefined;
    this.items = [];
    this.changed();
    try {
      const r = await this.opts.load(this.term);
      if (n !== this.loads) return;
      this.items = r.items;
      this.error = r.error;
    } catch (e) {
      if (n !== this.loads) return;
      this.error = e instanceof Error ? e.message : String(e);
    }
    this.loading = false;
    this.cursor = 0;
    this.top = 0;
    this.changed();
  }

  /** Handles a key; false when it is not the pane's (Esc with nothing to undo, q). */
  key(k: Key, move: (k: Key) => number | undefined): boolean {
    if (this.prompt) {
      this.promptKey(k);
      return true;
    }
    this.message = "";
    if (this.help) {
      this.help = false;
      this.changed();
      return true;
    }
    const d = move(k);
    const shown = this.shown;
    if (d !== undefined) {
      this.cursor = Math.max(0, Math.min(shown.length - 1, this.cursor + d));
      if (this.cursor < this.top) this.top = this.cursor;
      if (this.cursor >= this.top + this.height) this.top = this.cursor - this.height + 1;
    } else if (k.name === "enter" || k.name === "right" || k.ch === "l") {
      const item = shown[this.cursor];
      if (item) this.opts.choose(item);
    } else if (k.ch === "?") this.help = true;
    else if (k.ch === "/") this.prompt = { kind: "filter", label: "Filter: ", text: this.filter };
    else if (k.ch === "s" && this.opts.search) this.prompt = { kind: "search", label: this.opts.search.label, text: this.term };
    else if ((k.name === "escape" || k.name === "back") && this.filter) this.filter = "";
    else return false;
    this.changed();
    return true;
  }

  private promptKey(k: Key): void {
    const p = this.prompt!;
    const end = typeInto(p, k);
    if (end) this.prompt = undefined;
    if (end === "enter") {
      if (p.kind === "filter") {
        this.filter = p.text;
        this.cursor = 0;
        this.top = 0;
      } else if (p.text.trim() !== "") {
        this.term = p.text.trim();
        void this.reload();
      }
    }
    this.changed();
  }
}
