// Request-supplied text made safe to print on one line of a log or a terminal. The CLI (audit
// rows, inspected envelopes) and the examples print claims and method paths, and a principal
// chooses its on-behalf-of user (and a caller its :path): printed raw, a newline forges a whole log line, an ANSI escape drives the
// operator's terminal, a bidi override reorders what the operator reads, and a space lets
// `alice (proven)` pass for a proven user.

/**
 * Never printed as themselves: control characters (C0, DEL, C1: newlines, ESC, CSI), format
 * characters (bidi embeddings, overrides and isolates, zero-width characters, BOM), line and
 * paragraph separators, lone surrogates; and the quote and backslash of the escaping itself.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}"\\]/gu;

/** Printed bare: no space, quote, separator or escape can hide in these. */
const BARE = /^[A-Za-z0-9._:/@+-]+$/;

const SHORT: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const u = (unit: number) => `\\u${unit.toString(16).padStart(4, '0')}`;

function escapeChar(c: string): string {
  const short = SHORT[c];
  if (short !== undefined) return short;
  // As JSON escapes it: a code point beyond the BMP as its surrogate pair.
  return c.length === 1 ? u(c.charCodeAt(0)) : u(c.charCodeAt(0)) + u(c.charCodeAt(1));
}

/** `text` as a double-quoted string literal (valid JSON) with every unsafe character escaped. */
export function quoted(text: string): string {
  return `"${text.replace(UNSAFE, escapeChar)}"`;
}

/** Every unsafe character of `text` escaped (and the backslash), without quotes: for table cells. */
export function escaped(text: string): string {
  return text.replace(UNSAFE_UNQUOTED, escapeChar);
}

const UNSAFE_UNQUOTED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;

/** `text` bare when it is a plain token (`frontend`, `/pkg.Svc/Method`), else quoted. */
export function printable(text: string): string {
  return BARE.test(text) ? text : quoted(text);
}

/** The characters JSON.stringify leaves raw but a terminal or log viewer acts on. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

/** JSON.stringify, with C1 controls, format characters and U+2028/2029 escaped too. */
export function printableJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, escapeChar);
}
