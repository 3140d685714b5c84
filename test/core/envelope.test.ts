// The envelope codec (spec §3): canonical encoding, and a strict decoder that refuses, as a
// value and never by throwing, anything a lenient protobuf parser might read differently.
import { expect } from 'chai';
import { sha256 } from '../../src/crypto';
import {
  canonicalRoles,
  decodeEnvelope,
  DecodeResult,
  DEFAULT_ENVELOPE_LIMITS,
  encodeEnvelope,
  Envelope,
} from '../../src/wire/envelope';
import { hex, lenField, Prng, varint, varintField } from '../support/vectors';

const NONCE = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const ISSUED_AT = 1_735_689_600_000; // 2025-01-01T00:00:00Z

function sample(overrides: Partial<Envelope> = {}): Envelope {
  return {
    version: 1,
    keyId: 'k2025-01',
    principal: 'billing-worker',
    roles: ['auditor', 'teller'],
    onBehalfOf: 'alice@example.com',
    audience: 'ledger',
    method: '/ledger.v1.LedgerService/Transfer',
    nonce: NONCE,
    issuedAtMs: ISSUED_AT,
    bodyDigest: sha256(Buffer.from('request body')),
    credential: Buffer.from('macaroon'),
    ...overrides,
  };
}

/** The sample's fields written by hand (independently of encodeEnvelope), in field order. */
function sampleFields(env: Envelope = sample()) {
  return {
    version: varintField(1, env.version),
    keyId: lenField(2, env.keyId),
    principal: lenField(3, env.principal),
    roles: env.roles.map((r) => lenField(4, r)),
    onBehalfOf: lenField(5, env.onBehalfOf),
    audience: lenField(6, env.audience),
    method: lenField(7, env.method),
    nonce: lenField(8, env.nonce),
    issuedAt: varintField(9, env.issuedAtMs),
    bodyDigest: lenField(10, env.bodyDigest),
    credential: lenField(11, env.credential),
  };
}

type Fields = ReturnType<typeof sampleFields>;

/** Envelope bytes from the sample's fields, with some replaced, removed (null) or added. */
function build(change: Partial<Record<keyof Fields, Buffer | Buffer[] | null>> = {}, extra: Buffer[] = []): Buffer {
  const f: Record<string, Buffer | Buffer[] | null> = { ...sampleFields(), ...change };
  const order: (keyof Fields)[] = ['version', 'keyId', 'principal', 'roles', 'onBehalfOf', 'audience', 'method', 'nonce', 'issuedAt', 'bodyDigest', 'credential'];
  const parts: Buffer[] = [];
  for (const k of order) {
    const v = f[k];
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) parts.push(...v);
    else parts.push(v);
  }
  return Buffer.concat([...parts, ...extra]);
}

/** A comparable, printable form of an envelope. */
function norm(env: Envelope) {
  return {
    ...env,
    roles: [...env.roles],
    nonce: hex(env.nonce),
    bodyDigest: hex(env.bodyDigest),
    credential: hex(env.credential),
  };
}

function refusal(result: DecodeResult): string {
  return result.ok ? 'decoded' : result.reason;
}

/** decodeEnvelope, turning a throw (which must never happen) into a test failure naming the input. */
function decodeNoThrow(bytes: Uint8Array, limits = DEFAULT_ENVELOPE_LIMITS): DecodeResult {
  try {
    return decodeEnvelope(bytes, limits);
  } catch (err) {
    throw new Error(`decodeEnvelope threw on ${hex(bytes)}: ${String(err)}`);
  }
}

describe('encodeEnvelope writes the canonical encoding (spec §3.2)', () => {
  it('a minimal envelope encodes to exactly the expected bytes', () => {
    const env = sample({
      keyId: 'k',
      principal: 'p',
      roles: ['r'],
      onBehalfOf: '',
      audience: 'a',
      method: '/s/m',
      issuedAtMs: 1,
      bodyDigest: new Uint8Array(0),
      credential: new Uint8Array(0),
    });
    const expected = '0801' + '12016b' + '1a0170' + '220172' + '320161' + '3a042f732f6d' + '4210' + hex(NONCE) + '4801';
    expect(hex(encodeEnvelope(env))).to.equal(expected);
  });

  it('writes every field in field-number order, one entry per role', () => {
    expect(hex(encodeEnvelope(sample()))).to.equal(hex(build()));
  });

  it('omits the optional fields when they are empty (on_behalf_of, body_digest, credential)', () => {
    const env = sample({ onBehalfOf: '', bodyDigest: new Uint8Array(0), credential: new Uint8Array(0) });
    expect(hex(encodeEnvelope(env))).to.equal(hex(build({ onBehalfOf: null, bodyDigest: null, credential: null })));
  });

  it('writes issued_at_ms as a minimal varint up to 2^53 - 1', () => {
    const env = sample({ issuedAtMs: Number.MAX_SAFE_INTEGER });
    const bytes = encodeEnvelope(env);
    expect(hex(bytes)).to.equal(hex(build({ issuedAt: Buffer.concat([Buffer.of(0x48), varint(Number.MAX_SAFE_INTEGER)]) })));
    expect(norm((decodeEnvelope(bytes) as { envelope: Envelope }).envelope)).to.deep.equal(norm(env));
  });

  it('re-encoding a decoded canonical envelope gives back the same bytes', () => {
    const bytes = encodeEnvelope(sample());
    const decoded = decodeEnvelope(bytes);
    expect(decoded.ok).to.equal(true);
    expect(hex(encodeEnvelope((decoded as { envelope: Envelope }).envelope))).to.equal(hex(bytes));
  });
});

describe('decodeEnvelope(encodeEnvelope(e)) gives back e', () => {
  const cases: [string, Envelope][] = [
    ['every field set', sample()],
    ['no optional field', sample({ roles: [], onBehalfOf: '', bodyDigest: new Uint8Array(0), credential: new Uint8Array(0) })],
    ['non-ASCII strings', sample({ principal: 'zürich-batch', onBehalfOf: 'Ωmega 😀', roles: ['ﬁnance', '😀'] })],
    ['fields at their bounds', sample({
      keyId: 'k'.repeat(256),
      principal: 'p'.repeat(256),
      roles: Array.from({ length: 16 }, (_, i) => String.fromCharCode(97 + i).repeat(256)),
      audience: 'a'.repeat(256),
      method: '/' + 'm'.repeat(511),
      credential: Buffer.alloc(100, 7),
    })],
  ];
  for (const [name, env] of cases) {
    it(`round-trips: ${name}`, () => {
      const bytes = encodeEnvelope(env);
      const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxEnvelopeBytes: Math.max(bytes.length, DEFAULT_ENVELOPE_LIMITS.maxEnvelopeBytes) };
      const decoded = decodeEnvelope(bytes, limits);
      expect(refusal(decoded)).to.equal('decoded');
      expect(norm((decoded as { envelope: Envelope }).envelope)).to.deep.equal(norm(env));
    });
  }

  it('decodes an envelope that sits at an offset inside a larger buffer', () => {
    const bytes = encodeEnvelope(sample());
    const big = Buffer.concat([Buffer.alloc(13, 0xee), bytes, Buffer.alloc(5, 0xee)]);
    const decoded = decodeEnvelope(big.subarray(13, 13 + bytes.length));
    expect(norm((decoded as { envelope: Envelope }).envelope)).to.deep.equal(norm(sample()));
  });
});

describe('canonical role order is by UTF-8 bytes, not by UTF-16 code units or locale', () => {
  // U+FB01 is EF AC 81 in UTF-8, U+1F600 is F0 9F 98 80; in UTF-16 the emoji (D83D..) sorts first.
  it('canonicalRoles sorts by bytes and removes duplicates', () => {
    expect(canonicalRoles(['😀', 'ﬁ', 'b', 'B', 'b'])).to.deep.equal(['B', 'b', 'ﬁ', '😀']);
  });

  it('canonicalRoles refuses an empty role', () => {
    expect(() => canonicalRoles(['a', ''])).to.throw(RangeError);
  });

  it('the decoder accepts byte order and refuses UTF-16 order', () => {
    expect(refusal(decodeEnvelope(build({ roles: [lenField(4, 'ﬁ'), lenField(4, '😀')] })))).to.equal('decoded');
    expect(refusal(decodeEnvelope(build({ roles: [lenField(4, '😀'), lenField(4, 'ﬁ')] })))).to.equal('malformed_envelope');
  });
});

describe('decodeEnvelope refuses malformed envelopes as values, with the right reason', () => {
  const cases: [string, Buffer, string][] = [
    // Unknown fields.
    ['an unknown field number (12)', build({}, [lenField(12, 'x')]), 'malformed_envelope'],
    ['an unknown varint field (15)', build({}, [varintField(15, 1)]), 'malformed_envelope'],
    ['field 536870911 (the stream-trailer field)', build({}, [lenField(536870911, Buffer.alloc(33))]), 'malformed_envelope'],
    ['field number 0', build({}, [Buffer.of(0x02, 0x00)]), 'malformed_envelope'],
    // Wrong wire types.
    ['key_id as a varint', build({ keyId: varintField(2, 5) }), 'malformed_envelope'],
    ['version as length-delimited', build({ version: lenField(1, Buffer.of(1)) }), 'malformed_envelope'],
    ['issued_at_ms as length-delimited', build({ issuedAt: lenField(9, varint(ISSUED_AT)) }), 'malformed_envelope'],
    ['nonce as fixed64 (wire type 1)', build({ nonce: Buffer.concat([Buffer.of(0x41), NONCE.subarray(0, 8)]) }), 'malformed_envelope'],
    ['issued_at_ms as fixed32 (wire type 5)', build({ issuedAt: Buffer.of(0x4d, 1, 2, 3, 4) }), 'malformed_envelope'],
    ['a group (wire type 3)', build({}, [Buffer.of(0x5b)]), 'malformed_envelope'],
    // Singular fields repeated, even with the same value.
    ['version twice', build({ version: [varintField(1, 1), varintField(1, 1)] }), 'malformed_envelope'],
    ['key_id twice', build({ keyId: [lenField(2, 'k2025-01'), lenField(2, 'k2025-01')] }), 'malformed_envelope'],
    ['principal twice', build({}, [lenField(3, 'billing-worker')]), 'malformed_envelope'],
    ['on_behalf_of twice', build({}, [lenField(5, 'mallory')]), 'malformed_envelope'],
    ['audience twice', build({}, [lenField(6, 'ledger')]), 'malformed_envelope'],
    ['method twice', build({}, [lenField(7, '/ledger.v1.LedgerService/Transfer')]), 'malformed_envelope'],
    ['nonce twice', build({}, [lenField(8, NONCE)]), 'malformed_envelope'],
    ['issued_at_ms twice', build({}, [varintField(9, ISSUED_AT)]), 'malformed_envelope'],
    ['body_digest twice', build({}, [lenField(10, sha256(Buffer.from('request body')))]), 'malformed_envelope'],
    ['credential twice', build({}, [lenField(11, 'macaroon')]), 'malformed_envelope'],
    // Roles not canonical.
    ['roles out of order', build({ roles: [lenField(4, 'teller'), lenField(4, 'auditor')] }), 'malformed_envelope'],
    ['roles out of byte order (b before B)', build({ roles: [lenField(4, 'b'), lenField(4, 'B')] }), 'malformed_envelope'],
    ['a duplicated role', build({ roles: [lenField(4, 'auditor'), lenField(4, 'auditor')] }), 'malformed_envelope'],
    ['an empty role', build({ roles: [lenField(4, '')] }), 'malformed_envelope'],
    ['an empty role after a valid one', build({ roles: [lenField(4, 'auditor'), lenField(4, '')] }), 'malformed_envelope'],
    ['17 roles (more than maxRoles)', build({ roles: Array.from({ length: 17 }, (_, i) => lenField(4, `r${String(i).padStart(2, '0')}`)) }), 'malformed_envelope'],
    // Nonce and digest sizes.
    ['a 15-byte nonce', build({ nonce: lenField(8, NONCE.subarray(0, 15)) }), 'malformed_envelope'],
    ['a 17-byte nonce', build({ nonce: lenField(8, Buffer.concat([NONCE, Buffer.of(0)])) }), 'malformed_envelope'],
    ['an explicitly empty nonce', build({ nonce: lenField(8, Buffer.alloc(0)) }), 'malformed_envelope'],
    ['a 31-byte body digest', build({ bodyDigest: lenField(10, Buffer.alloc(31, 1)) }), 'malformed_envelope'],
    ['a 33-byte body digest', build({ bodyDigest: lenField(10, Buffer.alloc(33, 1)) }), 'malformed_envelope'],
    ['a 1-byte body digest', build({ bodyDigest: lenField(10, Buffer.alloc(1, 1)) }), 'malformed_envelope'],
    // Invalid UTF-8.
    ['key_id with a 0xFF byte', build({ keyId: lenField(2, Buffer.of(0x6b, 0xff)) }), 'malformed_envelope'],
    ['principal with an over-long encoding of "/"', build({ principal: lenField(3, Buffer.of(0xc0, 0xaf)) }), 'malformed_envelope'],
    ['a role holding a UTF-16 surrogate (ED A0 80)', build({ roles: [lenField(4, Buffer.of(0xed, 0xa0, 0x80))] }), 'malformed_envelope'],
    ['method cut inside a multi-byte character', build({ method: lenField(7, Buffer.of(0x2f, 0xe2, 0x82)) }), 'malformed_envelope'],
    ['on_behalf_of with a lone continuation byte', build({ onBehalfOf: lenField(5, Buffer.of(0x61, 0x80)) }), 'malformed_envelope'],
    ['audience with a code point above U+10FFFF', build({ audience: lenField(6, Buffer.of(0xf4, 0x90, 0x80, 0x80)) }), 'malformed_envelope'],
    // Truncation and lengths past the end.
    ['input cut inside the credential', build().subarray(0, build().length - 3), 'malformed_envelope'],
    ['input cut after a field key', Buffer.concat([build({ credential: null }), Buffer.of(0x5a)]), 'malformed_envelope'],
    ['input cut inside a varint', Buffer.concat([build({ issuedAt: null, bodyDigest: null, credential: null }), Buffer.of(0x48, 0x80)]), 'malformed_envelope'],
    ['a length running past the end', build({ credential: Buffer.concat([Buffer.of(0x5a), varint(100), Buffer.from('short')]) }), 'malformed_envelope'],
    // Over-long varints.
    ['an over-long varint value (issued_at 1 as 81 00)', build({ issuedAt: Buffer.of(0x48, 0x81, 0x00) }), 'malformed_envelope'],
    ['an over-long field key (88 00 for field 1)', build({ version: Buffer.of(0x88, 0x00, 0x01) }), 'malformed_envelope'],
    ['an over-long length prefix', build({ credential: Buffer.concat([Buffer.of(0x5a, 0x88, 0x00), Buffer.from('macaroon')]) }), 'malformed_envelope'],
    ['a 10-byte varint (uint64 max)', build({ issuedAt: Buffer.concat([Buffer.of(0x48), Buffer.alloc(9, 0xff), Buffer.of(0x01)]) }), 'malformed_envelope'],
    ['issued_at_ms above 2^53', build({ issuedAt: Buffer.concat([Buffer.of(0x48), varint(2 ** 54)]) }), 'malformed_envelope'],
    // Field bounds.
    ['a 257-byte key_id', build({ keyId: lenField(2, 'k'.repeat(257)) }), 'malformed_envelope'],
    ['a 257-byte principal', build({ principal: lenField(3, 'p'.repeat(257)) }), 'malformed_envelope'],
    ['a 257-byte role', build({ roles: [lenField(4, 'r'.repeat(257))] }), 'malformed_envelope'],
    ['a 257-byte on_behalf_of', build({ onBehalfOf: lenField(5, 'u'.repeat(257)) }), 'malformed_envelope'],
    ['a 257-byte audience', build({ audience: lenField(6, 'a'.repeat(257)) }), 'malformed_envelope'],
    ['a 513-byte method', build({ method: lenField(7, '/' + 'm'.repeat(512)) }), 'malformed_envelope'],
    ['a 3073-byte credential', build({ credential: lenField(11, Buffer.alloc(3073, 1)) }), 'malformed_envelope'],
    // Size and version.
    ['4097 bytes of anything', Buffer.alloc(4097, 0x08), 'oversized_envelope'],
    ['a well-formed envelope above 4096 bytes', build({ roles: Array.from({ length: 16 }, (_, i) => lenField(4, String.fromCharCode(97 + i).repeat(256))) }), 'oversized_envelope'],
    ['version 2', build({ version: varintField(1, 2) }), 'unsupported_version'],
    ['version 0 written out', build({ version: Buffer.of(0x08, 0x00) }), 'unsupported_version'],
    ['no version', build({ version: null }), 'unsupported_version'],
    // Missing required fields.
    ['no key_id', build({ keyId: null }), 'malformed_envelope'],
    ['an empty key_id written out', build({ keyId: lenField(2, '') }), 'malformed_envelope'],
    ['no principal', build({ principal: null }), 'malformed_envelope'],
    ['no audience', build({ audience: null }), 'malformed_envelope'],
    ['no method', build({ method: null }), 'malformed_envelope'],
    ['no nonce', build({ nonce: null }), 'malformed_envelope'],
    ['no issued_at_ms', build({ issuedAt: null }), 'malformed_envelope'],
    ['issued_at_ms 0 written out', build({ issuedAt: Buffer.of(0x48, 0x00) }), 'malformed_envelope'],
    ['no bytes at all', Buffer.alloc(0), 'unsupported_version'],
  ];

  it('the hand-built sample itself decodes (so each refusal below is caused by its one change)', () => {
    expect(norm((decodeEnvelope(build()) as { envelope: Envelope }).envelope)).to.deep.equal(norm(sample()));
  });

  for (const [name, bytes, reason] of cases) {
    it(`${name}: ${reason}`, () => {
      expect(refusal(decodeNoThrow(bytes))).to.equal(reason);
    });
  }

  it('accepts body digests of exactly 0 (omitted or written out empty) and 32 bytes', () => {
    expect(refusal(decodeEnvelope(build({ bodyDigest: null })))).to.equal('decoded');
    expect(refusal(decodeEnvelope(build({ bodyDigest: lenField(10, Buffer.alloc(0)) })))).to.equal('decoded');
    expect(refusal(decodeEnvelope(build({ bodyDigest: lenField(10, Buffer.alloc(32, 9)) })))).to.equal('decoded');
  });

  it('accepts every field at its bound and refuses one byte more (custom maxEnvelopeBytes)', () => {
    const bytes = build();
    expect(refusal(decodeEnvelope(bytes, { ...DEFAULT_ENVELOPE_LIMITS, maxEnvelopeBytes: bytes.length }))).to.equal('decoded');
    expect(refusal(decodeEnvelope(bytes, { ...DEFAULT_ENVELOPE_LIMITS, maxEnvelopeBytes: bytes.length - 1 }))).to.equal('oversized_envelope');
    expect(refusal(decodeEnvelope(build({ credential: lenField(11, Buffer.alloc(3072, 1)) })))).to.equal('decoded');
    expect(refusal(decodeEnvelope(build({ method: lenField(7, '/' + 'm'.repeat(511)) })))).to.equal('decoded');
    expect(refusal(decodeEnvelope(build({ keyId: lenField(2, 'k'.repeat(256)) })))).to.equal('decoded');
  });
});

describe('no single-byte change or truncation of an envelope goes unnoticed', () => {
  const original = encodeEnvelope(sample());
  const key = (env: Envelope) => JSON.stringify(norm(env));
  const originalKey = key(sample());

  it('every single-byte change either fails to decode or decodes to a different envelope', () => {
    let decodedDifferently = 0;
    const unnoticed: string[] = [];
    for (let i = 0; i < original.length; i++) {
      for (let v = 0; v < 256; v++) {
        if (v === original[i]) continue;
        const changed = Buffer.from(original);
        changed[i] = v;
        const result = decodeNoThrow(changed);
        if (!result.ok) continue;
        decodedDifferently++;
        if (key(result.envelope) === originalKey) unnoticed.push(`byte ${i} set to ${v}`);
      }
    }
    expect(unnoticed).to.deep.equal([]);
    expect(decodedDifferently).to.be.greaterThan(0); // the property was really exercised
  });

  it('every truncation either fails to decode or decodes to a different envelope', () => {
    const unnoticed: number[] = [];
    for (let n = 0; n < original.length; n++) {
      const result = decodeNoThrow(original.subarray(0, n));
      if (result.ok && key(result.envelope) === originalKey) unnoticed.push(n);
    }
    expect(unnoticed).to.deep.equal([]);
  });
});

describe('decodeEnvelope never throws', () => {
  const reasons = ['malformed_envelope', 'oversized_envelope', 'unsupported_version'];

  it('on 10,000 random byte strings (seeded, repeatable)', () => {
    const rng = new Prng(0x5eed0001);
    for (let i = 0; i < 10_000; i++) {
      const bytes = rng.bytes(rng.below(i % 100 === 0 ? 5000 : 300));
      const result = decodeNoThrow(bytes);
      if (!result.ok && !reasons.includes(result.reason)) throw new Error(`unexpected reason ${result.reason}`);
    }
  });

  it('on 10,000 random mutations of a valid envelope (seeded, repeatable)', () => {
    const rng = new Prng(0x5eed0002);
    const original = encodeEnvelope(sample());
    for (let i = 0; i < 10_000; i++) {
      let bytes = Buffer.from(original);
      for (let k = 1 + rng.below(4); k > 0; k--) {
        const at = rng.below(bytes.length + 1);
        switch (rng.below(3)) {
          case 0: // overwrite
            if (at < bytes.length) bytes[at] = rng.below(256);
            break;
          case 1: // insert
            bytes = Buffer.concat([bytes.subarray(0, at), rng.bytes(1 + rng.below(3)), bytes.subarray(at)]);
            break;
          default: // delete
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + rng.below(3))]);
        }
      }
      const result = decodeNoThrow(bytes);
      if (!result.ok && !reasons.includes(result.reason)) throw new Error(`unexpected reason ${result.reason}`);
    }
  });
});
