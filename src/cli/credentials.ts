import { LayerslayerError } from "../errors.ts";
import type { CredentialSource, Credentials } from "../registry/auth.ts";
import { authFileSource } from "../registry/auth-files.ts";
import { promptPassword } from "./password-prompt.ts";

export interface CredentialArgs {
  username?: string | undefined;
  "password-stdin"?: boolean | undefined;
  authfile?: string | undefined;
}

async function readStdin(): Promise<string> {
  return await Bun.stdin.text();
}

/**
 * The login for `registry`, in docker's and podman's order: `-u` (or LAYERSLAYER_USERNAME) with
 * the password from `--password-stdin`, LAYERSLAYER_PASSWORD or, on a terminal, a prompt that does
 * not echo; without a user name, the auth files and credential helpers (asked only when the
 * registry wants a login; see src/registry/auth-files.ts).
 */
export async function credentialsFrom(args: CredentialArgs, registry: string, env: Record<string, string | undefined> = process.env): Promise<Credentials | CredentialSource> {
  const username = args.username ?? env.LAYERSLAYER_USERNAME;
  if (args["password-stdin"]) {
    if (!username) throw new LayerslayerError("USAGE", "--password-stdin needs -u/--username (or LAYERSLAYER_USERNAME)");
    const password = (await readStdin()).replace(/\r?\n$/, "");
    if (!password) throw new LayerslayerError("USAGE", "--password-stdin was given but standard input was empty");
    return { username, password };
  }
  if (username) {
    let password = env.LAYERSLAYER_PASSWORD;
    if (password === undefined && process.stdin.isTTY) {
      password = await promptPassword(`Password for ${username} at ${registry}: `);
      if (!password) throw new LayerslayerError("USAGE", "no password was typed");
    }
    if (password === undefined) {
      throw new LayerslayerError("USAGE", `a password is needed for "${username}": use --password-stdin or LAYERSLAYER_PASSWORD (or run on a terminal to be asked)`);
    }
    return { username, password };
  }
  return authFileSource(registry, { ...(args.authfile ? { authfile: args.authfile } : {}), env });
}
