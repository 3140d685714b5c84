// What a caveat type is, and reqauth's built-in types (docs/macaroon-caveats.md §2). Each
// type parses its VALUE into a typed value and says what it prohibits, given the request
// context. Most types are checked one occurrence at a time (`check`); a type whose meaning
// depends on every occurrence and their order, like the delegation chain, is checked once
// over all of them (`checkAll`).
import { isCaveatValue, parseCaveatTime } from './caveat-syntax.js';

/** What the verifier knows about the request a macaroon is presented with. */
export interface CaveatContext {
  /** The verifier's clock, milliseconds since the epoch. */
  readonly nowMs: number;
  /** The envelope's authenticated principal: who is presenting the macaroon. */
  readonly principal?: string;
  /** The verifying service's audience. */
  readonly audience?: string;
  /** The full gRPC method path of the request, `/pkg.Service/Method`. */
  readonly method?: string;
  /** The key id the envelope was signed under. */
  readonly keyId?: string;
}

export type CaveatParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

/** `true` when the request is allowed, else a short fixed text saying what is prohibited. */
export type CaveatVerdict = true | string;

interface CaveatTypeBase<T> {
  /** The NAME the type is registered under, [a-z][a-z0-9-]*. */
  readonly name: string;
  /** The typed value of a VALUE that already meets the shared syntax, or { ok: false }. */
  parse(value: string): CaveatParse<T>;
  /**
   * Allowed only in the root macaroon. For types whose order matters: a discharge's caveats
   * have no defined order relative to the root's, and a third party must not extend them.
   */
  readonly rootOnly?: boolean;
  /** A macaroon without any caveat of this type is refused (`caveat_missing`). */
  readonly required?: boolean;
}

/** Checked one occurrence at a time: every occurrence must allow the request. */
export interface EachCaveatType<T, C extends CaveatContext = CaveatContext> extends CaveatTypeBase<T> {
  check(value: T, context: C): CaveatVerdict;
  readonly checkAll?: never;
}

/** Checked once over every occurrence, in caveat order (root first, then discharges). */
export interface AllCaveatType<T, C extends CaveatContext = CaveatContext> extends CaveatTypeBase<T> {
  checkAll(values: readonly T[], context: C): CaveatVerdict;
  readonly check?: never;
}

export type CaveatType<T = unknown, C extends CaveatContext = CaveatContext> = EachCaveatType<T, C> | AllCaveatType<T, C>;

const ok = <T>(value: T): CaveatParse<T> => ({ ok: true, value });
const NO: CaveatParse<never> = { ok: false };

// ------------------------------------------------------------------ value grammars

const ROLE = /^[A-Za-z0-9._:-]+$/;
const AUDIENCE = /^[^, ]+$/; // VALUE already excludes control characters
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/; // as keyring key ids (src/keys/keyring.ts)
const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const METHOD = new RegExp(`^/${IDENT}(?:\\.${IDENT})*/(?:${IDENT}|\\*)$`);

/** A comma-separated list, no spaces, no empty or repeated items, each matching `item`. */
function parseList(value: string, item: RegExp): CaveatParse<readonly string[]> {
  const items = value.split(',');
  if (!items.every((i) => item.test(i)) || new Set(items).size !== items.length) return NO;
  return ok(items);
}

/** Does a method caveat's PATH (exact, or `/pkg.Service/*`) cover the request's method? */
export function methodMatches(path: string, method: string): boolean {
  if (!path.endsWith('/*')) return path === method;
  const service = path.slice(0, -1); // keeps the trailing slash
  return method.startsWith(service) && method.length > service.length && !method.slice(service.length).includes('/');
}

// ------------------------------------------------------------------ the built-in types

/** `user ID`: the end user the macaroon is for. Every occurrence must name the same user. */
export const USER: AllCaveatType<string> = {
  name: 'user',
  parse: ok,
  checkAll: (users) => (users.every((u) => u === users[0]) ? true : 'names two different users'),
};

/**
 * `presenter PRINCIPAL`: one step of the delegation chain. The presenters, in the root
 * macaroon's caveat order, are the chain; only the last one named may present the
 * macaroon. Conjunction cannot say "only the last", so the type is checked over the whole
 * ordered list; it is root-only so the order is the order the caveats were added in.
 */
export const PRESENTER: AllCaveatType<string> = {
  name: 'presenter',
  parse: ok,
  rootOnly: true,
  required: true,
  checkAll: (chain, context) => {
    if (context.principal === undefined) return 'no authenticated principal to compare';
    return context.principal === chain[chain.length - 1] ? true : 'the principal is not the last presenter';
  },
};

/** `roles R1,R2`: the user's roles. A claim, not a test: occurrences intersect. */
export const ROLES: EachCaveatType<readonly string[]> = {
  name: 'roles',
  parse: (v) => parseList(v, ROLE),
  check: () => true,
};

/** `audience A1,A2`: only these services may accept the macaroon. */
export const AUDIENCE_TYPE: EachCaveatType<readonly string[]> = {
  name: 'audience',
  parse: (v) => parseList(v, AUDIENCE),
  check: (list, context) => (context.audience !== undefined && list.includes(context.audience) ? true : 'the audience is not listed'),
};

/** `method /pkg.Service/Method` or `method /pkg.Service/*`. */
export const METHOD_TYPE: EachCaveatType<string> = {
  name: 'method',
  parse: (v) => (METHOD.test(v) ? ok(v) : NO),
  check: (path, context) => (context.method !== undefined && methodMatches(path, context.method) ? true : 'the method is not allowed'),
};

function timeParse(v: string): CaveatParse<number> {
  const t = parseCaveatTime(v);
  return t === undefined ? NO : ok(t);
}

/** `expires T`: refused from T on. */
export const EXPIRES: EachCaveatType<number> = {
  name: 'expires',
  parse: timeParse,
  check: (t, context) => (context.nowMs < t ? true : 'expired'),
};

/** `not-before T`: refused before T. */
export const NOT_BEFORE: EachCaveatType<number> = {
  name: 'not-before',
  parse: timeParse,
  check: (t, context) => (context.nowMs >= t ? true : 'not yet valid'),
};

/** `request-key KID`: only with requests signed under this key id. */
export const REQUEST_KEY: EachCaveatType<string> = {
  name: 'request-key',
  parse: (v) => (KEY_ID.test(v) ? ok(v) : NO),
  check: (kid, context) => (context.keyId === kid ? true : 'another request key'),
};

/** In the order a refusal is looked for (docs/macaroon-caveats.md §3). */
export const BUILT_IN_CAVEATS: readonly CaveatType[] = [USER, PRESENTER, ROLES, AUDIENCE_TYPE, METHOD_TYPE, EXPIRES, NOT_BEFORE, REQUEST_KEY];

/** Throws RangeError unless `value` is a valid VALUE of `type`; returns the predicate text. */
export function encodeTyped<T>(type: CaveatType<T>, value: string): string {
  if (!isCaveatValue(value) || !type.parse(value).ok) throw new RangeError(`not a valid ${type.name} caveat value`);
  return `${type.name} ${value}`;
}
