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
//
// Speed (behaviour is unchanged): verification is a chain of short HMACs under a new key at
// every step, so node's createHmac (a key object and a hash context per call, ~6 µs) is
// replaced by RFC 2104 computed directly: the key's padded blocks are built in scratch space
// and the two hashes are node's one-shot crypto.hash (~2 µs per HMAC). The *Into functions
// write into a caller's buffer so the verifier allocates nothing per caveat.
import { createHash, hash as nodeHash, randomFillSync } from 'node:crypto';
import { secretbox } from '@noble/ciphers/salsa.js';

export const SIGNATURE_BYTES = 32;
export const NONCE_BYTES = 24;
const BOX_OVERHEAD = 16;
/** A verification id: nonce, Poly1305 tag, sealed 32-byte caveat key. */
export const VID_BYTES = NONCE_BYTES + BOX_OVERHEAD + SIGNATURE_BYTES;

const BLOCK = 64;
const GENERATOR_KEY = (() => {
  const key = Buffer.alloc(32);
  key.write('macaroons-key-generator', 'ascii');
  return key;
})();
const ZERO_KEY = Buffer.alloc(32);

// ---- HMAC-SHA256 over scratch space (not re-entrant; nothing here yields) ----

/** key XOR ipad, then the message: the inner hash's input. Grows for long messages. */
let inner = Buffer.alloc(BLOCK + 1024);
/** key XOR opad || inner digest: the outer hash's input. */
const OUTER = Buffer.alloc(BLOCK + SIGNATURE_BYTES);
/** key XOR ipad || HMAC(k, a) || HMAC(k, b): hash2's last inner input. */
const PAIR = Buffer.alloc(BLOCK + 2 * SIGNATURE_BYTES);
/** Inputs longer than this stream through createHash instead of being copied. */
const COPY_LIMIT = 64 * 1024;

/** Loads the key's padded blocks: inner[0..64] = key ^ ipad, OUTER[0..64] = key ^ opad. */
function loadKey(key: Uint8Array): void {
  const k = key.length > BLOCK ? nodeHashBuffer(key) : key; // RFC 2104: long keys are hashed first
  for (let i = 0; i < BLOCK; i++) {
    const b = i < k.length ? k[i]! : 0;
    inner[i] = b ^ 0x36;
    OUTER[i] = b ^ 0x5c;
  }
}

function nodeHashBuffer(data: Uint8Array): Buffer {
  return Buffer.from(nodeHash('sha256', data, 'binary'), 'binary');
}

/** The outer hash over OUTER (whose digest part is already written), into out[at..at+32]. */
function finish(out: Buffer, at: number): void {
  out.write(nodeHash('sha256', OUTER, 'binary'), at, 'binary');
}

/** HMAC(loaded key, data) into out[at..at+32]. */
function macLoaded(out: Buffer, at: number, data: Uint8Array): void {
  const n = BLOCK + data.length;
  if (data.length > COPY_LIMIT) {
    OUTER.write(createHash('sha256').update(inner.subarray(0, BLOCK)).update(data).digest('binary'), BLOCK, 'binary');
  } else {
    if (inner.length < n) {
      const grown = Buffer.alloc(Math.max(n, 2 * inner.length));
      inner.copy(grown, 0, 0, BLOCK);
      inner = grown;
    }
    inner.set(data, BLOCK);
    // A plain Uint8Array view: cheaper to make than Buffer#subarray.
    OUTER.write(nodeHash('sha256', new Uint8Array(inner.buffer, inner.byteOffset, n), 'binary'), BLOCK, 'binary');
  }
  finish(out, at);
}

/** out[0..32] = HMAC(key, data). `out` may be `key` or `data` (both are read first). */
export function hash1Into(out: Buffer, key: Uint8Array, data: Uint8Array): void {
  loadKey(key);
  macLoaded(out, 0, data);
}

/** out[0..32] = HMAC(key, HMAC(key, a) || HMAC(key, b)). `out` may alias any input. */
export function hash2Into(out: Buffer, key: Uint8Array, a: Uint8Array, b: Uint8Array): void {
  loadKey(key);
  macLoaded(PAIR, BLOCK, a);
  macLoaded(PAIR, BLOCK + SIGNATURE_BYTES, b);
  inner.copy(PAIR, 0, 0, BLOCK);
  OUTER.write(nodeHash('sha256', PAIR, 'binary'), BLOCK, 'binary');
  finish(out, 0);
}

/** The chain step into `out` (which may be `sig`): a verification id makes it third-party. */
export function nextSignatureInto(out: Buffer, sig: Uint8Array, identifier: Uint8Array, verificationId: Uint8Array | undefined): void {
  if (verificationId === undefined) hash1Into(out, sig, identifier);
  else hash2Into(out, sig, verificationId, identifier);
}

/** bindSignature into `out` (which may be `dischargeSignature`). */
export function bindSignatureInto(out: Buffer, rootSignature: Uint8Array, dischargeSignature: Uint8Array): void {
  hash2Into(out, ZERO_KEY, rootSignature, dischargeSignature);
}

/** The fixed-length key a macaroon is actually keyed with, from a root or caveat key. */
export function deriveKey(variableKey: Uint8Array): Buffer {
  return hash1(GENERATOR_KEY, variableKey);
}

export function hash1(key: Uint8Array, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SIGNATURE_BYTES);
  hash1Into(out, key, data);
  return out;
}

export function hash2(key: Uint8Array, a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SIGNATURE_BYTES);
  hash2Into(out, key, a, b);
  return out;
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

/**
 * Opens a verification id; undefined if it is not a box of a 32-byte key under `sig`. The
 * audited library's secretbox, as is: a hand-assembled XSalsa20 + Poly1305 measured ~6 µs
 * faster, not worth owning a cipher construction for.
 */
export function openCaveatKey(sig: Uint8Array, vid: Uint8Array): Buffer | undefined {
  if (vid.length !== VID_BYTES || sig.length !== SIGNATURE_BYTES) return undefined;
  try {
    const key = secretbox(sig, vid.subarray(0, NONCE_BYTES)).open(vid.subarray(NONCE_BYTES));
    return key.length === SIGNATURE_BYTES ? Buffer.from(key) : undefined;
  } catch {
    return undefined; // authentication failed: noble throws on a bad tag
  }
}
