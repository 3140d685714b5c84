// The envelope codec: reqauth.v1.Envelope (proto/reqauth/v1/envelope.proto) to bytes and
// back. Hand-written rather than generated because the verifier must be stricter than a
// protobuf library (docs/spec.md §3.2): unknown fields, repeated singular fields, wrong
// wire types, invalid UTF-8 and non-canonical role lists are refused, and every field is
// bounded before it is copied.
import { DIGEST_BYTES, NONCE_BYTES, sha256Into } from '../crypto';

export const ENVELOPE_VERSION = 1;

export interface Envelope {
  version: number;
  keyId: string;
  principal: string;
  /** Sorted by byte value, no duplicates (spec §3.2). */
  roles: readonly string[];
  /** Empty when the call is not made for a user. */
  onBehalfOf: string;
  audience: string;
  /** "/pkg.Service/Method" */
  method: string;
  nonce: Uint8Array;
  issuedAtMs: number;
  /** SHA-256 of the single request message, or empty for request streams. */
  bodyDigest: Uint8Array;
  /** Reserved for a macaroon or similar; empty when absent. */
  credential: Uint8Array;
}

/** Size limits, applied while parsing (spec §3.1). */
export interface EnvelopeLimits {
  maxEnvelopeBytes: number;
  maxStringBytes: number;
  maxMethodBytes: number;
  maxRoles: number;
  maxCredentialBytes: number;
}

export const DEFAULT_ENVELOPE_LIMITS: Readonly<EnvelopeLimits> = {
  maxEnvelopeBytes: 4096,
  maxStringBytes: 256,
  maxMethodBytes: 512,
  maxRoles: 16,
  maxCredentialBytes: 3072,
};

const enum Field {
  Version = 1,
  KeyId = 2,
  Principal = 3,
  Roles = 4,
  OnBehalfOf = 5,
  Audience = 6,
  Method = 7,
  Nonce = 8,
  IssuedAtMs = 9,
  BodyDigest = 10,
  Credential = 11,
}

const VARINT = 0;
const LEN = 2;

// ---------------------------------------------------------------- encoding

/**
 * Canonical encoding: fields in number order, empty/zero fields omitted (spec §3.1). Sizes
 * are computed first and the fields written into one buffer: this runs on every call.
 * `reserve` bytes are allocated after the envelope (in the same ArrayBuffer), where a signer
 * writes the MAC.
 */
export function encodeEnvelope(env: Envelope, reserve = 0): Buffer {
  const strings = [env.keyId, env.principal, env.onBehalfOf, env.audience, env.method];
  const lengths = strings.map((x) => Buffer.byteLength(x, 'utf8'));
  const roleLengths = env.roles.map((r) => Buffer.byteLength(r, 'utf8'));
  let size = varintField(env.version) + varintField(env.issuedAtMs);
  for (const n of lengths) size += lenField(n, false);
  for (const n of roleLengths) size += lenField(n, true);
  size += lenField(env.nonce.length, false) + lenField(env.bodyDigest.length, false) + lenField(env.credential.length, false);

  const out = Buffer.allocUnsafe(size + reserve);
  let at = 0;
  const key = (field: number, wireType: number) => (at = writeVarint(out, at, (field << 3) | wireType));
  const varint = (field: number, value: number) => {
    if (value === 0) return;
    key(field, VARINT);
    at = writeVarint(out, at, value);
  };
  const str = (field: number, value: string, length: number, always = false) => {
    if (length === 0 && !always) return;
    key(field, LEN);
    at = writeVarint(out, at, length);
    at += out.write(value, at, length, 'utf8');
  };
  const bytes = (field: number, value: Uint8Array) => {
    if (value.length === 0) return;
    key(field, LEN);
    at = writeVarint(out, at, value.length);
    out.set(value, at);
    at += value.length;
  };
  varint(Field.Version, env.version);
  str(Field.KeyId, env.keyId, lengths[0]!);
  str(Field.Principal, env.principal, lengths[1]!);
  env.roles.forEach((role, i) => str(Field.Roles, role, roleLengths[i]!, true));
  str(Field.OnBehalfOf, env.onBehalfOf, lengths[2]!);
  str(Field.Audience, env.audience, lengths[3]!);
  str(Field.Method, env.method, lengths[4]!);
  bytes(Field.Nonce, env.nonce);
  varint(Field.IssuedAtMs, env.issuedAtMs);
  bytes(Field.BodyDigest, env.bodyDigest);
  bytes(Field.Credential, env.credential);
  return reserve === 0 ? out : out.subarray(0, size);
}

/**
 * @internal The same bytes as `encodeEnvelope`, for an envelope whose fields 1-7 (version to method)
 * are `head` — encodeEnvelope of those fields alone, every later one empty — followed by the
 * nonce, issued-at, the digest of `body` (none when undefined) and the credential. Canonical
 * order puts the fields fixed per credential and method first, so a signer encodes them once
 * (§3.2); the digest is written in place. Returns the envelope followed by `reserve` more bytes
 * (unlike encodeEnvelope, the whole buffer: the signer writes its MAC there).
 */
export function encodeEnvelopeAfterHead(head: Buffer, nonce: Uint8Array, issuedAtMs: number, body: Uint8Array | undefined, credential: Uint8Array, reserve = 0): Buffer {
  const size =
    head.length + lenField(nonce.length, false) + varintField(issuedAtMs) + (body === undefined ? 0 : 2 + DIGEST_BYTES) + lenField(credential.length, false);
  const out = Buffer.allocUnsafe(size + reserve);
  head.copy(out, 0);
  let at = head.length;
  if (nonce.length > 0) {
    out[at++] = (Field.Nonce << 3) | LEN;
    at = writeVarint(out, at, nonce.length);
    out.set(nonce, at);
    at += nonce.length;
  }
  if (issuedAtMs !== 0) {
    out[at++] = (Field.IssuedAtMs << 3) | VARINT;
    at = writeVarint(out, at, issuedAtMs);
  }
  if (body !== undefined) {
    out[at++] = (Field.BodyDigest << 3) | LEN;
    out[at++] = DIGEST_BYTES;
    sha256Into(body, out, at);
    at += DIGEST_BYTES;
  }
  if (credential.length > 0) {
    out[at++] = (Field.Credential << 3) | LEN;
    at = writeVarint(out, at, credential.length);
    out.set(credential, at);
  }
  return out;
}

function varintSize(value: number): number {
  let n = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Encoded size of a varint field (key of one byte: every v1 field number is below 16). */
function varintField(value: number): number {
  if (value === 0) return 0;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('not a uint64');
  return 1 + varintSize(value);
}

function lenField(length: number, always: boolean): number {
  return length === 0 && !always ? 0 : 1 + varintSize(length) + length;
}

function writeVarint(buf: Buffer, at: number, value: number): number {
  // Values up to 2^53 (safe integers); arithmetic, as bitwise operators truncate to 32 bits.
  while (value > 0x7f) {
    buf[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[at++] = value;
  return at;
}

// ---------------------------------------------------------------- decoding

export type DecodeResult =
  | { ok: true; envelope: Envelope }
  | { ok: false; reason: 'malformed_envelope' | 'oversized_envelope' | 'unsupported_version' };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Strict decoding of received envelope bytes. Never throws on any input; every refusal is a
 * value. Only the key reference (key id, principal, roles) is used before the MAC is checked.
 */
export function decodeEnvelope(bytes: Uint8Array, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): DecodeResult {
  if (bytes.length > limits.maxEnvelopeBytes) return { ok: false, reason: 'oversized_envelope' };
  try {
    return decodeStrict(bytes, limits);
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, reason: 'malformed_envelope' };
    if (err instanceof TypeError) return { ok: false, reason: 'malformed_envelope' }; // bad UTF-8
    throw err;
  }
}

class Malformed extends Error {}

function decodeStrict(bytes: Uint8Array, limits: EnvelopeLimits): DecodeResult {
  const env: Envelope = {
    version: 0,
    keyId: '',
    principal: '',
    roles: [],
    onBehalfOf: '',
    audience: '',
    method: '',
    nonce: EMPTY,
    issuedAtMs: 0,
    bodyDigest: EMPTY,
    credential: EMPTY,
  };
  const roles: string[] = [];
  let seen = 0; // bit per singular field number
  let pos = 0;
  const end = bytes.length;

  const readVarint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= end) throw new Malformed();
      const b = bytes[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new Malformed(); // over-long (non-minimal) varint
        if (!Number.isSafeInteger(result)) throw new Malformed();
        return result;
      }
      mul *= 128;
    }
    throw new Malformed(); // beyond 2^56: no v1 field can be that large
  };
  const readLen = (max: number): Uint8Array => {
    const len = readVarint();
    if (len > max || len > end - pos) throw new Malformed();
    const out = bytes.subarray(pos, pos + len);
    pos += len;
    return out;
  };
  const readString = (max: number): string => {
    const len = readVarint();
    if (len > max || len > end - pos) throw new Malformed();
    const start = pos;
    pos += len;
    // ASCII (the usual case) needs no validation and no view; anything else must be valid UTF-8.
    for (let i = start; i < pos; i++) {
      if (bytes[i]! > 0x7f) return utf8.decode(bytes.subarray(start, pos));
    }
    return latin1(bytes, start, pos);
  };

  while (pos < end) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    const expected = field === Field.Version || field === Field.IssuedAtMs ? VARINT : LEN;
    if (field < Field.Version || field > Field.Credential || wireType !== expected) throw new Malformed();
    if (field !== Field.Roles) {
      const bit = 1 << field;
      if (seen & bit) throw new Malformed(); // a singular field twice: parsers disagree on which wins
      seen |= bit;
    }
    switch (field as Field) {
      case Field.Version:
        env.version = readVarint();
        if (env.version !== ENVELOPE_VERSION) return { ok: false, reason: 'unsupported_version' };
        break;
      case Field.KeyId:
        env.keyId = readString(limits.maxStringBytes);
        break;
      case Field.Principal:
        env.principal = readString(limits.maxStringBytes);
        break;
      case Field.Roles: {
        if (roles.length >= limits.maxRoles) throw new Malformed();
        const role = readString(limits.maxStringBytes);
        // Canonical order doubles as the duplicate check (spec §3.2).
        if (role.length === 0 || (roles.length > 0 && compareBytes(roles[roles.length - 1]!, role) >= 0)) {
          throw new Malformed();
        }
        roles.push(role);
        break;
      }
      case Field.OnBehalfOf:
        env.onBehalfOf = readString(limits.maxStringBytes);
        break;
      case Field.Audience:
        env.audience = readString(limits.maxStringBytes);
        break;
      case Field.Method:
        env.method = readString(limits.maxMethodBytes);
        break;
      case Field.Nonce:
        env.nonce = readLen(NONCE_BYTES);
        break;
      case Field.IssuedAtMs:
        env.issuedAtMs = readVarint();
        break;
      case Field.BodyDigest:
        env.bodyDigest = readLen(DIGEST_BYTES);
        break;
      case Field.Credential:
        env.credential = readLen(limits.maxCredentialBytes);
        break;
    }
  }
  env.roles = roles;
  if (env.version !== ENVELOPE_VERSION) return { ok: false, reason: 'unsupported_version' };
  if (
    env.keyId === '' ||
    env.principal === '' ||
    env.audience === '' ||
    env.method === '' ||
    env.nonce.length !== NONCE_BYTES ||
    env.issuedAtMs === 0 ||
    (env.bodyDigest.length !== 0 && env.bodyDigest.length !== DIGEST_BYTES)
  ) {
    throw new Malformed();
  }
  return { ok: true, envelope: env };
}

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------- the verifier's fast path
//
// A verifier sees the same key reference (key id, principal, roles), audience and method on
// every call of a client, so it reads them once: `keyReferenceEnd` finds the key reference of
// a canonically ordered envelope without reading it, the verifier looks its exact bytes up
// among the key references it has seen verify, and `decodeKnownEnvelope` reads the rest,
// comparing audience and method byte for byte with the verifier's own. Anything else — a
// non-canonical order, a field written with its default value, an unknown key reference, an
// audience or method that differs — returns undefined, and the verifier runs decodeEnvelope
// on the whole envelope: the fast path accepts a subset of what decodeEnvelope accepts and
// reads it identically (test/core/envelope-fast-path.test.ts).

/** Set by varintAt: the position after the varint it read. */
let after = 0;

/** The minimal varint at `pos` (as decodeStrict reads it), or -1; sets `after`. */
function varintAt(bytes: Uint8Array, pos: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8 && pos < bytes.length; i++) {
    const b = bytes[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if ((b === 0 && i > 0) || !Number.isSafeInteger(result)) return -1;
      after = pos;
      return result;
    }
    mul *= 128;
  }
  return -1;
}

/** The end of a length-delimited field's value whose length varint is at `pos`, or -1. */
function skipValue(bytes: Uint8Array, pos: number): number {
  const len = varintAt(bytes, pos);
  return len < 0 || len > bytes.length - after ? -1 : after + len;
}

/**
 * @internal Where the key reference of a canonically ordered envelope ends: the envelope starts with
 * `version` = 1, `key_id`, `principal` and any `roles`, and `bytes[2..end]` is that key
 * reference exactly. -1 for any other start. Reads lengths only, never the values.
 */
export function keyReferenceEnd(bytes: Uint8Array): number {
  if (bytes.length < 2 || bytes[0] !== ((Field.Version << 3) | VARINT) || bytes[1] !== ENVELOPE_VERSION) return -1;
  if (bytes[2] !== ((Field.KeyId << 3) | LEN)) return -1;
  let pos = skipValue(bytes, 3);
  if (pos < 0 || bytes[pos] !== ((Field.Principal << 3) | LEN)) return -1;
  pos = skipValue(bytes, pos + 1);
  while (pos > 0 && bytes[pos] === ((Field.Roles << 3) | LEN)) pos = skipValue(bytes, pos + 1);
  return pos;
}

/** @internal A key reference that verified before: its fields, as decodeEnvelope read them. */
export interface KeyReference {
  readonly keyId: string;
  readonly principal: string;
  readonly roles: readonly string[];
}

/** Does `bytes[pos..pos+expected.length]` equal `expected`? Public values: not constant-time. */
function bytesAt(bytes: Uint8Array, pos: number, expected: Uint8Array): boolean {
  if (expected.length > bytes.length - pos) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[pos + i] !== expected[i]) return false;
  return true;
}

/**
 * @internal The envelope whose key reference `ref` ends at `from` (keyReferenceEnd), when the rest is
 * in canonical order — `on_behalf_of`, `audience`, `method`, `nonce`, `issued_at_ms`,
 * `body_digest`, `credential`, none written empty — and its audience and method are
 * `audience` and `method` (whose UTF-8 bytes are `audienceBytes` and `methodBytes`).
 * Undefined otherwise: decodeEnvelope then reads it, and refuses or accepts it.
 */
export function decodeKnownEnvelope(
  bytes: Uint8Array,
  from: number,
  ref: KeyReference,
  audience: string,
  audienceBytes: Uint8Array,
  method: string,
  methodBytes: Uint8Array,
  limits: EnvelopeLimits,
): Envelope | undefined {
  if (bytes.length > limits.maxEnvelopeBytes || audienceBytes.length === 0 || methodBytes.length === 0) return undefined;
  let pos = from;
  let onBehalfOf = '';
  if (bytes[pos] === ((Field.OnBehalfOf << 3) | LEN)) {
    const len = varintAt(bytes, pos + 1);
    if (len <= 0 || len > limits.maxStringBytes || len > bytes.length - after) return undefined;
    const start = after;
    pos = start + len;
    for (let i = start; i < pos; i++) if (bytes[i]! > 0x7f) return undefined; // non-ASCII: the strict UTF-8 check
    onBehalfOf = latin1(bytes, start, pos);
  }
  if (bytes[pos] !== ((Field.Audience << 3) | LEN) || varintAt(bytes, pos + 1) !== audienceBytes.length || audienceBytes.length > limits.maxStringBytes) return undefined;
  if (!bytesAt(bytes, after, audienceBytes)) return undefined;
  pos = after + audienceBytes.length;
  if (bytes[pos] !== ((Field.Method << 3) | LEN) || varintAt(bytes, pos + 1) !== methodBytes.length || methodBytes.length > limits.maxMethodBytes) return undefined;
  if (!bytesAt(bytes, after, methodBytes)) return undefined;
  pos = after + methodBytes.length;
  if (bytes[pos] !== ((Field.Nonce << 3) | LEN) || bytes[pos + 1] !== NONCE_BYTES || pos + 2 + NONCE_BYTES > bytes.length) return undefined;
  const nonce = bytes.subarray(pos + 2, pos + 2 + NONCE_BYTES);
  pos += 2 + NONCE_BYTES;
  if (bytes[pos] !== ((Field.IssuedAtMs << 3) | VARINT)) return undefined;
  const issuedAtMs = varintAt(bytes, pos + 1);
  if (issuedAtMs <= 0) return undefined;
  pos = after;
  let bodyDigest: Uint8Array = EMPTY;
  if (bytes[pos] === ((Field.BodyDigest << 3) | LEN)) {
    if (bytes[pos + 1] !== DIGEST_BYTES || pos + 2 + DIGEST_BYTES > bytes.length) return undefined;
    bodyDigest = bytes.subarray(pos + 2, pos + 2 + DIGEST_BYTES);
    pos += 2 + DIGEST_BYTES;
  }
  let credential: Uint8Array = EMPTY;
  if (bytes[pos] === ((Field.Credential << 3) | LEN)) {
    const len = varintAt(bytes, pos + 1);
    if (len <= 0 || len > limits.maxCredentialBytes || len > bytes.length - after) return undefined;
    credential = bytes.subarray(after, after + len);
    pos = after + len;
  }
  if (pos !== bytes.length) return undefined;
  return {
    version: ENVELOPE_VERSION,
    keyId: ref.keyId,
    principal: ref.principal,
    roles: ref.roles,
    onBehalfOf,
    audience,
    method,
    nonce,
    issuedAtMs,
    bodyDigest,
    credential,
  };
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.isBuffer(bytes) ? bytes.toString('latin1', start, end) : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** Byte-wise comparison of UTF-8 strings (the order roles are sorted in). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Roles in canonical order: sorted by UTF-8 bytes, duplicates removed. */
export function canonicalRoles(roles: Iterable<string>): string[] {
  const unique = [...new Set(roles)];
  for (const r of unique) if (r === '') throw new RangeError('a role cannot be empty');
  return unique.sort(compareBytes);
}
