// The text form every typed first-party caveat shares (docs/macaroon-caveats.md §1), so a
// verifier in any language can split a predicate before it knows the type:
//
//   predicate = NAME " " VALUE            (UTF-8)
//   NAME      = [a-z][a-z0-9-]*
//   VALUE     = one or more characters, none a control character (U+0000-U+001F,
//               U+007F-U+009F), the first and the last not a space (U+0020), the first
//               not "="
//
// Plus the one timestamp form the time caveats use. Both are parsed strictly: one meaning,
// one spelling, so two verifiers never disagree about what a caveat says. The leading "="
// is refused because other macaroon libraries write `NAME = VALUE` (`user = alice`): read by
// this grammar that is the value "= alice", a user nobody meant; it is malformed instead.

export const CAVEAT_NAME = /^[a-z][a-z0-9-]*$/;
const VALUE = /^[^\u0000-\u001f\u007f-\u009f =](?:[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f ])?$/;

export function isCaveatName(name: string): boolean {
  return CAVEAT_NAME.test(name);
}

export function isCaveatValue(value: string): boolean {
  return VALUE.test(value);
}

/**
 * A predicate split at its first space. `value` is undefined when there is no space; the
 * caller decides whether `name` is a type it knows before judging the value.
 */
export function splitCaveat(text: string): { name: string; value: string | undefined } {
  const sp = text.indexOf(' ');
  return sp < 0 ? { name: text, value: undefined } : { name: text.slice(0, sp), value: text.slice(sp + 1) };
}

/** The predicate text for NAME VALUE; throws RangeError if either breaks the syntax. */
export function encodeCaveat(name: string, value: string): string {
  if (!isCaveatName(name)) throw new RangeError(`caveat name "${name}" must match [a-z][a-z0-9-]*`);
  if (!isCaveatValue(value)) throw new RangeError(`caveat ${name}: the value must be non-empty, without control characters, a leading or trailing space, or a leading "="`);
  return `${name} ${value}`;
}

// ------------------------------------------------------------------ timestamps

// RFC 3339, UTC only, whole seconds or exactly three fractional digits. Not accepted: an
// offset other than Z, a lowercase t or z, other fraction lengths, a leap second (":60").
const TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{3}))?Z$/;

/** Milliseconds since the epoch, or undefined if `text` is not exactly the caveat time form. */
export function parseCaveatTime(text: string): number | undefined {
  const m = TIME.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as [number, number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // not Date.UTC: it maps years 0-99 to 1900-1999
  t.setUTCHours(h, mi, s, ms);
  // A day past the month's end (Feb 30) rolls over; refuse it rather than reinterpret it.
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return undefined;
  return t.getTime();
}

/** The caveat time form: whole seconds when the milliseconds are zero, else three digits. */
export function formatCaveatTime(time: Date | number): string {
  const ms = typeof time === 'number' ? time : time.getTime();
  if (!Number.isInteger(ms)) throw new RangeError('a caveat time must be a whole number of milliseconds');
  const t = new Date(ms);
  const year = t.getUTCFullYear();
  if (Number.isNaN(ms) || year < 0 || year > 9999) throw new RangeError('a caveat time must be within the years 0000-9999');
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${pad(year, 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  const frac = t.getUTCMilliseconds();
  return frac === 0 ? `${base}Z` : `${base}.${pad(frac, 3)}Z`;
}
