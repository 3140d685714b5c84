// The verifier's fast path (src/wire/envelope.ts): a canonical envelope whose key reference
// verified before is read without decoding that key reference again. It must accept a subset
// of what decodeEnvelope accepts and read it identically, and a verifier that has cached a key
// reference must answer every request exactly as one that has not.
import { expect } from 'chai';
import * as fc from 'fast-check';
import {
  decodeEnvelope,
  decodeKnownEnvelope,
  DEFAULT_ENVELOPE_LIMITS,
  encodeEnvelope,
  Envelope,
  EnvelopeLimits,
  keyReferenceEnd,
} from '../../src/wire/envelope';
import { hmacSha256, LABELS, MAC_BYTES } from '../../src/crypto';
import { issueCredential } from '../../src/keys/credential';
import { staticKeySource } from '../../src/keys/key-source';
import { HeaderVerdict, RequestVerifier } from '../../src/verifier';
import { RequestSigner } from '../../src/signer';
import { MemoryReplayStore } from '../../src/replay/memory';
import { edits, applyEdits, hex, holds } from '../fuzz/support';
import { AUDIENCE, GET_BALANCE, IMPORT, ROOT_RING, T0, TRANSFER, world } from '../fuzz/world';

const SMALL: EnvelopeLimits = { maxEnvelopeBytes: 200, maxStringBytes: 12, maxMethodBytes: 40, maxRoles: 2, maxCredentialBytes: 20 };
const AUDIENCES = [AUDIENCE, 'ledgér', 'l'];
const METHODS = [TRANSFER, GET_BALANCE, IMPORT, '/a/b'];

/**
 * What a verifier would have cached for the key reference `bytes[2..end]`: the reading of a
 * canonical envelope made of it and a minimal rest, if that envelope decodes.
 */
function cachedReading(bytes: Uint8Array, end: number, audience: string, method: string, limits: EnvelopeLimits): Envelope | undefined {
  const rest = encodeEnvelope({
    version: 0,
    keyId: '',
    principal: '',
    roles: [],
    onBehalfOf: '',
    audience,
    method,
    nonce: Buffer.alloc(16, 7),
    issuedAtMs: T0,
    bodyDigest: new Uint8Array(0),
    credential: new Uint8Array(0),
  });
  const witness = Buffer.concat([bytes.subarray(0, end), rest]);
  const d = decodeEnvelope(witness, limits);
  return d.ok ? d.envelope : undefined;
}

/** Throws unless the fast path's reading of `bytes` (if any) is decodeEnvelope's. */
function agrees(bytes: Uint8Array, audience: string, method: string, limits: EnvelopeLimits): 'fast' | 'slow' {
  const end = keyReferenceEnd(bytes);
  if (end < 0) return 'slow';
  const ref = cachedReading(bytes, end, audience, method, limits);
  if (!ref) return 'slow';
  const fast = decodeKnownEnvelope(bytes, end, ref, audience, Buffer.from(audience, 'utf8'), method, Buffer.from(method, 'utf8'), limits);
  if (!fast) return 'slow';
  const slow = decodeEnvelope(bytes, limits);
  expect(slow.ok, `the fast path read ${hex(bytes)}, which decodeEnvelope refuses`).to.equal(true);
  if (!slow.ok) return 'fast';
  const view = (e: Envelope) => ({ ...e, roles: [...e.roles], nonce: hex(e.nonce), bodyDigest: hex(e.bodyDigest), credential: hex(e.credential) });
  expect(view(fast), hex(bytes)).to.deep.equal(view(slow.envelope));
  return 'fast';
}

describe('the verifier\'s fast path reads exactly what decodeEnvelope reads', () => {
  const w = world();
  const envelopes = w.values.map((v) => v.subarray(0, v.length - MAC_BYTES));

  it('every signed envelope of the fuzzing world takes it, and reads the same', () => {
    for (const e of envelopes) {
      const d = decodeEnvelope(e);
      if (!d.ok) throw new Error('world: an envelope does not decode');
      expect(agrees(e, d.envelope.audience, d.envelope.method, DEFAULT_ENVELOPE_LIMITS)).to.equal('fast');
    }
  });

  it('mutated envelopes: whatever it reads, decodeEnvelope reads the same (default and small bounds)', () => {
    let fast = 0;
    holds(
      fc.record({ i: fc.nat(), list: edits, other: fc.option(fc.record({ audience: fc.constantFrom(...AUDIENCES), method: fc.constantFrom(...METHODS) }), { freq: 4 }), small: fc.boolean() }),
      6000,
      ({ i, list, other, small }) => {
        const original = envelopes[i % envelopes.length]!;
        const own = decodeEnvelope(original);
        if (!own.ok) throw new Error('world: an envelope does not decode');
        // Mostly the audience and method the envelope was signed for, so that some mutations pass.
        const { audience, method } = other ?? own.envelope;
        if (agrees(applyEdits(original, list), audience, method, small ? SMALL : DEFAULT_ENVELOPE_LIMITS) === 'fast') fast++;
      },
    );
    expect(fast, 'mutations the fast path read').to.be.greaterThan(50);
  });

  it('generated envelopes, canonical and not: whatever it reads, decodeEnvelope reads the same', () => {
    const text = fc.oneof(fc.constantFrom('', 'a', 'teller', 'ledger', 'räkning-α', '\u{1F600}', 'x'.repeat(13)), fc.string({ maxLength: 6 }));
    const field = fc.oneof(
      fc.record({ f: fc.constantFrom(2, 3, 4, 5, 6, 7), s: text }),
      fc.record({ f: fc.constantFrom(8, 10, 11), b: fc.uint8Array({ maxLength: 40 }) }),
      fc.record({ f: fc.constantFrom(1, 9), v: fc.oneof(fc.constantFrom(0, 1, 2, T0), fc.nat()) }),
    );
    holds(fc.record({ fields: fc.array(field, { maxLength: 14 }), audience: fc.constantFrom(...AUDIENCES), method: fc.constantFrom(...METHODS) }), 4000, ({ fields, audience, method }) => {
      const parts: Buffer[] = [Buffer.of(0x08, 0x01)];
      for (const x of fields) {
        if ('v' in x) parts.push(Buffer.of(x.f << 3), varint(x.v));
        else {
          const value = 's' in x ? Buffer.from(x.s, 'utf8') : Buffer.from(x.b);
          parts.push(Buffer.of((x.f << 3) | 2), varint(value.length), value);
        }
      }
      agrees(Buffer.concat(parts), audience, method, DEFAULT_ENVELOPE_LIMITS);
    });
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

describe('a verifier that cached a key reference answers as one that has not', () => {
  const cred = issueCredential(ROOT_RING, AUDIENCE, 'frontend', ['teller']);
  const verifier = () =>
    new RequestVerifier({ keys: staticKeySource(ROOT_RING, AUDIENCE), now: () => T0, replayStore: new MemoryReplayStore({ now: () => T0 - 600_000 }) });
  /** The envelope as given, MACed with the credential's own key (the client could send it). */
  const macced = (env: Buffer) => Buffer.concat([env, hmacSha256(cred.principalKey, LABELS.requestMac, env)]);
  const base: Envelope = {
    version: 1,
    keyId: cred.keyId,
    principal: cred.principal,
    roles: cred.roles,
    onBehalfOf: '',
    audience: AUDIENCE,
    method: TRANSFER,
    nonce: Buffer.alloc(16, 1),
    issuedAtMs: T0,
    bodyDigest: Buffer.alloc(32, 2),
    credential: new Uint8Array(0),
  };
  const field = (f: number, value: string | Uint8Array) => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    return Buffer.concat([Buffer.of((f << 3) | 2), varint(bytes.length), bytes]);
  };
  let n = 10;
  const fresh = (over: Partial<Envelope> = {}) => encodeEnvelope({ ...base, nonce: Buffer.alloc(16, n++), ...over });
  const cases: Record<string, () => Buffer> = {
    'canonical, as signed': () => fresh(),
    'a role after on_behalf_of (roles split by another field)': () => {
      const env = fresh({ onBehalfOf: 'alice' });
      const at = env.indexOf(field(5, 'alice'));
      return Buffer.concat([env.subarray(0, at + 7), field(4, 'zz-admin'), env.subarray(at + 7)]);
    },
    'a role after the digest': () => Buffer.concat([fresh(), field(4, 'zz-admin')]),
    'the key id again at the end': () => Buffer.concat([fresh(), field(2, cred.keyId)]),
    'an empty on_behalf_of written out': () => {
      const env = fresh();
      const at = env.indexOf(field(6, AUDIENCE));
      return Buffer.concat([env.subarray(0, at), Buffer.of(0x2a, 0x00), env.subarray(at)]);
    },
    'audience and method swapped in order': () => {
      const env = fresh();
      const a = field(6, AUDIENCE);
      const m = field(7, TRANSFER);
      const at = env.indexOf(a);
      return Buffer.concat([env.subarray(0, at), m, a, env.subarray(at + a.length + m.length)]);
    },
    'another audience': () => fresh({ audience: 'other' }),
    'another method': () => fresh({ method: GET_BALANCE }),
    'no digest on a unary method': () => fresh({ bodyDigest: new Uint8Array(0) }),
    'a credential the verifier does not accept': () => fresh({ credential: Buffer.of(1, 2, 3) }),
    'expired': () => fresh({ issuedAtMs: T0 - 200_000 }),
  };

  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const env = make();
      const warm = verifier();
      const honest = new RequestSigner(cred, { now: () => T0 }).sign(TRANSFER, Buffer.of(1));
      expect(reason(warm.verifyHeader([honest.value], TRANSFER, true))).to.equal('ok');
      const cold = reason(verifier().verifyHeader([macced(env)], TRANSFER, true));
      expect(reason(warm.verifyHeader([macced(env)], TRANSFER, true)), hex(env)).to.equal(cold);
    });
  }

  it('a client cannot add roles to its key reference by splitting them: refused, bad_mac', () => {
    const warm = verifier();
    expect(reason(warm.verifyHeader([new RequestSigner(cred, { now: () => T0 }).sign(TRANSFER, Buffer.of(1)).value], TRANSFER, true))).to.equal('ok');
    expect(reason(warm.verifyHeader([macced(cases['a role after on_behalf_of (roles split by another field)']!())], TRANSFER, true))).to.equal('bad_mac');
    expect(reason(warm.verifyHeader([macced(cases['a role after the digest']!())], TRANSFER, true))).to.equal('bad_mac');
  });
});

function reason(v: HeaderVerdict | Promise<HeaderVerdict>): string {
  if (v instanceof Promise) throw new Error('the memory store answers at once');
  return v.ok ? 'ok' : v.reason;
}
