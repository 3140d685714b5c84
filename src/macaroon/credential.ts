// A macaroon carried in the envelope's `credential` field (docs/spec.md §11): the
// reqauth.v1.Credential codec (proto/reqauth/v1/credential.proto), and the keys that prove
// possession of the macaroon's signature without it ever crossing the wire.
import { LABELS, MacKey, MAC_BYTES } from '../crypto';
import { Macaroon, serializeMacaroonBinary } from './index';
import { decodeBinaryV2, V2_VERSION } from './binary-v2';
import { deriveKey, hash1, nextSignature, SIGNATURE_BYTES } from './crypto';
import { DEFAULT_MACAROON_LIMITS } from './limits';

/**
 * `possession`: the presenter is the request's principal, the last presenter the macaroon
 * names. `handoff`: the principal hands the macaroon to the service it calls, which the
 * macaroon names as the last presenter (spec §11.4). Either way the signature is withheld and
 * the request proves it holds it.
 */
export type Presentation = 'possession' | 'handoff';

export interface MacaroonPresentation {
  /** The macaroon with its signature: the signer withholds it and proves possession. */
  readonly root: Macaroon;
  /** Each bound to the root (bindForRequest). */
  readonly discharges: readonly Macaroon[];
  readonly presentation: Presentation;
}

/** A presented macaroon as received: its signature field is 32 zero bytes; `proof` proves it. */
export interface ReceivedMacaroonCredential {
  readonly root: Macaroon;
  readonly discharges: readonly Macaroon[];
  readonly presentation: Presentation;
  readonly proof: Uint8Array;
}

const WITHHELD = new Uint8Array(SIGNATURE_BYTES);
const PRESENTATION_CODES: Readonly<Record<Presentation, number>> = { possession: 1, handoff: 2 };
export const MAX_DISCHARGES = 16;

/**
 * possession key = HMAC(principal key, "reqauth/v1 macaroon possession" 0x00 || signature):
 * a request needs both the principal key and the macaroon's signature to make one; neither a
 * captured request nor a logged macaroon (neither carries the signature) is enough. The call's
 * stream tags are keyed with it (spec §11.2).
 */
export function possessionKey(principalKey: MacKey, macaroonSignature: Uint8Array): MacKey {
  return new MacKey(principalKey.mac(LABELS.macaroonPossession, macaroonSignature));
}

/** proof = HMAC(possession key, "reqauth/v1 macaroon proof" 0x00 || envelope nonce). */
export function possessionProof(key: MacKey, nonce: Uint8Array): Buffer {
  return key.mac(LABELS.macaroonProof, nonce);
}

/**
 * Serialized reqauth.v1.Credential{macaroon: MacaroonCredential{root, discharges, presentation,
 * proof}} in canonical field order. The root goes with its signature replaced by 32 zero bytes.
 */
export function encodeMacaroonCredential(p: MacaroonPresentation, proof: Uint8Array): Buffer {
  if (proof.length !== MAC_BYTES) throw new RangeError('proof must be 32 bytes');
  const root = serializeMacaroonBinary({ ...p.root, signature: WITHHELD });
  const inner = Buffer.concat([
    lenField(1, root),
    ...p.discharges.map((d) => lenField(2, serializeMacaroonBinary(d))),
    Buffer.of((3 << 3) | 0, PRESENTATION_CODES[p.presentation]),
    lenField(4, proof),
  ]);
  return lenField(1, inner);
}

export type CredentialDecodeResult =
  | { readonly ok: true; readonly credential: ReceivedMacaroonCredential }
  | { readonly ok: false; readonly reason: 'malformed_credential' | 'macaroon_signature_sent' };

/**
 * Strict (spec §11.1): only the fields of credential.proto, each in field-number order and
 * singular fields once, minimal varints, macaroons in V2 binary only, at most 16 discharges,
 * a 32-byte proof. A root whose signature field is not 32 zero bytes is refused on its own
 * reason: its sender leaked the signature, which possession exists to keep secret.
 */
export function decodeMacaroonCredential(bytes: Uint8Array): CredentialDecodeResult {
  const malformed = { ok: false, reason: 'malformed_credential' } as const;
  const outer = new FieldReader(bytes);
  const kind = outer.next();
  if (!kind || kind.field !== 1 || kind.bytes === undefined || !outer.atEnd()) return malformed;
  const r = new FieldReader(kind.bytes);
  let root: Macaroon | undefined;
  const discharges: Macaroon[] = [];
  let presentation: Presentation | undefined;
  let proof: Uint8Array | undefined;
  let last = 0;
  for (let f = r.next(); f; f = r.next()) {
    // Ascending field numbers; only `discharges` (2) may repeat.
    if (f.field < last || (f.field === last && f.field !== 2)) return malformed;
    last = f.field;
    if (f.field === 1 && f.bytes) {
      root = parseV2(f.bytes);
      if (!root) return malformed;
    } else if (f.field === 2 && f.bytes) {
      if (discharges.length >= MAX_DISCHARGES) return malformed;
      const d = parseV2(f.bytes);
      if (!d) return malformed;
      discharges.push(d);
    } else if (f.field === 3 && f.value !== undefined) {
      presentation = f.value === 1 ? 'possession' : f.value === 2 ? 'handoff' : undefined;
      if (!presentation) return malformed;
    } else if (f.field === 4 && f.bytes && f.bytes.length === MAC_BYTES) {
      proof = f.bytes;
    } else {
      return malformed;
    }
  }
  if (r.failed || !root || !presentation || !proof) return malformed;
  if (!isWithheld(root.signature)) return { ok: false, reason: 'macaroon_signature_sent' };
  return { ok: true, credential: { root, discharges, presentation, proof } };
}

function parseV2(bytes: Uint8Array): Macaroon | undefined {
  if (bytes[0] !== V2_VERSION) return undefined; // V1 and JSON are refused here (spec §11)
  const parsed = decodeBinaryV2(bytes, DEFAULT_MACAROON_LIMITS);
  return parsed.ok ? parsed.macaroon : undefined;
}

function isWithheld(signature: Uint8Array): boolean {
  let acc = 0;
  for (const b of signature) acc |= b;
  return signature.length === SIGNATURE_BYTES && acc === 0;
}

/**
 * The root macaroon's signature as its minter computed it: the HMAC chain from the root key
 * over its identifier and caveats. A verifier recomputes it; it never comes over the wire.
 */
export function macaroonSignature(root: Macaroon, rootKey: Uint8Array): Buffer {
  let sig = hash1(deriveKey(rootKey), root.identifier);
  for (const caveat of root.caveats) sig = nextSignature(sig, caveat.identifier, caveat.verificationId);
  return sig;
}

// ---------------------------------------------------------------- protobuf, minimal and strict

function lenField(field: number, value: Uint8Array): Buffer {
  const head: number[] = [(field << 3) | 2];
  for (let n = value.length; ; ) {
    if (n < 0x80) {
      head.push(n);
      break;
    }
    head.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  return Buffer.concat([Buffer.from(head), value]);
}

interface RawField {
  readonly field: number;
  readonly bytes?: Uint8Array;
  readonly value?: number;
}

/**
 * Fields of a message whose field numbers are all below 16, so every key is one byte: a key
 * byte with the continuation bit names a field this schema does not have, and is malformed
 * (no truncation of large field numbers into small ones). Varints are minimal and below 2^32.
 */
class FieldReader {
  private pos = 0;
  failed = false;

  constructor(private readonly bytes: Uint8Array) {}

  atEnd(): boolean {
    return !this.failed && this.pos === this.bytes.length;
  }

  next(): RawField | undefined {
    if (this.failed || this.pos >= this.bytes.length) return undefined;
    const key = this.bytes[this.pos++]!;
    if (key >= 0x80) return this.fail();
    const field = key >> 3;
    const wireType = key & 7;
    if (field === 0) return this.fail();
    if (wireType === 0) {
      const value = this.varint();
      return value === undefined ? this.fail() : { field, value };
    }
    if (wireType === 2) {
      const len = this.varint();
      if (len === undefined || len > this.bytes.length - this.pos) return this.fail();
      const out = this.bytes.subarray(this.pos, this.pos + len);
      this.pos += len;
      return { field, bytes: out };
    }
    return this.fail();
  }

  private varint(): number | undefined {
    let result = 0;
    for (let i = 0, mul = 1; i < 5; i++, mul *= 128) {
      if (this.pos >= this.bytes.length) return undefined;
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return (b === 0 && i > 0) || result > 0xffffffff ? undefined : result;
    }
    return undefined;
  }

  private fail(): undefined {
    this.failed = true;
    return undefined;
  }
}
