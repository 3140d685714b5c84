// Authorization over verified caveats: the second of the two steps. verifyMacaroon says the
// caveats are genuine; authorizeCaveats says whether they allow this request, and returns the
// claims they make (user, roles, the delegation chain, expiry) as typed values.
//
// Caveats are types registered by NAME in a CaveatRegistry (the vocabulary); a predicate
// whose NAME no type claims fails closed. The encodings are in docs/macaroon-caveats.md.
//
//   const vocabulary = defaultCaveats();                    // the built-in types
//   let m = mintMacaroon({ rootKey, identifier });
//   m = addFirstPartyCaveat(m, caveat.user('alice'));
//   m = addFirstPartyCaveat(m, caveat.presenter('frontend'));
//   const r = authorizeMacaroon(m, rootKey, [], { nowMs: Date.now(), principal: 'frontend' }, vocabulary);
//   if (r.ok) r.claims.chain;                              // ['alice', 'frontend']
import { encodeCaveat, formatCaveatTime, isCaveatName, isCaveatValue, splitCaveat } from './caveat-syntax.js';
import {
  AUDIENCE_TYPE,
  BUILT_IN_CAVEATS,
  encodeTyped,
  EXPIRES,
  METHOD_TYPE,
  NOT_BEFORE,
  PRESENTER,
  REQUEST_KEY,
  ROLES,
  USER,
  type CaveatContext,
  type CaveatType,
} from './caveat-types.js';
import type { MacaroonRefusal } from './errors.js';
import type { MacaroonLimits } from './limits.js';
import type { Macaroon } from './macaroon.js';
import { utf8 } from './structure.js';
import { verifyMacaroon, type CaveatSource, type VerifiedCaveat } from './verify.js';

export const CAVEAT_REASONS = [
  /** No registered type has the predicate's NAME (or it is not NAME VALUE text at all). */
  'caveat_unknown',
  /** A registered NAME with a missing or invalid VALUE. */
  'caveat_malformed',
  /** The caveat prohibits this request (or is in a discharge where it may not be). */
  'caveat_failed',
  /** A required type (by default `presenter`) does not occur. */
  'caveat_missing',
] as const;

export type CaveatReason = (typeof CAVEAT_REASONS)[number];

/** Which caveat a refusal is about: where it is and its NAME, never its value. */
export interface CaveatRef {
  readonly source: CaveatSource;
  readonly index: number;
  readonly name?: string;
}

export interface CaveatRefusal {
  readonly ok: false;
  readonly reason: CaveatReason;
  readonly caveat?: CaveatRef;
  /** Fixed text: where, the NAME, and what the type prohibits. */
  readonly detail: string;
}

/** What the caveats say, typed. Absent fields: no caveat of that type (see the doc, §4). */
export interface CaveatClaims {
  readonly user?: string;
  /** The intersection of every `roles` caveat, in the first one's order. */
  readonly roles?: readonly string[];
  /** The user (if any), then every presenter in order: alice -> frontend -> backend. */
  readonly chain: readonly string[];
  /** The last presenter: the principal the macaroon was accepted from. */
  readonly presenter?: string;
  /** The earliest `expires`. */
  readonly expiresAtMs?: number;
  /** The latest `not-before`. */
  readonly notBeforeMs?: number;
  /** Application types' parsed values, by NAME, in caveat order. */
  readonly custom: Readonly<Record<string, readonly unknown[]>>;
}

export interface CaveatsAuthorized {
  readonly ok: true;
  readonly claims: CaveatClaims;
}

export type CaveatsResult = CaveatsAuthorized | CaveatRefusal;

export interface AuthorizeOptions {
  /**
   * Predicates accepted by exact text match when no registered type has their NAME (as
   * libmacaroons' satisfy_exact), for caveats from outside the vocabulary. A registered type
   * is always checked by its type.
   */
  readonly exact?: readonly string[];
}

// ------------------------------------------------------------------ the registry

/** The caveat types a verifier understands. Names are unique: a type cannot be replaced. */
export class CaveatRegistry<C extends CaveatContext = CaveatContext> {
  readonly #types = new Map<string, CaveatType<unknown, C>>();

  /** Adds a type; throws if its name is taken (built-in names included) or it is ill-formed. */
  register<T>(type: CaveatType<T, C>): this {
    if (typeof type !== 'object' || type === null || typeof type.name !== 'string' || !isCaveatName(type.name)) {
      throw new RangeError('a caveat type needs a name matching [a-z][a-z0-9-]*');
    }
    if (this.#types.has(type.name)) throw new RangeError(`caveat type "${type.name}" is already registered`);
    if (typeof type.parse !== 'function') throw new TypeError(`caveat type "${type.name}" needs parse()`);
    if ((typeof type.check === 'function') === (typeof type.checkAll === 'function')) {
      throw new TypeError(`caveat type "${type.name}" needs exactly one of check() and checkAll()`);
    }
    this.#types.set(type.name, type as CaveatType<unknown, C>);
    return this;
  }

  get(name: string): CaveatType<unknown, C> | undefined {
    return this.#types.get(name);
  }

  has(name: string): boolean {
    return this.#types.has(name);
  }

  names(): string[] {
    return [...this.#types.keys()];
  }
}

// The built-in type objects: claims are read from these, an application type of the same
// NAME in another registry is only ever a custom claim.
const OPTIONAL_PRESENTER: CaveatType = { ...PRESENTER, required: false };
const BUILT_IN = new WeakSet<object>([...BUILT_IN_CAVEATS, OPTIONAL_PRESENTER]);

export interface DefaultCaveatsOptions {
  /**
   * Refuse a macaroon that names no presenter (default true): a reqauth macaroon says who
   * may present it. False only for macaroons used outside reqauth envelopes.
   */
  readonly requirePresenter?: boolean;
}

/** A registry holding the built-in types; register application types on it. */
export function defaultCaveats<C extends CaveatContext = CaveatContext>(options: DefaultCaveatsOptions = {}): CaveatRegistry<C> {
  const registry = new CaveatRegistry<C>();
  for (const type of BUILT_IN_CAVEATS) registry.register(type === PRESENTER && options.requirePresenter === false ? OPTIONAL_PRESENTER : type);
  return registry;
}

// ------------------------------------------------------------------ authorization

interface Occurrence {
  readonly value: unknown;
  readonly ref: CaveatRef;
}

const describe = (ref: CaveatRef) => `caveat ${ref.index} of ${ref.source === 'root' ? 'the root' : `discharge ${ref.source}`}${ref.name === undefined ? '' : ` (${ref.name})`}`;

const refuse = (reason: CaveatReason, ref: CaveatRef | undefined, what: string): CaveatRefusal =>
  ref === undefined ? { ok: false, reason, detail: what } : { ok: false, reason, caveat: ref, detail: `${describe(ref)}: ${what}` };

/**
 * Do these verified caveats allow the request described by `context`? Order of the search
 * for a refusal (docs/macaroon-caveats.md §3): each caveat parsed in order; then the
 * one-at-a-time checks in caveat order; then the whole-list checks in registry order; then
 * required types. Never throws on caveat content; a checker that throws refuses.
 */
export function authorizeCaveats<C extends CaveatContext>(
  caveats: readonly VerifiedCaveat[],
  context: C,
  vocabulary: CaveatRegistry<C>,
  options: AuthorizeOptions = {},
): CaveatsResult {
  if (typeof context?.nowMs !== 'number' || !Number.isFinite(context.nowMs)) throw new TypeError('context.nowMs must be a finite number');
  const exact = new Set(options.exact ?? []);
  const byType = new Map<string, Occurrence[]>();
  const each: { type: CaveatType<unknown, C>; occurrence: Occurrence }[] = [];

  for (const c of caveats) {
    const text = utf8(c.predicate);
    const split = text === undefined ? undefined : splitCaveat(text);
    const type = split === undefined ? undefined : vocabulary.get(split.name);
    if (type === undefined || split === undefined) {
      if (text !== undefined && exact.has(text)) continue;
      const name = split !== undefined && isCaveatName(split.name) ? split.name : undefined;
      return refuse('caveat_unknown', name === undefined ? { source: c.source, index: c.index } : { source: c.source, index: c.index, name }, 'no such caveat type');
    }
    const ref: CaveatRef = { source: c.source, index: c.index, name: type.name };
    if (split.value === undefined || !isCaveatValue(split.value)) return refuse('caveat_malformed', ref, 'not NAME VALUE');
    let parsed;
    try {
      parsed = type.parse(split.value);
    } catch {
      parsed = undefined;
    }
    if (parsed?.ok !== true) return refuse('caveat_malformed', ref, 'invalid value');
    if (type.rootOnly === true && c.source !== 'root') return refuse('caveat_failed', ref, 'allowed only in the root macaroon');
    const occurrence = { value: parsed.value, ref };
    const list = byType.get(type.name);
    if (list === undefined) byType.set(type.name, [occurrence]);
    else list.push(occurrence);
    if (typeof type.check === 'function') each.push({ type, occurrence });
  }

  for (const { type, occurrence } of each) {
    const verdict = run(() => type.check!(occurrence.value, context));
    if (verdict !== true) return refuse('caveat_failed', occurrence.ref, verdict);
  }
  for (const name of vocabulary.names()) {
    const type = vocabulary.get(name)!;
    const list = byType.get(name);
    if (list === undefined || typeof type.checkAll !== 'function') continue;
    const verdict = run(() => type.checkAll!(list.map((o) => o.value), context));
    if (verdict !== true) return refuse('caveat_failed', list[list.length - 1]!.ref, verdict);
  }
  for (const name of vocabulary.names()) {
    if (vocabulary.get(name)!.required === true && !byType.has(name)) return refuse('caveat_missing', undefined, `no ${name} caveat`);
  }
  return { ok: true, claims: claimsOf(byType, vocabulary) };
}

/** A checker's verdict; anything but `true` refuses, and a fault fails closed. */
function run(checker: () => unknown): true | string {
  try {
    const v = checker();
    if (v === true) return true;
    return typeof v === 'string' && v !== '' ? v : 'refused';
  } catch {
    return 'checker fault';
  }
}

function claimsOf<C extends CaveatContext>(byType: Map<string, Occurrence[]>, vocabulary: CaveatRegistry<C>): CaveatClaims {
  const builtIn = (name: string) => BUILT_IN.has(vocabulary.get(name) ?? {});
  const values = <T>(name: string): T[] | undefined => (builtIn(name) ? byType.get(name)?.map((o) => o.value as T) : undefined);
  const user = values<string>(USER.name)?.[0];
  const presenters = values<string>(PRESENTER.name) ?? [];
  const roleLists = values<readonly string[]>(ROLES.name);
  const expires = values<number>(EXPIRES.name);
  const notBefore = values<number>(NOT_BEFORE.name);
  const custom: Record<string, readonly unknown[]> = {};
  for (const [name, list] of byType) if (!builtIn(name)) custom[name] = list.map((o) => o.value);
  return {
    ...(user === undefined ? {} : { user }),
    ...(roleLists === undefined ? {} : { roles: roleLists.reduce((acc, l) => acc.filter((r) => l.includes(r))) }),
    chain: user === undefined ? presenters : [user, ...presenters],
    ...(presenters.length === 0 ? {} : { presenter: presenters[presenters.length - 1]! }),
    ...(expires === undefined ? {} : { expiresAtMs: Math.min(...expires) }),
    ...(notBefore === undefined ? {} : { notBeforeMs: Math.max(...notBefore) }),
    custom,
  };
}

// ------------------------------------------------------------------ both steps at once

export interface MacaroonAuthorized {
  readonly ok: true;
  readonly identifier: Uint8Array;
  readonly caveats: readonly VerifiedCaveat[];
  readonly claims: CaveatClaims;
}

/**
 * verifyMacaroon, then authorizeCaveats over every first-party caveat of the root and its
 * discharges. A forged caveat never reaches a checker: signatures are checked first.
 */
export function authorizeMacaroon<C extends CaveatContext>(
  root: Macaroon,
  rootKey: Uint8Array,
  discharges: readonly Macaroon[],
  context: C,
  vocabulary: CaveatRegistry<C>,
  options: AuthorizeOptions & { readonly limits?: Partial<MacaroonLimits> } = {},
): MacaroonAuthorized | MacaroonRefusal | CaveatRefusal {
  // Accept every predicate here: types like presenter are judged over the whole ordered
  // list, which only authorizeCaveats sees. Nothing is granted before it has run.
  const verified = verifyMacaroon(root, rootKey, discharges, () => true, options.limits);
  if (!verified.ok) return verified;
  const authorized = authorizeCaveats(verified.caveats, context, vocabulary, options);
  if (!authorized.ok) return authorized;
  return { ok: true, identifier: verified.identifier, caveats: verified.caveats, claims: authorized.claims };
}

// ------------------------------------------------------------------ building predicates

/** A list VALUE; an item holding the separator would silently become two items. */
function list(items: readonly string[]): string {
  if (items.some((i) => i.includes(','))) throw new RangeError('a list item must not contain ","');
  return items.join(',');
}

/**
 * The predicate text of each built-in type, validated, so no code formats predicates by
 * hand: `addFirstPartyCaveat(m, caveat.method('/ledger.v1.LedgerService/*'))`. Each throws
 * RangeError for a value its type would refuse.
 */
export const caveat = {
  user: (id: string): string => encodeTyped(USER, id),
  presenter: (principal: string): string => encodeTyped(PRESENTER, principal),
  roles: (...roles: string[]): string => encodeTyped(ROLES, list(roles)),
  audience: (...audiences: string[]): string => encodeTyped(AUDIENCE_TYPE, list(audiences)),
  method: (path: string): string => encodeTyped(METHOD_TYPE, path),
  expires: (time: Date | number): string => encodeTyped(EXPIRES, formatCaveatTime(time)),
  notBefore: (time: Date | number): string => encodeTyped(NOT_BEFORE, formatCaveatTime(time)),
  requestKey: (keyId: string): string => encodeTyped(REQUEST_KEY, keyId),
  /** An application type's predicate: only the shared NAME VALUE syntax is checked. */
  custom: (name: string, value: string): string => encodeCaveat(name, value),
} as const;
