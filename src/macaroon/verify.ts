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
import { bindSignatureInto, deriveKey, hash1Into, nextSignatureInto, openCaveatKey, SIGNATURE_BYTES } from './crypto.js';
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
    const id = latin1(discharges[i]!.identifier);
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
  // The chain, in one buffer, keeping a copy of the signature each third-party caveat's vid
  // was sealed under (first-party caveats need none: nothing is allocated for them).
  const caveats = m.caveats;
  const sealedUnder: (Uint8Array | undefined)[] = [];
  const sig = Buffer.allocUnsafe(SIGNATURE_BYTES);
  hash1Into(sig, key, m.identifier);
  for (let i = 0; i < caveats.length; i++) {
    const c = caveats[i]!;
    if (c.verificationId !== undefined) sealedUnder[i] = Buffer.from(sig);
    nextSignatureInto(sig, sig, c.identifier, c.verificationId);
  }
  if (source !== 'root') bindSignatureInto(sig, s.rootSignature, sig);
  if (!constantTimeEqual(sig, m.signature)) return refuseMacaroon('macaroon_bad_signature', whereOf(source));

  for (let i = 0; i < caveats.length; i++) {
    const c = caveats[i]!;
    if (c.verificationId === undefined) {
      s.caveats.push({ predicate: c.identifier, source, index: i });
      continue;
    }
    const d = s.byId.get(latin1(c.identifier));
    if (d === undefined) return refuseMacaroon('macaroon_discharge_missing', `caveat ${i} of ${whereOf(source)}`);
    if (s.onPath[d]) return refuseMacaroon('macaroon_discharge_cycle', `caveat ${i} of ${whereOf(source)}`);
    if (s.used[d]) return refuseMacaroon('macaroon_discharge_reused', `caveat ${i} of ${whereOf(source)}`);
    const caveatKey = openCaveatKey(sealedUnder[i]!, c.verificationId);
    if (caveatKey === undefined) return refuseMacaroon('macaroon_bad_caveat_key', `caveat ${i} of ${whereOf(source)}`);
    s.used[d] = true;
    s.onPath[d] = true;
    const refused = walk(s, s.discharges[d]!, caveatKey, d);
    s.onPath[d] = false;
    if (refused !== undefined) return refused;
  }
  return undefined;
}

/** Names a macaroon in a refusal (built only when refusing). */
function whereOf(source: CaveatSource): string {
  return source === 'root' ? 'the root' : `discharge ${source}`;
}

/** The bytes as a latin1 string (a Map key), read through a view: no copy. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
