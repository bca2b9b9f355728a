/**
 * Usage text: citty's rendering of a command's arguments (with their defaults), followed by real
 * examples of the command. The examples are checked by the test suite against each command's own
 * argument definitions, so they cannot name an option that does not exist.
 */
import { renderUsage, type CommandDef } from "citty";
import { writeUsage } from "./usage.ts";

/** Two or three real invocations of each command (without the leading "layerslayer"). */
export const EXAMPLES: Record<string, string[]> = {
  inspect: ["inspect alpine:3.20", "inspect ghcr.io/org/app@sha256:… --platform linux/arm64 --json"],
  history: ["history nginx:1.27", "history localhost:5000/team/app:v1 --json"],
  manifest: ["manifest alpine:3.20", "manifest alpine:3.20 --index", "manifest alpine:3.20 --json | jq .manifest.layers"],
  config: ["config alpine:3.20", "config alpine:3.20 --json | jq .config.config.Env"],
  platforms: ["platforms alpine:3.20", "platforms alpine:3.20 --all --json"],
  tags: ["tags alpine", "tags localhost:5000/team/app --json", "tags bitnami/redis --details --limit 10"],
  catalog: ["catalog localhost:5000", "catalog registry.example.com --tags", "catalog localhost:5000 --tags --json --page-size 100"],
  peek: ["peek alpine:3.20", "peek nginx:1.27 --layer -1 --budget 64K", "peek alpine:3.20 -L 0 --full -q | grep etc/"],
  ls: ["ls alpine:3.20 /etc -l", "ls nginx:1.27 /usr/share/nginx --tree", "ls alpine:3.20 / -R --history --json"],
  find: ["find alpine:3.20 '*release*'", "find nginx:1.27 '^/etc/.*\\.conf$' --regex --type f --present"],
  cat: ["cat alpine:3.20 /etc/os-release", "cat nginx:1.27 /usr/sbin/nginx -o nginx", "cat alpine:3.20 /etc/passwd --no-cache"],
  save: ["save alpine:3.20", "save nginx:1.27 --layer -1 -o layers/ --json"],
  interactive: ["interactive alpine:3.20", "interactive localhost:5000/team/app:v1 --platform linux/arm64"],
  browse: ["browse debian:12", "browse localhost:5000/team/app:v1 --platform linux/arm64", "browse alpine:3.20 --no-cache"],
  cache: ["cache info", "cache clear", "cache warm registry.example.com/team/app:v1"],
  scan: [
    "scan alpine:3.20 nginx:1.27 --all-platforms",
    "scan --catalog localhost:5000 --match 'team/*' --all-tags --concurrency 8",
    "scan --from images.txt --full --db postgres://scan@db.example/layers --shard 1/4",
  ],
  search: ["search id_rsa", "search etc/shadow --image 'team/*' --json", "search '\\.pem$' --regex --type f --min-size 1K"],
  diff: ["diff team/app:v1 team/app:v2", "diff team/app:v1 team/app:v2 --ignore-mtime --content --json", "diff team/app:v1 team/app:v2 --layer -1"],
  efficiency: ["efficiency nginx:1.27", "efficiency team/app:v2 --ci --lowestEfficiency 0.95 --highestWastedBytes 20M", "efficiency team/app:v2 --ci --ci-config .dive-ci --json"],
  packages: ["packages debian:12", "packages alpine:3.20 --json | jq '.packages[] | select(.layer > 0)'", "packages oci:./layout:app"],
  export: ["export alpine:3.20 -o rootfs.tar", "export team/app:v2 | tar -tv", "export oci:./layout:app -o - | tar -x -C rootfs"],
  discover: ["discover nginx --sort pulls", "discover postgres --official --json", "discover registry.example.com/team --limit 50"],
  repos: ["repos bitnami", "repos library --json"],
  login: ["login localhost:5000 -u alice", "login ghcr.io -u alice --password-stdin < token.txt", "login registry.example.com -u ci --authfile ./auth.json"],
  logout: ["logout localhost:5000", "logout ghcr.io --authfile ./auth.json"],
  help: ["help", "help peek"],
  serve: [
    "serve",
    "serve --listen 0.0.0.0:8080 --token-file /run/secrets/token --allow-registry registry.example.com",
    "serve --allow-registry localhost:5000 --cors https://tools.example.com",
  ],
  completion: [
    "completion bash > /etc/bash_completion.d/layerslayer",
    'completion zsh > "${fpath[1]}/_layerslayer"',
    "completion fish > ~/.config/fish/completions/layerslayer.fish",
  ],
};
EXAMPLES.carve = EXAMPLES.cat!.map((e) => e.replace(/^cat /, "carve "));

/** The EXAMPLES section of a command's usage ("" for one without examples). */
export function examplesText(name: string): string {
  const list = EXAMPLES[name];
  if (!list?.length) return "";
  return `\nEXAMPLES\n\n${list.map((e) => `  layerslayer ${e}`).join("\n")}\n`;
}

/** The usage of a command (or of the whole tool) as printed by --help and `help`. */
export async function usageText(cmd: CommandDef<any>, parent?: CommandDef<any>, name?: string): Promise<string> {
  const text = await renderUsage(cmd, parent);
  return `${text.trimEnd()}\n${name ? examplesText(name) : ""}`;
}

/** A command's usage on stdout (usage.ts writes it). */
export async function showUsage(cmd: CommandDef<any>, parent?: CommandDef<any>, name?: string): Promise<void> {
  await writeUsage(await usageText(cmd, parent, name));
}
