// The classic macaroon construction (Birgisson et al. 2014) exactly as libmacaroons,
// pymacaroons and go-macaroon (gopkg.in/macaroon.v2) compute it, so tokens interoperate:
//
//   derive(key)            = HMAC(key = "macaroons-key-generator" padded with zeros to 32 bytes, data = key)
//   sig0                   = HMAC(derive(rootKey), identifier)
//   first-party caveat     : sig' = HMAC(sig, predicate)
//   third-party caveat     : vid  = nonce(24) || secretbox(key = sig, nonce, derive(caveatKey))   (72 bytes)
//                            sig' = hash2(sig, vid, caveatId)
//   hash2(k, a, b)         = HMAC(k, HMAC(k, a) || HMAC(k, b))
//   bind(rootSig, dischargeSig) = hash2(32 zero bytes, rootSig, dischargeSig)
//
// libmacaroons pads the generator key to 32 bytes; go-macaroon and pymacaroons use the 23
// bytes as is. HMAC pads every key shorter than its 64-byte block with zeros, so both give
// the same derived key.
import { randomFillSync } from 'node:crypto';
import { secretbox } from '@noble/ciphers/salsa.js';
import { hmacSha256 } from '../crypto.js';

export const SIGNATURE_BYTES = 32;
export const NONCE_BYTES = 24;
const BOX_OVERHEAD = 16;
/** A verification id: nonce, Poly1305 tag, sealed 32-byte caveat key. */
export const VID_BYTES = NONCE_BYTES + BOX_OVERHEAD + SIGNATURE_BYTES;

const GENERATOR_KEY = (() => {
  const key = Buffer.alloc(32);
  key.write('macaroons-key-generator', 'ascii');
  return key;
})();
const ZERO_KEY = Buffer.alloc(32);

/** The fixed-length key a macaroon is actually keyed with, from a root or caveat key. */
export function deriveKey(variableKey: Uint8Array): Buffer {
  return hmacSha256(GENERATOR_KEY, variableKey);
}

export function hash1(key: Uint8Array, data: Uint8Array): Buffer {
  return hmacSha256(key, data);
}

export function hash2(key: Uint8Array, a: Uint8Array, b: Uint8Array): Buffer {
  return hmacSha256(key, hmacSha256(key, a), hmacSha256(key, b));
}

/** A discharge's signature bound to the root macaroon it is presented with. */
export function bindSignature(rootSignature: Uint8Array, dischargeSignature: Uint8Array): Buffer {
  return hash2(ZERO_KEY, rootSignature, dischargeSignature);
}

/** The chain step for one caveat: a verification id makes it a third-party caveat. */
export function nextSignature(sig: Uint8Array, identifier: Uint8Array, verificationId: Uint8Array | undefined): Buffer {
  return verificationId === undefined ? hash1(sig, identifier) : hash2(sig, verificationId, identifier);
}

/** Seals a derived caveat key under the signature so far: nonce || secretbox. */
export function sealCaveatKey(sig: Uint8Array, derivedCaveatKey: Uint8Array, nonce?: Uint8Array): Buffer {
  const n = nonce ?? randomFillSync(Buffer.alloc(NONCE_BYTES));
  if (n.length !== NONCE_BYTES) throw new RangeError('a secretbox nonce is 24 bytes');
  const box = secretbox(sig, n).seal(derivedCaveatKey);
  return Buffer.concat([n, box]);
}

/** Opens a verification id; undefined if it is not a box of a 32-byte key under `sig`. */
export function openCaveatKey(sig: Uint8Array, vid: Uint8Array): Buffer | undefined {
  if (vid.length !== VID_BYTES) return undefined;
  try {
    const key = secretbox(sig, vid.subarray(0, NONCE_BYTES)).open(vid.subarray(NONCE_BYTES));
    return key.length === SIGNATURE_BYTES ? Buffer.from(key) : undefined;
  } catch {
    return undefined; // authentication failed: noble throws on a bad tag
  }
}
