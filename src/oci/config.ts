import { LayerslayerError } from "../errors.ts";

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Volumes?: Record<string, unknown> | null;
    StopSignal?: string;
  };
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: HistoryEntry[];
}

export function parseConfig(bytes: Uint8Array, what: string): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new LayerslayerError("CORRUPT", `${what}: the image config is not valid JSON`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new LayerslayerError("CORRUPT", `${what}: the image config is not a JSON object`);
  }
  return doc as ImageConfig;
}

export interface Step {
  /** Position in config.history. */
  index: number;
  createdBy: string;
  created?: string;
  comment?: string;
  empty: boolean;
  /** The layer this step produced, when it produced one. */
  layer?: number;
}

/**
 * Aligns history with layers: steps with `empty_layer` made none; the rest map in order onto the
 * layers. When history is missing or does not add up, the extra layers get no step.
 */
export function alignHistory(config: ImageConfig, layerCount: number): { steps: Step[]; stepOfLayer: (Step | undefined)[] } {
  const steps: Step[] = [];
  const stepOfLayer: (Step | undefined)[] = new Array(layerCount).fill(undefined);
  let next = 0;
  // The config is the server's JSON: a history that is not a list, or entries that are not objects
  // or hold other things than strings, count as steps without text, never as a crash.
  const history: unknown[] = Array.isArray(config.history) ? config.history : [];
  history.forEach((entry, index) => {
    const h = (entry && typeof entry === "object" ? entry : {}) as HistoryEntry;
    const empty = h.empty_layer === true;
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    const step: Step = {
      index,
      createdBy: text(h.created_by).trim(),
      ...(text(h.created) ? { created: text(h.created) } : {}),
      ...(text(h.comment) ? { comment: text(h.comment) } : {}),
      empty,
    };
    if (!empty && next < layerCount) {
      step.layer = next;
      stepOfLayer[next] = step;
      next++;
    }
    steps.push(step);
  });
  return { steps, stepOfLayer };
}
