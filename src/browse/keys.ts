/** The browser's keys (app.ts turns the terminal's into these), the prompts, and helpers every pane uses. */
import { ROOT } from "../image/paths.ts";
import { escapeName } from "../names.ts";

export type KeyName = "up" | "down" | "left" | "right" | "enter" | "escape" | "back" | "tab" | "pageup" | "pagedown" | "home" | "end" | "char" | "clear";
export interface Key {
  name: KeyName;
  /** The character typed, for "char". */
  ch?: string;
}

export interface Prompt {
  kind: "filter" | "save" | "path" | "search" | "layer" | "diff";
  label: string;
  text: string;
}

/** How far a key moves a cursor (a page is `page` rows), or undefined for a key that does not move it. */
export function moveBy(k: Key, page: number): number | undefined {
  if (k.name === "up" || k.ch === "k") return -1;
  if (k.name === "down" || k.ch === "j") return 1;
  if (k.name === "pageup") return -page;
  if (k.name === "pagedown") return page;
  if (k.name === "home" || k.ch === "g") return -Infinity;
  if (k.name === "end" || k.ch === "G") return Infinity;
  return undefined;
}

export function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

export function show(path: string): string {
  return escapeName(path === ROOT ? "/" : `/${path}`);
}

/** A key typed into a prompt: edits its text; "enter" or "escape" when the key ends the prompt. */
export function typeInto(p: { text: string }, k: Key): "enter" | "escape" | undefined {
  if (k.name === "escape" || k.name === "enter") return k.name;
  if (k.name === "back") p.text = p.text.slice(0, -1);
  else if (k.name === "clear") p.text = "";
  else if (k.name === "char" && k.ch) p.text += k.ch;
  return undefined;
}
