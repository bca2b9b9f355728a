/** Formatting for the benchmark report: aligned markdown tables and number helpers. */

export type Cell = string | number;

/** A markdown table with columns padded to line up in a terminal too. Numbers align right. */
export function table(head: string[], rows: Cell[][]): string {
  // A "|" inside a cell would end it, even inside backticks: GitHub's tables take "\\|".
  const esc = (c: Cell) => String(c).replace(/\|/g, "\\|");
  head = head.map(esc);
  const text = rows.map((r) => r.map(esc));
  const widths = head.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const right = head.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number" || /^[\d.,]+( ?[×%a-zA-Z/]+)?$/.test(String(r[i] ?? ""))));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [fmt(head), rule, ...text.map(fmt)].join("\n");
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** 65536 → "64 KiB", 1048576 → "1 MiB", otherwise MB with one decimal. */
export function sizeLabel(n: number): string {
  if (n % MiB === 0) return `${n / MiB} MiB`;
  if (n % KiB === 0 && n < MiB) return `${n / KiB} KiB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

export function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

export function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

export function secs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function ratio(a: number, b: number): string {
  if (!(b > 0)) return "n/a";
  const r = a / b;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** Accumulates the report text, echoing each part to stdout as it is added. */
export class Report {
  private parts: string[] = [];
  add(text: string): void {
    this.parts.push(text);
    process.stdout.write(`${text}\n`);
  }
  section(title: string): void {
    this.add(`\n## ${title}\n`);
  }
  text(): string {
    return `${this.parts.join("\n")}\n`;
  }
}
