/**
 * A checker for the subset of JSON Schema (2020-12) that src/serve/schemas.ts uses: type (one or
 * several), const, enum, properties, required, items, additionalProperties, oneOf, pattern, $ref
 * into the document's components. Returns the problems found, each with where it is.
 */
type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

export function validate(value: unknown, schema: Schema, root: Schema = schema, at = "$"): string[] {
  if (typeof schema.$ref === "string") {
    const target = schema.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], root);
    if (!target) return [`${at}: unresolved ${schema.$ref}`];
    return validate(value, target as Schema, root, at);
  }
  const problems: string[] = [];
  if (schema.oneOf) {
    const matching = (schema.oneOf as Schema[]).filter((s) => validate(value, s, root, at).length === 0).length;
    if (matching !== 1) problems.push(`${at}: matches ${matching} of oneOf`);
    return problems;
  }
  if (schema.type !== undefined) {
    const types = [schema.type].flat() as string[];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) return [`${at}: ${t}, expected ${types.join("|")}`];
  }
  if ("const" in schema && value !== schema.const) problems.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (typeof schema.pattern === "string" && typeof value === "string" && !new RegExp(schema.pattern, "u").test(value)) problems.push(`${at}: does not match ${schema.pattern}`);
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const k of (schema.required as string[] | undefined) ?? []) if (!(k in obj)) problems.push(`${at}: missing ${k}`);
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) problems.push(...validate(v, props[k], root, `${at}.${k}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected ${k}`);
      else if (typeof schema.additionalProperties === "object") problems.push(...validate(v, schema.additionalProperties as Schema, root, `${at}.${k}`));
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => problems.push(...validate(v, schema.items as Schema, root, `${at}[${i}]`)));
  return problems;
}
