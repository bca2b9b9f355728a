import { join } from "node:path";
import type { ImageSource } from "../source/source.ts";

/**
 * Where `save` (and `interactive`'s save) put layers when not told: `./downloads/<repository,
 * "/" → "_">/<digest or tag, ":" → "_">`.
 */
export function defaultDirectory(source: ImageSource): string {
  return join("downloads", source.repository.replaceAll("/", "_"), source.version.replaceAll(":", "_"));
}
