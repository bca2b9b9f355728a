/** The shapes of the merged image view (see merge.ts for the rules that produce them). */
import type { Entry } from "../types.ts";

export type HistoryAction = "added" | "modified" | "deleted" | "hidden";

export interface HistoryEvent {
  readonly path: string;
  /** The layer in which it happened. */
  readonly layer: number;
  /**
   * added: a new path; modified: replaced what lower layers had there; deleted: removed by a
   * whiteout (the path itself or anything under it), or under a directory that an upper
   * non-directory replaced; hidden: under a directory made opaque in this layer.
   */
  readonly action: HistoryAction;
  /** added/modified: the new entry; deleted/hidden: the entry that went away (its own `layer`). */
  readonly entry: Entry;
  /** The entry is a synthesised parent directory, not a tar member. */
  readonly implied?: boolean;
  /** deleted/hidden: path of the whiteout, opaque marker or replacing entry that caused it. */
  readonly by?: string;
}

export interface HardlinkTarget {
  readonly entry: Entry;
  readonly layer: number;
}

export interface MergedNode {
  /** Clean path ("etc/passwd"), ROOT (".") for the root. */
  readonly path: string;
  readonly name: string;
  /** The winning entry (synthesised when `implied`). */
  readonly entry: Entry;
  /** The layer that gave (or implied) `entry`. */
  readonly layer: number;
  readonly implied: boolean;
  /** Entries this node overrode at the same path, oldest first (synthesised ones excluded). */
  readonly replaced: readonly Entry[];
  /** Hardlinks: the entry holding the data, in the hardlink's own layer. */
  readonly target?: HardlinkTarget;
}

export interface WhiteoutRecord {
  readonly layer: number;
  /** The marker's path ("a/.wh.b", "a/.wh..wh..opq"). */
  readonly path: string;
  readonly kind: "whiteout" | "opaque" | "meta";
  /** whiteout: the path it deletes; opaque: the directory it makes opaque. */
  readonly target?: string;
  /** How many merged paths it removed (0 when nothing was there). */
  readonly removed: number;
}

export interface Anomaly {
  readonly layer: number;
  readonly path: string;
  readonly reason: string;
}

/** What `historyChildren` returns for each name that ever existed in a directory. */
export interface HistoryRecord {
  readonly path: string;
  readonly name: string;
  /** The current node, if the path exists now. */
  readonly node: MergedNode | undefined;
  readonly events: readonly HistoryEvent[];
}
