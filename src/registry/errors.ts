import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";

/** Reads a registry error body ({"errors":[{code,message}]}) if there is one, bounded. */
async function registryMessage(res: Response): Promise<string> {
  try {
    const text = (await res.text()).slice(0, 4096);
    const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = doc.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(": ");
  } catch {}
  return "";
}

/** Maps a non-success registry response onto a one-line LayerslayerError. */
export async function responseError(res: Response, what: string): Promise<LayerslayerError> {
  const detail = res.status === 416 ? "" : await registryMessage(res);
  const suffix = detail ? ` (${escapeName(detail.slice(0, 300))})` : "";
  if (res.status === 404) return new LayerslayerError("NOT_FOUND", `${what}: not found${suffix}`);
  if (res.status === 401 || res.status === 403) return new LayerslayerError("AUTH", `${what}: access denied (HTTP ${res.status})${suffix}`);
  if (res.status === 429) {
    const after = res.headers.get("retry-after");
    const when = !after ? "" : /^\d+$/.test(after.trim()) ? `; retry after ${after.trim()} s` : `; retry after ${escapeName(after.slice(0, 64))}`;
    return new LayerslayerError("RATE_LIMIT", `${what}: rate limited by the registry${when}${suffix}`);
  }
  if (res.status >= 500) return new LayerslayerError("NETWORK", `${what}: registry error HTTP ${res.status}${suffix}`);
  return new LayerslayerError("NETWORK", `${what}: unexpected HTTP ${res.status}${suffix}`);
}
