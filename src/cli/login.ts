import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { parseRegistry } from "../ref/reference.ts";
import { saveLogin } from "../registry/auth-store.ts";
import { RegistryClient } from "../registry/client.ts";
import { discard } from "../registry/body.ts";
import { responseError } from "../registry/errors.ts";
import { globalArgs } from "./common.ts";
import { credentialsFrom } from "./credentials.ts";
import { text } from "./prompt.ts";
import { log } from "./log.ts";

/** The user name: -u, LAYERSLAYER_USERNAME, or asked on a terminal. */
async function usernameFrom(args: { username?: string | undefined }): Promise<string> {
  const given = args.username ?? process.env.LAYERSLAYER_USERNAME;
  if (given) return given;
  if (!process.stdin.isTTY) throw new LayerslayerError("USAGE", "login needs a user name: -u/--username (or LAYERSLAYER_USERNAME)");
  // As docker asks: this user's name is the answer an empty line gives.
  const typed = (await text({ input: process.stdin, output: process.stderr }, "Username", process.env.USER ?? "")).trim();
  if (!typed) throw new LayerslayerError("USAGE", "no user name was typed");
  return typed;
}

/**
 * Checks a login the way a pull would use it: `GET /v2/` answering the registry's challenge (a
 * token exchange at its realm, or Basic credentials). A refusal is AUTH, and nothing is saved.
 * False when the registry asks for no login at all (the login could not be checked).
 */
async function check(client: RegistryClient, registry: string, username: string): Promise<boolean> {
  let res: Response;
  const transport = client.transport(registry);
  try {
    res = await transport.request("/v2/");
  } catch (e) {
    if (e instanceof LayerslayerError && e.code === "AUTH") {
      throw new LayerslayerError("AUTH", `${registry}: the login of "${escapeName(username)}" was refused; nothing was saved`, { cause: e, detail: e.message });
    }
    throw e;
  }
  if (!res.ok) throw await responseError(res, `${registry}: login`);
  await discard(res);
  return transport.challenged;
}

export default defineCommand({
  meta: { name: "login", description: "Check a login against a registry, then save it where docker and podman read it" },
  args: {
    registry: { type: "positional", required: true, description: "Registry, e.g. localhost:5000, ghcr.io or docker.io" },
    username: { ...globalArgs.username, description: "User name (or LAYERSLAYER_USERNAME; default: asked for on a terminal, $USER when the answer is empty)" },
    "password-stdin": {
      ...globalArgs["password-stdin"],
      description: "Read the password from standard input (or LAYERSLAYER_PASSWORD; on a terminal it is asked for without echo)",
    },
    authfile: {
      ...globalArgs.authfile,
      description: "Save the login in this file (default: the file that already has one for the registry, else $REGISTRY_AUTH_FILE, else docker's config.json)",
    },
    "plain-http": globalArgs["plain-http"],
    insecure: globalArgs.insecure,
    quiet: globalArgs.quiet,
    verbose: globalArgs.verbose,
  },
  async run({ args }) {
    const registry = parseRegistry(args.registry as string);
    const username = await usernameFrom(args);
    const login = await credentialsFrom({ username, ...(args["password-stdin"] ? { "password-stdin": true } : {}) }, registry);
    if (typeof login === "function" || !("password" in login)) throw new LayerslayerError("USAGE", "login needs a password");
    const client = new RegistryClient({ plainHttp: !!args["plain-http"], insecure: !!args.insecure, credentials: login, ...(args.verbose ? { log: log.debug } : {}) });
    const checked = await check(client, registry, username);
    if (!checked) log.warn(`${registry} asks for no login, so this one could not be checked; it is saved all the same`);
    const saved = await saveLogin(registry, login, { ...(args.authfile ? { authfile: args.authfile } : {}) });
    const where = saved.helper ? `the credential helper docker-credential-${saved.helper} (named in ${saved.path})` : saved.path;
    log.info(`Logged in to ${registry} as ${escapeName(username)}; the login is saved in ${escapeName(where)}`);
  },
});
