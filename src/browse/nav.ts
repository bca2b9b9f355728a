/**
 * The browser's panes as a stack: where from (a registry's repositories, a search, tags,
 * platforms), then the image (state.ts's Browser). Enter on a list pushes the next pane, Esc pops
 * one (leaving an image stops its downloads), `q` quits from anywhere. The image's data comes
 * through core.ts, the lists through where.ts; the command (cli/browse.ts) says how to open a
 * reference (credentials, the registry client, local sources).
 */
import type { Context } from "../cli/common.ts";
import type { Platform } from "../oci/manifest.ts";
import { formatPlatform } from "../oci/platform.ts";
import type { ImageSource } from "../source/source.ts";
import type { Term } from "./actions.ts";
import { openImage } from "./core.ts";
import { ListPane } from "./list-pane.ts";
import { moveBy, type Key } from "./keys.ts";
import { Browser } from "./state.ts";
import { platformChoices, type ListResult, type SearchProvider } from "./where.ts";

export type Pane = ListPane | Browser;

/** Warnings kept for the screen, at most (the count goes on). */
const MAX_WARNINGS = 100;

/** What the command gives the navigator: how to open a reference and read a registry's lists. */
export interface Opener {
  /** The source and context of a reference typed or chosen ("127.0.0.1:5000/lab/app:1"). */
  open(reference: string): Promise<{ source: ImageSource; ctx: Context }>;
  catalog(registry: string): Promise<ListResult>;
  tags(registry: string, repository: string): Promise<ListResult>;
}

export class Navigator {
  readonly stack: Pane[] = [];
  quit = false;
  /** Warnings and errors the library logged while the screen was ours (the last MAX_WARNINGS), and how many in all. */
  readonly warnings: string[] = [];
  warningCount = 0;
  /** The terminal (app.ts sets it once it draws). */
  term?: Term | undefined;
  private listeners: (() => void)[] = [];

  constructor(private readonly opener: Opener) {}

  get top(): Pane {
    return this.stack[this.stack.length - 1]!;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  readonly changed = (): void => {
    for (const fn of this.listeners) fn();
  };

  /** A line the library logged (cli/log.ts, diverted while the app runs): warnings and errors are kept for the title line. */
  log(kind: string, line: string): void {
    if (kind !== "warn" && kind !== "error") return;
    this.warningCount++;
    this.warnings.push(line);
    if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
    this.changed();
  }

  push(pane: Pane): void {
    this.stack.push(pane);
    this.changed();
  }

  /** Back a pane: an image left stops its downloads. The first pane stays. */
  back(): void {
    if (this.stack.length <= 1) return;
    const left = this.stack.pop()!;
    if (left instanceof Browser) left.close();
    this.changed();
  }

  /** Quits: every download stopped. */
  stop(): void {
    for (const p of this.stack) if (p instanceof Browser) p.close();
    this.quit = true;
    this.changed();
  }

  key(k: Key): void {
    const top = this.top;
    if (top instanceof Browser) {
      top.key(k);
      if (top.quit) this.stop();
      return;
    }
    if (top.key(k, (key) => moveBy(key, top.height))) return;
    if (k.name === "char" && k.ch === "q") return this.stop();
    if (k.name === "escape" || k.name === "back" || k.name === "left" || k.ch === "h") this.back();
  }

  /** The first pane of `browse REGISTRY`: its repositories. */
  registry(registry: string): ListPane {
    return new ListPane(
      {
        title: `Repositories of ${registry}`,
        load: () => this.opener.catalog(registry),
        choose: (item) => this.push(this.tags(registry, item.value, (r) => this.opener.tags(registry, r))),
      },
      this.changed,
    );
  }

  /** The first pane of a bare `browse`: a search, its results, then their tags. */
  search(provider: SearchProvider): ListPane {
    return new ListPane(
      {
        title: `Search ${provider.name}`,
        search: { label: `Search ${provider.name} for: ` },
        load: (term) => provider.search(term),
        choose: (item) => this.push(this.tags(provider.registry, item.value, (r) => (provider.tags ? provider.tags(r) : this.opener.tags(provider.registry, r)))),
      },
      this.changed,
    );
  }

  private tags(registry: string, repository: string, load: (repository: string) => Promise<ListResult>): ListPane {
    const pane: ListPane = new ListPane(
      {
        title: `Tags of ${registry}/${repository}`,
        load: () => load(repository),
        choose: (item) => void this.openReference(`${registry}/${repository}:${item.value}`, pane),
      },
      this.changed,
    );
    return pane;
  }

  /**
   * Opens a reference from a pane: the platforms first when it names an index of several images
   * (unless --platform chose), else the image. A failure is the pane's message.
   */
  async openReference(reference: string, from: ListPane): Promise<void> {
    from.message = `opening ${reference} …`;
    this.changed();
    try {
      const { source, ctx } = await this.opener.open(reference);
      const platforms = ctx.platform ? undefined : await platformChoices(source);
      from.message = "";
      if (platforms) this.push(this.platforms(ctx, source, platforms));
      else await this.openSource(ctx, source, undefined, from);
    } catch (e) {
      from.message = `not opened: ${e instanceof Error ? e.message : String(e)}`;
      this.changed();
    }
  }

  /** The platforms of a multi-platform image, the host's first. */
  platforms(ctx: Context, source: ImageSource, platforms: Platform[]): ListPane {
    const pane: ListPane = new ListPane(
      {
        title: `Platforms of ${source.reference}`,
        load: async () => ({ items: platforms.map((p) => ({ label: formatPlatform(p), value: formatPlatform(p) })) }),
        choose: (item) =>
          void this.openSource(
            ctx,
            source,
            platforms.find((p) => formatPlatform(p) === item.value),
            pane,
          ),
      },
      this.changed,
    );
    return pane;
  }

  /** Opens the image (manifest and config) and pushes its pane; its listings start at once. */
  async openSource(ctx: Context, source: ImageSource, platform: Platform | undefined, from?: ListPane): Promise<void> {
    if (from) from.message = `opening ${source.reference} …`;
    this.changed();
    try {
      const image = await openImage(ctx, source, platform);
      if (from) from.message = "";
      this.pushImage(new Browser(ctx, image));
    } catch (e) {
      if (!from) throw e;
      from.message = `not opened: ${e instanceof Error ? e.message : String(e)}`;
      this.changed();
    }
  }

  /** Pushes an image pane: Esc with nothing else to undo comes back here. */
  pushImage(browser: Browser): void {
    browser.onBack = this.stack.length > 0 ? () => this.back() : undefined;
    browser.openOther = async (reference, platform) => {
      const { source, ctx } = await this.opener.open(reference);
      return openImage(ctx, source, ctx.platform ?? platform);
    };
    browser.actions.term = { write: (s) => this.term?.write(s), external: (argv) => this.term?.external(argv) ?? -1 };
    browser.onChange(this.changed);
    this.push(browser);
    void browser.start();
  }
}
