/**
 * The tool's own usage (`layerslayer`, `--help`, `help`): its description and its commands, laid
 * out as citty lays out a command's usage, but without loading citty, whose import of node:util
 * costs `--help` about 3 MiB of memory. test/cli/help.test.ts holds it to citty's rendering.
 * Also the one writer of usage text, for the commands' own usage too (help.ts).
 */

/** citty's colours: none with NO_COLOR=1, TERM=dumb, TEST or CI (the text is also stripped off a terminal). */
const noColor = (): boolean => {
  const env = process.env;
  return env.NO_COLOR === "1" || env.TERM === "dumb" || !!env.TEST || !!env.CI;
};
const paint =
  (open: number, close = 39) =>
  (t: string): string =>
    noColor() ? t : `\x1b[${open}m${t}\x1b[${close}m`;
const bold = paint(1, 22);
const cyan = paint(36);
const gray = paint(90);
const underline = paint(4, 24);

export interface ToolUsage {
  name: string;
  version: string;
  description: string;
  /** Command name → description, in the order shown. */
  commands: Record<string, string>;
}

/** Rows of cells, the first column right-aligned, the others left-aligned, as citty does. */
function columns(rows: string[][], prefix: string): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => prefix + (i === 0 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}

export function toolUsageText(u: ToolUsage): string {
  const names = Object.keys(u.commands);
  return [
    gray(`${u.description} (${u.name} v${u.version})`),
    "",
    `${underline(bold("USAGE"))} ${cyan(`${u.name} ${names.join("|")}`)}`,
    "",
    underline(bold("COMMANDS")),
    "",
    columns(
      names.map((n) => [cyan(n), u.commands[n]!]),
      "  ",
    ),
    "",
    `Use ${cyan(`${u.name} <command> --help`)} for more information about a command.`,
    "",
  ].join("\n");
}

/**
 * Usage text on stdout (stderr when it answers a bad call); colours only on a terminal. Written with Bun.write, not process.stdout,
 * and the terminal told by a stat of stdout, not node:tty: usage then never sets up Node's stream
 * machinery (6-8 MiB and tens of milliseconds, see main.ts). Any character device counts as a
 * terminal (/dev/null too, where colours harm nobody).
 */
export async function writeUsage(text: string, to: "stdout" | "stderr" = "stdout"): Promise<void> {
  const file = to === "stdout" ? Bun.stdout : Bun.stderr;
  const plain = process.env.NO_COLOR !== undefined || !(await file.stat()).isCharacterDevice();
  await Bun.write(file, `${plain ? text.replace(/\x1b\[[0-9;]*m/g, "") : text}`);
}
