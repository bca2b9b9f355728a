/**
 * Reading the JSON answers of web APIs next to the registry API (the registry search protocol,
 * Docker Hub's API): every field is untrusted, unknown fields are ignored, and a field that is
 * missing or of the wrong type is absent (undefined), never a crash.
 */
import { LayerslayerError } from "../errors.ts";

/** Server strings are kept at most this long (they are shown truncated anyway). */
const MAX_TEXT = 1000;

/** A server string, bounded; undefined when it is not a (non-empty) string. */
export function textField(v: unknown, max = MAX_TEXT): string | undefined {
  return typeof v === "string" && v !== "" ? v.slice(0, max) : undefined;
}

/** A server count: a non-negative safe integer, else undefined. */
export function countField(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** A server boolean, else undefined. */
export function flagField(v: unknown): boolean | undefined {
  return typeof v === "boolean" ? v : undefined;
}

/** A server time as ISO 8601 (UTC), else undefined. */
export function timeField(v: unknown): string | undefined {
  if (typeof v !== "string" || v.length > 64) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** A field holding a JSON object, or undefined. */
export function objectField(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Reads a JSON object an API answered with; HTML (a login page, a proxy's error page, a web
 * front end where an API was expected) and anything else that is not a JSON object is CORRUPT.
 */
export function jsonObject(res: Response, bytes: Uint8Array, what: string): Record<string, unknown> {
  const text = new TextDecoder().decode(bytes);
  const type = res.headers.get("content-type") ?? "";
  if (/html/i.test(type) || /^\s*</.test(text)) {
    throw new LayerslayerError("CORRUPT", `${what}: the server answered with an HTML page, not the JSON of the API`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new LayerslayerError("CORRUPT", `${what}: the answer is not valid JSON`);
  }
  const obj = objectField(doc);
  if (!obj) throw new LayerslayerError("CORRUPT", `${what}: the answer is not a JSON object`);
  return obj;
}

/** The `results` list of an answer; CORRUPT when there is none. */
export function resultsOf(doc: Record<string, unknown>, what: string): unknown[] {
  const results = doc.results;
  if (!Array.isArray(results)) throw new LayerslayerError("CORRUPT", `${what}: the answer has no "results" list`);
  return results;
}

/** How to read one field of a record: the server's field name, and the reader for its value. */
export type FieldSpec<T> = { [K in keyof T]?: readonly [string, (v: unknown) => T[K] | undefined] };

/** The fields `spec` names, read from `r`; a field the reader rejects is left out (absent, not undefined). */
export function readFields<T>(r: Record<string, unknown>, spec: FieldSpec<T>): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(spec) as (keyof T)[]) {
    const [field, read] = spec[key]!;
    const value = read(r[field]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
