// decodeEnvelope (spec §3.2) under generated input: random bytes, mutations of signed
// envelopes, and protobuf-shaped field sequences, each with default or random small bounds.
// It never throws, answers one of its three reasons, and whatever it accepts is within the
// bounds it was given and survives a canonical re-encoding unchanged.
import { expect } from 'chai';
import * as fc from 'fast-check';
import { MAC_BYTES } from '../../src/crypto';
import { decodeEnvelope, DEFAULT_ENVELOPE_LIMITS, encodeEnvelope, Envelope, EnvelopeLimits } from '../../src/wire/envelope';
import { hex, holds, must, mutantOf, noThrow } from './support';
import { world } from './world';

const T0_MS = 1_767_225_600_000;
const REASONS = new Set(['malformed_envelope', 'oversized_envelope', 'unsupported_version']);

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** Valid UTF-16 with no lone surrogate: what a strict UTF-8 decode can produce. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s;

/** Throws unless `env`, decoded from `input` under `limits`, keeps every bound of spec §3.1. */
export function checkEnvelopeBounds(env: Envelope, input: Uint8Array, limits: EnvelopeLimits): void {
  const fail = (what: string) => () => `${what}, decoded from ${hex(input)} under ${JSON.stringify(limits)}`;
  must(input.length <= limits.maxEnvelopeBytes, fail('longer than maxEnvelopeBytes'));
  must(env.version === 1, fail('version'));
  for (const [name, s, max] of [
    ['keyId', env.keyId, limits.maxStringBytes],
    ['principal', env.principal, limits.maxStringBytes],
    ['audience', env.audience, limits.maxStringBytes],
    ['method', env.method, limits.maxMethodBytes],
    ['onBehalfOf', env.onBehalfOf, limits.maxStringBytes],
  ] as const) {
    const n = utf8Bytes(s);
    must(n <= max && (n > 0 || name === 'onBehalfOf') && wellFormed(s), fail(name));
  }
  must(env.roles.length <= limits.maxRoles, fail('too many roles'));
  env.roles.forEach((role, i) => {
    must(utf8Bytes(role) >= 1 && utf8Bytes(role) <= limits.maxStringBytes && wellFormed(role), fail(`role ${i}`));
    must(i === 0 || Buffer.compare(Buffer.from(env.roles[i - 1]!), Buffer.from(role)) < 0, fail('roles not in byte order'));
  });
  must(env.nonce.length === 16, fail('nonce'));
  must(env.bodyDigest.length === 0 || env.bodyDigest.length === 32, fail('body digest'));
  must(env.credential.length <= limits.maxCredentialBytes, fail('credential'));
  must(Number.isSafeInteger(env.issuedAtMs) && env.issuedAtMs > 0, fail('issuedAtMs'));
}

// ------------------------------------------------------------------ a reference reading

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Spec §3.1-§3.2 read independently of src/envelope.ts, for differential testing: the
 * envelope `bytes` encode under `limits`, or undefined when a verifier must refuse them. Two
 * readings the spec leaves to the implementation, taken as the decoder takes them: varints
 * beyond 2^53-1 (no JS number holds them) are refused, and fields may come in any order.
 */
export function referenceDecode(bytes: Uint8Array, limits: EnvelopeLimits): Envelope | undefined {
  if (bytes.length > limits.maxEnvelopeBytes) return undefined;
  let pos = 0;
  const varint = (): number | undefined => {
    let v = 0n;
    for (let i = 0; i < 10 && pos < bytes.length; i++) {
      const b = bytes[pos++]!;
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return (b === 0 && i > 0) || v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
    }
    return undefined;
  };
  const fields = new Map<number, (number | Uint8Array)[]>();
  while (pos < bytes.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const [number, wireType] = [Math.floor(key / 8), key % 8];
    if (number < 1 || number > 11 || wireType !== (number === 1 || number === 9 ? 0 : 2)) return undefined;
    let value: number | Uint8Array;
    if (wireType === 0) {
      const v = varint();
      if (v === undefined) return undefined;
      value = v;
    } else {
      const len = varint();
      if (len === undefined || len > bytes.length - pos) return undefined;
      value = bytes.subarray(pos, pos + len);
      pos += len;
    }
    const list = fields.get(number) ?? [];
    if (number !== 4 && list.length > 0) return undefined; // a singular field twice
    list.push(value);
    fields.set(number, list);
  }
  const one = (n: number) => fields.get(n)?.[0];
  const text = (n: number, max: number, required: boolean): string | undefined => {
    const b = (one(n) as Uint8Array | undefined) ?? new Uint8Array(0);
    if (b.length > max || (required && b.length === 0)) return undefined;
    try {
      return UTF8.decode(b);
    } catch {
      return undefined;
    }
  };
  const roleBytes = (fields.get(4) ?? []) as Uint8Array[];
  if (one(1) !== 1 || roleBytes.length > limits.maxRoles) return undefined;
  const roles: string[] = [];
  for (let i = 0; i < roleBytes.length; i++) {
    const r = roleBytes[i]!;
    if (r.length === 0 || r.length > limits.maxStringBytes || (i > 0 && Buffer.compare(roleBytes[i - 1]!, r) >= 0)) return undefined;
    try {
      roles.push(UTF8.decode(r));
    } catch {
      return undefined;
    }
  }
  const [keyId, principal, onBehalfOf, audience, method] = [
    text(2, limits.maxStringBytes, true),
    text(3, limits.maxStringBytes, true),
    text(5, limits.maxStringBytes, false),
    text(6, limits.maxStringBytes, true),
    text(7, limits.maxMethodBytes, true),
  ];
  const nonce = one(8) as Uint8Array | undefined;
  const issuedAtMs = one(9) as number | undefined;
  const bodyDigest = (one(10) as Uint8Array | undefined) ?? new Uint8Array(0);
  const credential = (one(11) as Uint8Array | undefined) ?? new Uint8Array(0);
  if (keyId === undefined || principal === undefined || onBehalfOf === undefined || audience === undefined || method === undefined) return undefined;
  if (nonce?.length !== 16 || issuedAtMs === undefined || issuedAtMs === 0) return undefined;
  if ((bodyDigest.length !== 0 && bodyDigest.length !== 32) || credential.length > limits.maxCredentialBytes) return undefined;
  return { version: 1, keyId, principal, roles, onBehalfOf, audience, method, nonce, issuedAtMs, bodyDigest, credential };
}

const same = (a: Envelope, b: Envelope) => encodeEnvelope(a).equals(encodeEnvelope(b));

/**
 * Decodes (never throwing), checks the answer's shape, that it agrees with the reference
 * reading, the bounds, and the canonical round trip.
 */
function decodeChecked(input: Uint8Array, limits: EnvelopeLimits): void {
  const r = noThrow('decodeEnvelope', input, () => decodeEnvelope(input, limits));
  const reference = referenceDecode(input, limits);
  if (!r.ok) {
    must(REASONS.has(r.reason), () => `unknown reason ${r.reason}`);
    must(reference === undefined, () => `refused (${r.reason}) what spec §3.2 accepts: ${hex(input)} under ${JSON.stringify(limits)}`);
    must(input.length <= limits.maxEnvelopeBytes || r.reason === 'oversized_envelope', () => `${r.reason} for an oversized envelope`);
    return;
  }
  must(reference !== undefined && same(r.envelope, reference), () => `accepted what spec §3.2 refuses, or read it otherwise: ${hex(input)} under ${JSON.stringify(limits)}`);
  checkEnvelopeBounds(r.envelope, input, limits);
  // Canonical bytes are never longer than what was accepted, and decode to the same envelope.
  const canonical = encodeEnvelope(r.envelope);
  must(canonical.length <= input.length, () => `canonical re-encoding longer than ${hex(input)}`);
  const again = decodeEnvelope(canonical, limits);
  must(again.ok && encodeEnvelope(again.envelope).equals(canonical), () => `canonical re-encoding of ${hex(input)} does not read back`);
}

/** Small bounds, so inputs cross them often; or the defaults. */
const limitsArb: fc.Arbitrary<EnvelopeLimits> = fc.oneof(
  fc.constant(DEFAULT_ENVELOPE_LIMITS),
  fc.record({
    maxEnvelopeBytes: fc.integer({ min: 0, max: 400 }),
    maxStringBytes: fc.integer({ min: 0, max: 40 }),
    maxMethodBytes: fc.integer({ min: 0, max: 60 }),
    maxRoles: fc.integer({ min: 0, max: 3 }),
    maxCredentialBytes: fc.integer({ min: 0, max: 300 }),
  }),
);

// ------------------------------------------------------------------ protobuf-shaped input

/** A varint, minimal or padded with continuation groups (non-minimal: must be refused). */
function varint(value: number, pad: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  for (let i = 0; i < pad; i++) {
    out[out.length - 1]! |= 0x80;
    out.push(0);
  }
  return out;
}

/** One field before serialization: a varint value or a payload, and how its key and length are written. */
interface RawField {
  readonly number: number;
  readonly wireType: number;
  readonly value: number | Uint8Array;
  readonly padKey?: number;
  readonly padLength?: number;
}

function serialize(fields: readonly RawField[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    out.push(...varint(f.number * 8 + f.wireType, f.padKey ?? 0));
    if (typeof f.value === 'number') {
      if (f.wireType === 2) out.push(...varint(0, 0));
      else out.push(...varint(f.value, f.padLength ?? 0));
    } else if (f.wireType === 2) {
      out.push(...varint(f.value.length, f.padLength ?? 0), ...f.value);
    } else if (f.wireType === 0) {
      out.push(...varint(f.value.length, 0));
    } else {
      out.push(...f.value.subarray(0, f.wireType === 1 ? 8 : 4));
    }
  }
  return Uint8Array.from(out);
}

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }) },
);
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** A valid envelope's fields in canonical order (spec §3.1), with random content. */
const validFields: fc.Arbitrary<RawField[]> = fc
  .record({
    keyId: text,
    principal: text,
    roles: fc.uniqueArray(text, { maxLength: 4 }),
    onBehalfOf: fc.option(text, { nil: undefined }),
    audience: text,
    method: text.map((t) => `/${t}`),
    nonce: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    issuedAtMs: fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.constantFrom(T0_MS, Number.MAX_SAFE_INTEGER)),
    bodyDigest: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
    credential: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
  })
  .map((e) => {
    const len = (number: number, value: Uint8Array): RawField => ({ number, wireType: 2, value });
    return [
      { number: 1, wireType: 0, value: 1 },
      len(2, utf8(e.keyId)),
      len(3, utf8(e.principal)),
      ...[...e.roles].sort((a, b) => Buffer.compare(utf8(a), utf8(b))).map((r) => len(4, utf8(r))),
      ...(e.onBehalfOf === undefined ? [] : [len(5, utf8(e.onBehalfOf))]),
      len(6, utf8(e.audience)),
      len(7, utf8(e.method)),
      len(8, e.nonce),
      { number: 9, wireType: 0, value: e.issuedAtMs },
      ...(e.bodyDigest === undefined ? [] : [len(10, e.bodyDigest)]),
      ...(e.credential === undefined ? [] : [len(11, e.credential)]),
    ];
  });

/** Structural edits at field granularity: each breaks one rule of spec §3.2, or none. */
type FieldEdit = (fields: RawField[]) => RawField[];
const at = (fields: readonly unknown[], i: number) => (fields.length === 0 ? 0 : i % fields.length);
const i = fc.nat({ max: 31 });
const fieldEdit: fc.Arbitrary<FieldEdit> = fc.oneof(
  // A field twice: the same value, or another.
  fc.tuple(i, i).map(([a, b]): FieldEdit => (fs) => (fs.length === 0 ? fs : [...fs.slice(0, b % (fs.length + 1)), fs[at(fs, a)]!, ...fs.slice(b % (fs.length + 1))])),
  fc.tuple(i, i, text).map(([a, b, t]): FieldEdit => (fs) => {
    if (fs.length === 0) return fs;
    const f = fs[at(fs, a)]!;
    const copy = { ...f, value: typeof f.value === 'number' ? f.value + 1 : utf8(t) };
    return [...fs.slice(0, b % (fs.length + 1)), copy, ...fs.slice(b % (fs.length + 1))];
  }),
  i.map((a): FieldEdit => (fs) => fs.filter((_, k) => k !== at(fs, a))),
  fc.tuple(i, i).map(([a, b]): FieldEdit => (fs) => {
    const out = [...fs];
    if (out.length > 0) [out[at(fs, a)], out[at(fs, b)]] = [out[at(fs, b)]!, out[at(fs, a)]!];
    return out;
  }),
  fc.tuple(i, fc.constantFrom(0, 12, 15, 16, 2 ** 29 - 1, 2 ** 29, 2 ** 32 + 2), fc.constantFrom(0, 2)).map(([b, number, wireType]): FieldEdit => (fs) => [...fs.slice(0, b % (fs.length + 1)), { number, wireType, value: wireType === 0 ? 1 : utf8('x') }, ...fs.slice(b % (fs.length + 1))]),
  fc.tuple(i, fc.integer({ min: 0, max: 7 })).map(([a, wireType]): FieldEdit => (fs) => fs.map((f, k) => (k === at(fs, a) ? { ...f, wireType } : f))),
  fc.tuple(i, fc.integer({ min: 1, max: 2 }), fc.boolean()).map(([a, pad, key]): FieldEdit => (fs) => fs.map((f, k) => (k === at(fs, a) ? (key ? { ...f, padKey: pad } : { ...f, padLength: pad }) : f))),
  fc.tuple(i, fc.constantFrom(Uint8Array.of(0xff), Uint8Array.of(0xc0, 0x80), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xf4, 0x90, 0x80, 0x80), Uint8Array.of(0xe2, 0x82))).map(([a, bad]): FieldEdit => (fs) => fs.map((f, k) => (k === at(fs, a) && f.value instanceof Uint8Array ? { ...f, value: Buffer.concat([f.value, bad]) } : f))),
  fc.constantFrom(2, 3, 4, 5, 6, 7, 8, 10, 11).map((number): FieldEdit => (fs) => [...fs, { number, wireType: 2, value: new Uint8Array(0) }]),
  fc.tuple(fc.constantFrom(1, 9), fc.constantFrom(0, 2, 2 ** 32, 2 ** 53 - 1, 2 ** 53)).map(([number, value]): FieldEdit => (fs) => fs.map((f) => (f.number === number ? { ...f, value } : f))),
  fc.tuple(i, fc.integer({ min: 1, max: 300 })).map(([a, n]): FieldEdit => (fs) => fs.map((f, k) => (k === at(fs, a) && f.value instanceof Uint8Array ? { ...f, value: Buffer.concat([f.value, Buffer.alloc(n, 0x61)]) } : f))),
);

/** A valid envelope's fields, then up to three structural edits, serialized. */
const fieldSequence: fc.Arbitrary<Uint8Array> = fc.tuple(validFields, fc.array(fieldEdit, { maxLength: 3 })).map(([fields, list]) => serialize(list.reduce((fs, e) => e(fs), fields)));

export function envelopeProperties(): void {
  describe('decodeEnvelope under generated input (spec §3.2)', () => {
    const envelopes = world().values.map((v) => v.subarray(0, v.length - MAC_BYTES));

    it('every signed envelope of the fuzzing world decodes (so its mutations start from valid input)', () => {
      for (const e of envelopes) expect(decodeEnvelope(e).ok, hex(e)).to.equal(true);
    });

    it('random bytes: never throws; an accepted envelope keeps its bounds and re-encodes canonically', () => {
      holds(fc.tuple(fc.uint8Array({ maxLength: 300 }), limitsArb), 5_000, ([bytes, limits]) => decodeChecked(bytes, limits));
    });

    it('protobuf-shaped field sequences (wrong wire types, padded varints, huge field numbers, bad lengths)', () => {
      holds(fc.tuple(fieldSequence, limitsArb), 8_000, ([bytes, limits]) => decodeChecked(bytes, limits));
    });

    it('mutations and splices of signed envelopes, with and without a macaroon credential', () => {
      holds(fc.tuple(mutantOf(envelopes), limitsArb), 12_000, ([m, limits]) => decodeChecked(m.bytes, limits));
    });
  });
}
