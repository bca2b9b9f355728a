/**
 * What the database keeps of an image's merged view: only the facts a layer listing does not
 * already say. An entry is "added and still present at the top" unless a change says otherwise,
 * so a typical image stores a few rows (the files its upper layers touched), not one per entry.
 */
import type { HistoryEvent } from "../image/merge.ts";
import type { Change, Fate } from "./database.ts";

function fateOf(next: HistoryEvent | undefined): Fate {
  if (!next) return "present";
  return next.action === "deleted" || next.action === "hidden" ? next.action : "replaced";
}

/** The changes of a merged view, from its events (oldest first); synthesised parent directories are left out. */
export function changesOf(events: Iterable<HistoryEvent>): Change[] {
  const byPath = new Map<string, HistoryEvent[]>();
  for (const e of events) {
    const list = byPath.get(e.path);
    if (list) list.push(e);
    else byPath.set(e.path, [e]);
  }
  const out: Change[] = [];
  for (const [path, list] of byPath) {
    list.forEach((e, i) => {
      if (e.implied) return;
      if (e.action === "deleted" || e.action === "hidden") {
        out.push({ position: e.layer, path, action: e.action, entry: { type: e.entry.type, mode: e.entry.mode, size: e.entry.size } });
        return;
      }
      const next = list[i + 1];
      const fate = fateOf(next);
      if (e.action === "added" && fate === "present") return;
      out.push({ position: e.layer, path, action: e.action, fate, ...(next ? { fatePosition: next.layer } : {}) });
    });
  }
  return out;
}
