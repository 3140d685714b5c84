// Every refusal the macaroon layer can make, as a stable code (errors as values, like
// src/errors.ts). Parsing and verification never throw on untrusted input; they return one of
// these. A refusal's `detail` is a fixed description of where the token broke a rule: it
// never carries a signature, a key or a caveat key.

export const MACAROON_REASONS = [
  /** Not a macaroon in any supported format, or it breaks that format's rules. */
  'macaroon_malformed',
  /** Beyond a size or count bound (token bytes, a field, caveats, discharges). */
  'macaroon_oversized',
  /** The HMAC chain from the root key (or a caveat key) does not reach the signature. */
  'macaroon_bad_signature',
  /** The chain holds but a third-party caveat's verification id does not open. */
  'macaroon_bad_caveat_key',
  /** A first-party caveat was not satisfied by the checker. */
  'macaroon_caveat_refused',
  /** A third-party caveat has no discharge macaroon. */
  'macaroon_discharge_missing',
  /** Two discharges share an identifier, so which one discharges a caveat is ambiguous. */
  'macaroon_discharge_ambiguous',
  /** One discharge would discharge two caveats. */
  'macaroon_discharge_reused',
  /** A discharge (directly or through others) requires itself. */
  'macaroon_discharge_cycle',
  /** A discharge was presented that no caveat asked for. */
  'macaroon_discharge_unused',
] as const;

export type MacaroonReason = (typeof MACAROON_REASONS)[number];

export interface MacaroonRefusal {
  readonly ok: false;
  readonly reason: MacaroonReason;
  /** Where the rule was broken, for logs; fixed text and indexes only, never token bytes. */
  readonly detail: string;
}

export function refuseMacaroon(reason: MacaroonReason, detail: string): MacaroonRefusal {
  return { ok: false, reason, detail };
}

/** What every parser returns: a macaroon, or why the bytes are not one. */
export type MacaroonParseResult = { readonly ok: true; readonly macaroon: import('./macaroon.js').Macaroon } | MacaroonRefusal;
