// The structural rules every serialization shares, checked in one place after a format's
// syntax has been read: bounded fields and caveat count, a non-empty identifier, a 32-byte
// signature, a location only on third-party caveats, a non-empty verification id.
import { refuseMacaroon, type MacaroonParseResult } from './errors.js';
import type { Caveat, Macaroon } from './macaroon.js';
import type { MacaroonLimits } from './limits.js';
import { SIGNATURE_BYTES } from './crypto.js';

export interface RawCaveat {
  identifier: Uint8Array;
  verificationId?: Uint8Array;
  location?: Uint8Array;
}

export interface RawMacaroon {
  location?: Uint8Array;
  identifier: Uint8Array;
  caveats: RawCaveat[];
  signature: Uint8Array;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding; undefined for invalid bytes (never U+FFFD substitution). */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function assembleMacaroon(raw: RawMacaroon, limits: MacaroonLimits): MacaroonParseResult {
  const oversized = (what: string) => refuseMacaroon('macaroon_oversized', what);
  const malformed = (what: string) => refuseMacaroon('macaroon_malformed', what);
  if (raw.caveats.length > limits.maxCaveats) return oversized('too many caveats');
  if (raw.identifier.length === 0) return malformed('empty identifier');
  if (raw.identifier.length > limits.maxFieldBytes) return oversized('identifier');
  if (raw.signature.length !== SIGNATURE_BYTES) return malformed('signature is not 32 bytes');
  const location = decodeLocation(raw.location, limits);
  if (location === null) return malformed('location is not UTF-8');
  if (location === false) return oversized('location');
  const caveats: Caveat[] = [];
  for (let i = 0; i < raw.caveats.length; i++) {
    const c = raw.caveats[i]!;
    if (c.identifier.length === 0) return malformed(`caveat ${i}: empty identifier`);
    if (c.identifier.length > limits.maxFieldBytes) return oversized(`caveat ${i}: identifier`);
    const loc = decodeLocation(c.location, limits);
    if (loc === null) return malformed(`caveat ${i}: location is not UTF-8`);
    if (loc === false) return oversized(`caveat ${i}: location`);
    if (c.verificationId === undefined) {
      // A location would be unauthenticated data on a caveat nobody discharges.
      if (loc !== undefined) return malformed(`caveat ${i}: location on a first-party caveat`);
      caveats.push({ identifier: Buffer.from(c.identifier) });
      continue;
    }
    if (c.verificationId.length === 0) return malformed(`caveat ${i}: empty verification id`);
    if (c.verificationId.length > limits.maxFieldBytes) return oversized(`caveat ${i}: verification id`);
    const caveat: Caveat = { identifier: Buffer.from(c.identifier), verificationId: Buffer.from(c.verificationId) };
    caveats.push(loc === undefined ? caveat : { ...caveat, location: loc });
  }
  const m: Macaroon = { identifier: Buffer.from(raw.identifier), caveats, signature: Buffer.from(raw.signature) };
  return { ok: true, macaroon: location === undefined ? m : { location, ...m } };
}

/** undefined: absent or empty; null: not UTF-8; false: too long. */
function decodeLocation(bytes: Uint8Array | undefined, limits: MacaroonLimits): string | undefined | null | false {
  if (bytes === undefined || bytes.length === 0) return undefined;
  if (bytes.length > limits.maxFieldBytes) return false;
  const text = utf8(bytes);
  return text === undefined ? null : text;
}
