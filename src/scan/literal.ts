/**
 * The longest piece of text every match of a regular expression must contain, when one can be
 * read off its source with certainty: `\.pem$` → ".pem", `^/etc/ssh/ssh_host_.*_key$` →
 * "/etc/ssh/ssh_host_". Used to narrow a regex search to the paths containing it (the regex is
 * still tested on each). Anything not understood gives no literal rather than a wrong one: an
 * alternation anywhere, text inside groups or classes, a character made optional by ?, * or {n,m},
 * escapes that stand for other characters.
 */
const QUANTIFIERS = new Set(["?", "*", "{"]);
const META = new Set([".", "^", "$", "+", "?", "*", "{", "}", "(", ")", "[", "]", "|", "\\"]);

export function requiredLiteral(source: string): string | undefined {
  // Alternation, and escapes with a payload (\u0041, \x41, \cJ, \p{L}, \k<name>) that would read as text.
  if (source.includes("|") || /\\[uxcpPk]/.test(source)) return undefined;
  let best = "";
  let run = "";
  let depth = 0;
  const end = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1];
      i++;
      // An escaped punctuation character is itself; \d, \w, \b, \u…, back-references are not text.
      if (next !== undefined && depth === 0 && /[^A-Za-z0-9]/.test(next) && !QUANTIFIERS.has(source[i + 1] ?? "")) run += next;
      else end();
      continue;
    }
    if (c === "[") {
      end();
      // Skip the class (an escaped "]" inside stays inside).
      for (i++; i < source.length && source[i] !== "]"; i++) if (source[i] === "\\") i++;
      continue;
    }
    if (c === "{") {
      // A counted repetition: the previous character may repeat 0 times; the digits are not text.
      run = run.slice(0, -1);
      end();
      while (i < source.length && source[i] !== "}") i++;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") depth = Math.max(0, depth - 1);
    if (QUANTIFIERS.has(c)) run = run.slice(0, -1);
    if (META.has(c) || depth > 0) {
      end();
      continue;
    }
    // A plain character, unless a quantifier follows that may drop it.
    if (QUANTIFIERS.has(source[i + 1] ?? "")) end();
    else run += c;
  }
  end();
  return best.length >= 2 ? best : undefined;
}
