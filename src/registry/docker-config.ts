import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Credentials } from "./auth.ts";

/** Keys docker uses for a registry in `auths`: Docker Hub has its historical URL. */
function keysFor(registry: string): string[] {
  if (registry === "docker.io") return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

/**
 * Credentials stored by `docker login` in `$DOCKER_CONFIG/config.json` (or ~/.docker/config.json),
 * from the plain `auths` entries only: credential helpers are not run.
 */
export function dockerConfigCredentials(registry: string, env: Record<string, string | undefined> = process.env): Credentials | undefined {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker");
  const file = join(dir, "config.json");
  if (!existsSync(file)) return undefined;
  let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    doc = JSON.parse(readFileSync(file, "utf8")) as typeof doc;
  } catch {
    return undefined;
  }
  for (const key of keysFor(registry)) {
    const entry = doc.auths?.[key];
    if (!entry) continue;
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}
