// The macaroon parsers (src/macaroon/: parseMacaroon for text, parseMacaroonBytes for bytes;
// V1 packets, V2 binary, V2 JSON) under generated input: generated macaroons round-trip in
// every format; mutations, random bytes and JSON objects never make a parser throw; what a
// parser accepts is within the limits it was given; V2 binary is read only in its one
// canonical form; and no mutation of a minted macaroon that still verifies changed anything
// its signature covers.
import { expect } from 'chai';
import * as fc from 'fast-check';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  DEFAULT_MACAROON_LIMITS,
  Macaroon,
  MacaroonLimits,
  MacaroonParseResult,
  mintMacaroon,
  parseMacaroon,
  parseMacaroonBytes,
  serializeMacaroon,
  serializeMacaroonBinary,
  verifyMacaroon,
  type Caveat,
} from '../../src/macaroon/index';
import { checkMacaroonBounds } from './credential.fuzz';
import { hex, holds, must, mutantOf, noThrow } from './support';

const REASONS = new Set(['macaroon_malformed', 'macaroon_oversized']);

const locationArb = fc.oneof(fc.string({ minLength: 1, maxLength: 16 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }));
const fieldArb = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 24 }).map((s) => Buffer.from(s, 'utf8')));

/** Any structurally valid macaroon (its signature arbitrary: parsing does not verify). */
const macaroonArb: fc.Arbitrary<Macaroon> = fc
  .record({
    location: fc.option(locationArb, { nil: undefined }),
    identifier: fieldArb,
    caveats: fc.array(
      fc.oneof(
        fieldArb.map((identifier): Caveat => ({ identifier })),
        fc.record({ identifier: fieldArb, verificationId: fc.uint8Array({ minLength: 1, maxLength: 80 }), location: fc.option(locationArb, { nil: undefined }) }).map(
          (c): Caveat => (c.location === undefined ? { identifier: c.identifier, verificationId: c.verificationId } : c),
        ),
      ),
      { maxLength: 6 },
    ),
    signature: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  })
  .map((m) => (m.location === undefined ? { identifier: m.identifier, caveats: m.caveats, signature: m.signature } : m));

const limitsArb: fc.Arbitrary<MacaroonLimits> = fc.oneof(
  fc.constant(DEFAULT_MACAROON_LIMITS),
  fc.record({
    maxBytes: fc.integer({ min: 0, max: 700 }),
    maxFieldBytes: fc.integer({ min: 0, max: 48 }),
    maxCaveats: fc.integer({ min: 0, max: 6 }),
    maxDischarges: fc.integer({ min: 0, max: 4 }),
  }),
);

/** The decoded forms a token arrives in: V2 binary, V1 packets, JSON text. */
function encodings(m: Macaroon): Buffer[] {
  return [serializeMacaroonBinary(m), Buffer.from(serializeMacaroon(m, 'v1'), 'base64url'), Buffer.from(serializeMacaroon(m, 'v2json'), 'utf8')];
}

/** A parse result's shape, and an accepted macaroon's bounds; returns the macaroon or undefined. */
function checked(r: MacaroonParseResult, input: Uint8Array | string, limits: MacaroonLimits): Macaroon | undefined {
  const where = () => (typeof input === 'string' ? JSON.stringify(input) : hex(input));
  if (!r.ok) {
    must(REASONS.has(r.reason) && typeof r.detail === 'string', () => `${r.reason} for ${where()}`);
    return undefined;
  }
  checkMacaroonBounds(r.macaroon, where, limits);
  // Whatever was read, its V2 form reads back as the same macaroon.
  const v2 = serializeMacaroonBinary(r.macaroon);
  const again = parseMacaroonBytes(v2, DEFAULT_MACAROON_LIMITS);
  must(again.ok && serializeMacaroonBinary(again.macaroon).equals(v2), () => `V2 re-read of ${where()}`);
  return r.macaroon;
}

function parseBytesChecked(bytes: Uint8Array, limits: MacaroonLimits): void {
  const m = checked(noThrow('parseMacaroonBytes', bytes, () => parseMacaroonBytes(bytes, limits)), bytes, limits);
  // V2 binary has one encoding per macaroon: an accepted V2 token is exactly its re-encoding.
  if (m !== undefined && bytes[0] === 0x02) must(serializeMacaroonBinary(m).equals(bytes), () => `non-canonical V2 accepted: ${hex(bytes)}`);
}

function parseTextChecked(text: string, limits: MacaroonLimits): void {
  checked(noThrow('parseMacaroon', text, () => parseMacaroon(text, limits)), text, limits);
}

// ------------------------------------------------------------------ minted, verifiable tokens

const ROOT_KEY = Buffer.alloc(32, 0x52);
const TP_KEY = Buffer.alloc(32, 0x54);
const allow = () => true;

function minted(n: number): { root: Macaroon; discharges: Macaroon[] } {
  let root = mintMacaroon({ rootKey: ROOT_KEY, identifier: `root-${n}`, location: n % 2 ? 'https://svc' : undefined });
  for (let i = 0; i <= n % 4; i++) root = addFirstPartyCaveat(root, `p${i} ${n * 7 + i}`);
  if (n % 3 === 0) return { root, discharges: [] };
  root = addThirdPartyCaveat(root, { caveatKey: TP_KEY, caveatId: `tp-${n}`, location: 'https://auth' });
  const discharge = addFirstPartyCaveat(mintMacaroon({ rootKey: TP_KEY, identifier: `tp-${n}` }), 'time < 2030');
  return { root, discharges: [bindForRequest(root, discharge)] };
}

/** Everything a signature covers: identifiers and verification ids, not locations. */
const signedPart = (m: Macaroon) => [hex(m.identifier), ...m.caveats.map((c) => `${hex(c.identifier)}/${c.verificationId === undefined ? '' : hex(c.verificationId)}`)].join(' ');

export function macaroonProperties(): void {
  describe('macaroon parsers under generated input (V1, V2 binary, V2 JSON)', () => {
    it('generated macaroons round-trip through every format, as text and as bytes', () => {
      holds(macaroonArb, 1_500, (m) => {
        const want = hex(serializeMacaroonBinary(m));
        for (const format of ['v1', 'v2', 'v2json'] as const) {
          const text = serializeMacaroon(m, format);
          const fromText = parseMacaroon(text);
          expect(fromText.ok && hex(serializeMacaroonBinary(fromText.macaroon)), `${format} text ${text}`).to.equal(want);
        }
        for (const bytes of encodings(m)) {
          const fromBytes = parseMacaroonBytes(bytes);
          expect(fromBytes.ok && hex(serializeMacaroonBinary(fromBytes.macaroon)), `bytes ${hex(bytes)}`).to.equal(want);
        }
      });
    });

    const tokens = Array.from({ length: 24 }, (_, n) => minted(n));
    const pool = tokens.flatMap((t) => [...encodings(t.root), ...t.discharges.flatMap(encodings)]);

    it('mutations and splices of serialized tokens (bytes), under default and small limits', () => {
      holds(fc.tuple(mutantOf(pool), limitsArb), 10_000, ([m, limits]) => parseBytesChecked(m.bytes, limits));
    });

    it('mutations of tokens as text (base64 of V1 and V2, JSON), under default and small limits', () => {
      const texts = tokens.flatMap((t) => [serializeMacaroon(t.root, 'v1'), serializeMacaroon(t.root, 'v2'), serializeMacaroon(t.root, 'v2json')]);
      const textPool = texts.map((t) => Buffer.from(t, 'latin1'));
      holds(fc.tuple(mutantOf(textPool), limitsArb, fc.boolean()), 5_000, ([m, limits, padded]) => {
        const text = m.bytes.toString('latin1');
        parseTextChecked(padded && text.length % 4 !== 0 ? text + '='.repeat(4 - (text.length % 4)) : text, limits);
      });
    });

    it('random bytes reaching each parser (leading 0x02, a hex digit, or "{")', () => {
      const lead = fc.constantFrom(0x02, 0x30, 0x61, 0x7b);
      holds(fc.tuple(lead, fc.uint8Array({ maxLength: 120 }), limitsArb), 3_000, ([first, rest, limits]) => parseBytesChecked(Uint8Array.from([first, ...rest]), limits));
    });

    it('JSON objects with the format\'s field names and any values', () => {
      const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.base64String({ maxLength: 48 }), fc.string({ maxLength: 12 }), fc.constant(2));
      const caveat = fc.dictionary(fc.constantFrom('i', 'i64', 'v', 'v64', 'l', 'x'), value, { maxKeys: 4 });
      const top = fc.dictionary(fc.constantFrom('v', 'l', 'i', 'i64', 'c', 's', 's64', 'x'), fc.oneof({ weight: 3, arbitrary: value }, { weight: 1, arbitrary: fc.array(caveat, { maxLength: 4 }) }), { maxKeys: 7 });
      holds(fc.tuple(top, limitsArb), 3_000, ([obj, limits]) => parseTextChecked(JSON.stringify(obj), limits));
    });

    it('no mutation or splice of minted tokens that still verifies changed what a signature covers', () => {
      const genuine = new Set(tokens.map((t) => signedPart(t.root)));
      const roots = tokens.flatMap((t) => encodings(t.root));
      holds(mutantOf(roots), 4_000, (m) => {
        const p = parseMacaroonBytes(m.bytes);
        if (!p.ok) return;
        // Every token's discharges: a mutation may pair with any of them.
        for (const t of tokens) {
          if (!verifyMacaroon(p.macaroon, ROOT_KEY, t.discharges, allow).ok) continue;
          expect(genuine.has(signedPart(p.macaroon)), `verified after mutation (${m.from}): ${hex(m.bytes)}`).to.equal(true);
        }
      });
    });
  });
}
