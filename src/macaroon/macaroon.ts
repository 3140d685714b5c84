// A macaroon as a value, and the operations that build one: mint, attenuate with first- and
// third-party caveats, and bind a discharge for a request. Every operation returns a new
// macaroon; none mutates its input. Inputs here are trusted (the caller's own keys and
// caveats), so misuse throws; untrusted tokens go through parse.ts, which never throws.
import { bindSignature, deriveKey, hash1, nextSignature, sealCaveatKey, SIGNATURE_BYTES } from './crypto.js';
import { DEFAULT_MACAROON_LIMITS } from './limits.js';

export interface Caveat {
  /** A first-party caveat's predicate, or a third-party caveat's id (for the discharger). */
  readonly identifier: Uint8Array;
  /** Present exactly on third-party caveats: the caveat key sealed under the chain so far. */
  readonly verificationId?: Uint8Array;
  /** A hint where to get a discharge; third-party caveats only. Not covered by the signature. */
  readonly location?: string;
}

export interface Macaroon {
  /** A hint where the macaroon is used. Not covered by the signature. */
  readonly location?: string;
  readonly identifier: Uint8Array;
  readonly caveats: readonly Caveat[];
  /** 32 bytes: the HMAC chain's tail. Whoever holds it can attenuate, and present, the macaroon. */
  readonly signature: Uint8Array;
}

export function isThirdParty(caveat: Caveat): boolean {
  return caveat.verificationId !== undefined;
}

/** Bytes, or a string taken as its UTF-8 bytes (identifiers, caveat predicates). */
export type MacaroonBytes = Uint8Array | string;
const bytes = (b: MacaroonBytes): Buffer => (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b));

function checkField(name: string, value: Uint8Array): void {
  if (value.length === 0) throw new RangeError(`macaroon ${name} must not be empty`);
  if (value.length > DEFAULT_MACAROON_LIMITS.maxFieldBytes) throw new RangeError(`macaroon ${name} exceeds ${DEFAULT_MACAROON_LIMITS.maxFieldBytes} bytes`);
}

function checkLocation(location: string | undefined): string | undefined {
  if (location === undefined || location === '') return undefined; // absent and empty encode alike
  if (Buffer.byteLength(location, 'utf8') > DEFAULT_MACAROON_LIMITS.maxFieldBytes) throw new RangeError('macaroon location too long');
  return location;
}

export interface MintOptions {
  /** The secret the verifier holds; use 32 random bytes. Derived as every implementation does. */
  readonly rootKey: Uint8Array;
  readonly identifier: MacaroonBytes;
  readonly location?: string;
}

export function mintMacaroon(opts: MintOptions): Macaroon {
  if (opts.rootKey.length === 0) throw new RangeError('macaroon root key must not be empty');
  const identifier = bytes(opts.identifier);
  checkField('identifier', identifier);
  const location = checkLocation(opts.location);
  const signature = hash1(deriveKey(opts.rootKey), identifier);
  return location === undefined ? { identifier, caveats: [], signature } : { location, identifier, caveats: [], signature };
}

function appendCaveat(m: Macaroon, caveat: Caveat): Macaroon {
  if (m.caveats.length >= DEFAULT_MACAROON_LIMITS.maxCaveats) throw new RangeError(`a macaroon holds at most ${DEFAULT_MACAROON_LIMITS.maxCaveats} caveats`);
  const signature = nextSignature(m.signature, caveat.identifier, caveat.verificationId);
  return { ...m, caveats: [...m.caveats, caveat], signature };
}

/** Narrows the macaroon: the verifier must also accept `predicate`. Anyone holding it can. */
export function addFirstPartyCaveat(m: Macaroon, predicate: MacaroonBytes): Macaroon {
  const identifier = bytes(predicate);
  checkField('caveat predicate', identifier);
  return appendCaveat(m, { identifier });
}

export interface ThirdPartyCaveatOptions {
  /** The secret shared with the third party (or sealed inside `caveatId` for it). */
  readonly caveatKey: Uint8Array;
  /** What the third party needs to recognise the caveat and recover `caveatKey`. */
  readonly caveatId: MacaroonBytes;
  /** Where the third party is. */
  readonly location?: string;
}

/** Requires a discharge from a third party, minted with the same caveat key and id. */
export function addThirdPartyCaveat(m: Macaroon, opts: ThirdPartyCaveatOptions): Macaroon {
  return addThirdPartyCaveatWithNonce(m, opts, undefined);
}

/**
 * As addThirdPartyCaveat with a chosen secretbox nonce. Only for reproducing published test
 * vectors: a nonce MUST NOT repeat under one signature. Not exported from the package.
 */
export function addThirdPartyCaveatWithNonce(m: Macaroon, opts: ThirdPartyCaveatOptions, nonce: Uint8Array | undefined): Macaroon {
  if (opts.caveatKey.length === 0) throw new RangeError('caveat key must not be empty');
  const identifier = bytes(opts.caveatId);
  checkField('caveat id', identifier);
  const location = checkLocation(opts.location);
  const verificationId = sealCaveatKey(m.signature, deriveKey(opts.caveatKey), nonce);
  return appendCaveat(m, location === undefined ? { identifier, verificationId } : { identifier, verificationId, location });
}

/**
 * Binds a discharge to the root macaroon it will be presented with, so it cannot be
 * replayed with another. Every discharge, including discharges of discharges, is bound to
 * the root macaroon's signature.
 */
export function bindForRequest(root: Macaroon, discharge: Macaroon): Macaroon {
  if (root.signature.length !== SIGNATURE_BYTES || discharge.signature.length !== SIGNATURE_BYTES) throw new RangeError('macaroon signatures are 32 bytes');
  return { ...discharge, signature: bindSignature(root.signature, discharge.signature) };
}
