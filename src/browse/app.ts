/**
 * The browser on the terminal, painted by ink (React for the terminal; chosen by measurement, see
 * docs/browse.md). This file only maps keys to state.ts and draws screen.ts's lines; it is loaded
 * by the `browse` command alone, so no other command pays for React.
 */
import { Box, render, Text, useApp, useInput, useWindowSize, type Key as InkKey } from "ink";
import { createElement as h, useEffect, useState } from "react";
import { printable } from "../errors.ts";
import { drawList } from "./list-screen.ts";
import type { Navigator } from "./nav.ts";
import { draw, withWarning, type Style } from "./screen.ts";
import type { Key } from "./keys.ts";
import { Browser } from "./state.ts";

/** dive's colours: added green, modified yellow, removed red. NO_COLOR keeps only bold and inverse. */
function styleProps(style: Style, color: boolean): Record<string, unknown> {
  switch (style) {
    case "cursor":
      return { inverse: true };
    case "title":
      return { bold: true };
    case "key":
      return color ? { color: "cyan" } : {};
    case "dim":
      return color ? { dimColor: true } : {};
    case "added":
      return color ? { color: "green" } : {};
    case "modified":
      return color ? { color: "yellow" } : {};
    case "removed":
    case "error":
      return color ? { color: "red" } : {};
    default:
      return {};
  }
}

const CONTROL: Record<string, Key> = {
  "\r": { name: "enter" },
  "\n": { name: "enter" },
  "\t": { name: "tab" },
  "\x15": { name: "clear" },
  "\x7f": { name: "back" },
  "\b": { name: "back" },
  "\x1b": { name: "escape" },
  "\x03": { name: "char", ch: "q" },
};

/**
 * ink's key report as the browser's keys. Keys typed faster than ink reads them come as one
 * string ("/\x15tool\r"): they are split here into one key each, control characters included.
 */
export function toKeys(input: string, key: InkKey): Key[] {
  if (key.upArrow) return [{ name: "up" }];
  if (key.downArrow) return [{ name: "down" }];
  if (key.leftArrow) return [{ name: "left" }];
  if (key.rightArrow) return [{ name: "right" }];
  if (key.pageUp) return [{ name: "pageup" }];
  if (key.pageDown) return [{ name: "pagedown" }];
  if (key.home) return [{ name: "home" }];
  if (key.end) return [{ name: "end" }];
  if (key.return) return [{ name: "enter" }];
  if (key.escape) return [{ name: "escape" }];
  if (key.backspace || key.delete) return [{ name: "back" }];
  if (key.tab) return [{ name: "tab" }];
  if (key.ctrl && input === "u") return [{ name: "clear" }];
  if (key.ctrl && input === "c") return [{ name: "char", ch: "q" }];
  if (key.ctrl || key.meta) return [];
  return [...input].map((ch) => CONTROL[ch] ?? (ch < " " ? undefined : { name: "char" as const, ch })).filter((k): k is Key => k !== undefined);
}

function App({ nav, color }: { nav: Navigator; color: boolean }) {
  const { exit } = useApp();
  const { columns, rows } = useWindowSize();
  const [, setVersion] = useState(0);
  useEffect(() => {
    let queued = false;
    nav.onChange(() => {
      if (nav.quit) return exit();
      // Background events come in bursts: one redraw per tick.
      if (queued) return;
      queued = true;
      setTimeout(() => {
        queued = false;
        setVersion((v) => v + 1);
      }, 16);
    });
  }, [nav, exit]);
  useInput((input, key) => {
    for (const k of toKeys(input, key)) nav.key(k);
  });
  const top = nav.top;
  const w = Math.max(20, columns);
  const hgt = Math.max(8, rows);
  const lines = top instanceof Browser ? draw(top, w, hgt) : drawList(top, nav.stack.length, w, hgt);
  const last = nav.warnings[nav.warnings.length - 1];
  if (last !== undefined) lines[0] = withWarning(lines[0]!, w, `⚠ ${nav.warningCount === 1 ? "" : `${nav.warningCount} warnings, the last: `}${last}`);
  return h(
    Box,
    { flexDirection: "column", width: columns, height: rows },
    ...lines.map((segs, i) => h(Text, { key: i, wrap: "truncate" }, ...segs.map((s, j) => h(Text, { key: j, ...styleProps(s.style, color) }, s.text)))),
  );
}

/** Runs the browser full screen until the user quits; every download is stopped on the way out. */
export async function runApp(nav: Navigator): Promise<void> {
  const color = !process.env.NO_COLOR;
  // Interactive whatever CI says: browse runs only on a terminal (cli/browse.ts), and ink, left to itself,
  // draws nothing until it exits when the environment names a CI (CI=true in a developer's shell too).
  // Warnings of the library would scribble over the screen: they go to its title line instead,
  // and anything else written to stderr meanwhile too.
  const { divertLog } = await import("../cli/log.ts");
  divertLog((kind, line) => nav.log(kind, line));
  const stderrWrite = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    const text = printable(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk)).trim();
    if (text) nav.log("warn", text);
    return true;
  }) as typeof process.stderr.write;
  const app = render(h(App, { nav, color }), { exitOnCtrlC: false, alternateScreen: true, patchConsole: false, interactive: true });
  nav.term = {
    write: (sequence) => process.stdout.write(sequence),
    external(argv) {
      // The terminal handed over as a shell would: cooked input, the main screen, the cursor shown.
      // The event loop waits for the program (nothing is drawn meanwhile), then ink draws it all again.
      process.stdin.setRawMode?.(false);
      process.stdout.write("\x1b[?1049l\x1b[?25h");
      let code = -1;
      try {
        code = Bun.spawnSync(argv, { stdio: ["inherit", "inherit", "inherit"] }).exitCode ?? -1;
      } catch {
        code = -1;
      }
      process.stdout.write("\x1b[?1049h\x1b[?25l");
      process.stdin.setRawMode?.(true);
      app.clear();
      nav.changed();
      return code;
    },
  };
  try {
    await app.waitUntilExit();
  } finally {
    nav.stop();
    divertLog(undefined);
    process.stderr.write = stderrWrite;
  }
}
