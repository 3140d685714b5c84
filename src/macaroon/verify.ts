// Verification: does the HMAC chain from the root key reach the root macaroon's signature,
// does every third-party caveat have exactly one discharge whose chain (from the caveat key
// sealed in the caveat) reaches its signature bound to the root's, and is every first-party
// caveat of the root and of every discharge satisfied? The answer is a value: the verified
// first-party caveats, which the caller then checks against the access it is about to grant
// (verification and authorization are two steps), or a refusal with a stable reason.
//
// Order: all signatures first, then the checker. The checker never sees a caveat of a
// macaroon whose signature failed, so forged caveats cannot reach application code.
import { constantTimeEqual } from '../crypto.js';
import { bindSignature, deriveKey, hash1, nextSignature, openCaveatKey } from './crypto.js';
import { refuseMacaroon, type MacaroonRefusal } from './errors.js';
import { withDefaults, type MacaroonLimits } from './limits.js';
import type { Macaroon } from './macaroon.js';

/** Where a caveat came from: the root macaroon, or the discharge at that index of the list. */
export type CaveatSource = 'root' | number;

export interface VerifiedCaveat {
  readonly predicate: Uint8Array;
  readonly source: CaveatSource;
  /** Its position in that macaroon's caveat list. */
  readonly index: number;
}

/** True when the predicate holds for this request. Unknown predicates MUST return false. */
export type FirstPartyChecker = (predicate: Uint8Array, caveat: VerifiedCaveat) => boolean;

export interface MacaroonVerified {
  readonly ok: true;
  readonly identifier: Uint8Array;
  /** Every first-party caveat of the root and of every discharge, root first, in order. */
  readonly caveats: readonly VerifiedCaveat[];
}

export type MacaroonVerifyResult = MacaroonVerified | MacaroonRefusal;

export function verifyMacaroon(
  root: Macaroon,
  rootKey: Uint8Array,
  discharges: readonly Macaroon[],
  check: FirstPartyChecker,
  limits?: Partial<MacaroonLimits>,
): MacaroonVerifyResult {
  const l = withDefaults(limits);
  if (discharges.length > l.maxDischarges) return refuseMacaroon('macaroon_oversized', 'too many discharges');
  const byId = new Map<string, number>();
  for (let i = 0; i < discharges.length; i++) {
    const id = Buffer.from(discharges[i]!.identifier).toString('latin1');
    if (byId.has(id)) return refuseMacaroon('macaroon_discharge_ambiguous', `discharges ${byId.get(id)} and ${i} share an identifier`);
    byId.set(id, i);
  }
  const state: Walk = { discharges, byId, used: new Array<boolean>(discharges.length).fill(false), onPath: new Array<boolean>(discharges.length).fill(false), rootSignature: root.signature, caveats: [] };

  const refused = walk(state, root, deriveKey(rootKey), 'root');
  if (refused !== undefined) return refused;
  const unused = state.used.indexOf(false);
  if (unused >= 0) return refuseMacaroon('macaroon_discharge_unused', `discharge ${unused} discharges no caveat`);

  for (const caveat of state.caveats) {
    let satisfied: boolean;
    try {
      satisfied = check(caveat.predicate, caveat) === true;
    } catch {
      satisfied = false; // a checker fault fails closed
    }
    if (!satisfied) return refuseMacaroon('macaroon_caveat_refused', `caveat ${caveat.index} of ${caveat.source === 'root' ? 'the root' : `discharge ${caveat.source}`}`);
  }
  return { ok: true, identifier: root.identifier, caveats: state.caveats };
}

interface Walk {
  readonly discharges: readonly Macaroon[];
  readonly byId: Map<string, number>;
  readonly used: boolean[];
  /** Discharges being verified on the current path: meeting one again is a cycle. */
  readonly onPath: boolean[];
  readonly rootSignature: Uint8Array;
  readonly caveats: VerifiedCaveat[];
}

/** Verifies one macaroon's chain, then its discharges depth-first; collects first-party caveats. */
function walk(s: Walk, m: Macaroon, key: Uint8Array, source: CaveatSource): MacaroonRefusal | undefined {
  const where = source === 'root' ? 'the root' : `discharge ${source}`;
  // The chain, keeping the signature each third-party caveat's vid was sealed under.
  const sealedUnder: Uint8Array[] = [];
  let sig: Uint8Array = hash1(key, m.identifier);
  for (const c of m.caveats) {
    sealedUnder.push(sig);
    sig = nextSignature(sig, c.identifier, c.verificationId);
  }
  const expected = source === 'root' ? sig : bindSignature(s.rootSignature, sig);
  if (!constantTimeEqual(expected, m.signature)) return refuseMacaroon('macaroon_bad_signature', where);

  for (let i = 0; i < m.caveats.length; i++) {
    const c = m.caveats[i]!;
    if (c.verificationId === undefined) {
      s.caveats.push({ predicate: c.identifier, source, index: i });
      continue;
    }
    const d = s.byId.get(Buffer.from(c.identifier).toString('latin1'));
    if (d === undefined) return refuseMacaroon('macaroon_discharge_missing', `caveat ${i} of ${where}`);
    if (s.onPath[d]) return refuseMacaroon('macaroon_discharge_cycle', `caveat ${i} of ${where}`);
    if (s.used[d]) return refuseMacaroon('macaroon_discharge_reused', `caveat ${i} of ${where}`);
    const caveatKey = openCaveatKey(sealedUnder[i]!, c.verificationId);
    if (caveatKey === undefined) return refuseMacaroon('macaroon_bad_caveat_key', `caveat ${i} of ${where}`);
    s.used[d] = true;
    s.onPath[d] = true;
    const refused = walk(s, s.discharges[d]!, caveatKey, d);
    s.onPath[d] = false;
    if (refused !== undefined) return refused;
  }
  return undefined;
}
