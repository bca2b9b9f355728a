/** The tar stage: decoded tar bytes in, entries (and, on request, file content) out. */
export { readTar, type ReadTarOptions, type TarEvent, type TarSummary } from "./reader.ts";
export { normalizePath } from "./entry.ts";
export { MAX_META_SIZE } from "./pax.ts";
