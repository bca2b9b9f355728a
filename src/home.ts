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
    // Loaded only when needed: node:os counts the host's CPUs when it loads (~5 ms at start-up).
    const { homedir } = require("node:os") as typeof import("node:os");
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
