import { homedir } from "node:os";

/**
 * The user's home directory: `HOME` (or `USERPROFILE` on Windows), else the password database's
 * entry for this user. Undefined when there is neither, as in a scratch container running as a
 * user id with no passwd entry: then nothing that lives under the home (the cache, auth files in
 * ~/.config and ~/.docker) is used.
 */
export function homeDirectory(env: Record<string, string | undefined> = process.env): string | undefined {
  const fromEnv = env.HOME || env.USERPROFILE;
  if (fromEnv) return fromEnv;
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
