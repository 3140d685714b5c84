// Every way a token can break its format's rules is refused with a stable reason, never a
// throw, and the refusal names no token bytes.
import { expect } from 'chai';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  mintMacaroon,
  parseMacaroon,
  parseMacaroonBytes,
  serializeMacaroon,
  serializeMacaroonBinary,
  type MacaroonReason,
} from '../../src/macaroon/index.js';
import { encodePacketsV1 } from '../../src/macaroon/text-v1.js';
import { utf8 } from './support.js';

const KEY = Buffer.alloc(32, 7);
const base = mintMacaroon({ rootKey: KEY, identifier: 'id-1', location: 'https://svc' });
const withCaveats = addThirdPartyCaveat(addFirstPartyCaveat(base, 'user = alice'), { caveatKey: Buffer.alloc(32, 9), caveatId: 'tp-1', location: 'https://auth' });

function refusedBytes(bytes: Uint8Array, reason: MacaroonReason = 'macaroon_malformed'): void {
  const r = parseMacaroonBytes(bytes);
  expect(r, 'bytes').to.include({ ok: false, reason });
  const t = parseMacaroon(Buffer.from(bytes).toString('base64url'));
  if (bytes[0] !== 0x7b) expect(t, 'base64url text').to.include({ ok: false, reason });
}
function refusedText(token: string, reason: MacaroonReason = 'macaroon_malformed'): void {
  expect(parseMacaroon(token)).to.include({ ok: false, reason });
}

// V2 binary building blocks: version, field(type, bytes), EOS.
const f = (type: number, data: Uint8Array | string) => {
  const d = typeof data === 'string' ? utf8(data) : Buffer.from(data);
  return Buffer.concat([Buffer.of(type, d.length), d]);
};
const EOS = Buffer.of(0);
const SIG = f(6, Buffer.alloc(32, 1));
const v2 = (...parts: Buffer[]) => Buffer.concat([Buffer.of(2), ...parts]);

describe('macaroon: V2 binary is parsed strictly', () => {
  it('a well-formed hand-built token parses (the baseline for the cases below)', () => {
    expect(parseMacaroonBytes(v2(f(1, 'loc'), f(2, 'id'), EOS, f(2, 'pred'), EOS, EOS, SIG))).to.include({ ok: true });
  });
  it('fields out of order are refused', () => {
    refusedBytes(v2(f(2, 'id'), f(1, 'loc'), EOS, EOS, SIG));
    refusedBytes(v2(f(2, 'id'), EOS, f(4, Buffer.alloc(72)), f(2, 'tp'), EOS, EOS, SIG));
  });
  it('a field twice in one section is refused', () => refusedBytes(v2(f(2, 'id'), f(2, 'id'), EOS, EOS, SIG)));
  it('a location on a first-party caveat is refused', () => refusedBytes(v2(f(2, 'id'), EOS, f(1, 'loc'), f(2, 'pred'), EOS, EOS, SIG)));
  it('an empty location field is refused (absent is written by omitting it)', () => refusedBytes(v2(f(1, ''), f(2, 'id'), EOS, EOS, SIG)));
  it('an unknown field type is refused', () => {
    refusedBytes(v2(f(2, 'id'), f(3, 'x'), EOS, EOS, SIG));
    refusedBytes(v2(f(2, 'id'), EOS, f(2, 'pred'), f(5, 'x'), EOS, EOS, SIG));
  });
  it('a missing identifier is refused, in the header and in a caveat', () => {
    refusedBytes(v2(f(1, 'loc'), EOS, EOS, SIG));
    refusedBytes(v2(f(2, 'id'), EOS, f(4, Buffer.alloc(72)), EOS, EOS, SIG));
  });
  it('an empty identifier or verification id is refused', () => {
    refusedBytes(v2(f(2, ''), EOS, EOS, SIG));
    refusedBytes(v2(f(2, 'id'), EOS, f(2, 'tp'), f(4, ''), EOS, EOS, SIG));
  });
  it('a signature that is not 32 bytes is refused', () => {
    refusedBytes(v2(f(2, 'id'), EOS, EOS, f(6, Buffer.alloc(31))));
    refusedBytes(v2(f(2, 'id'), EOS, EOS, f(6, Buffer.alloc(33))));
    refusedBytes(v2(f(2, 'id'), EOS, EOS));
  });
  it('trailing bytes after the signature are refused', () => refusedBytes(Buffer.concat([serializeMacaroonBinary(withCaveats), Buffer.of(0)])));
  it('a truncated token is refused at every length', () => {
    const bytes = serializeMacaroonBinary(withCaveats);
    for (let n = 0; n < bytes.length; n++) expect(parseMacaroonBytes(bytes.subarray(0, n)).ok, `length ${n}`).to.equal(false);
  });
  it('a non-minimal varint is refused (two encodings of one token)', () => {
    refusedBytes(v2(Buffer.of(0x82, 0x00, 2), utf8('id'), EOS, EOS, SIG));
    refusedBytes(v2(Buffer.of(2, 0x82, 0x00), utf8('id'), EOS, EOS, SIG));
  });
  it('a length past the end is refused', () => refusedBytes(v2(Buffer.of(2, 100), utf8('id'))));
  it('a non-UTF-8 location is refused', () => refusedBytes(v2(f(1, Buffer.of(0xff, 0xfe)), f(2, 'id'), EOS, EOS, SIG)));
});

describe('macaroon: every field, the caveat count and the token size are bounded', () => {
  it('a field beyond the bound is oversized', () => {
    expect(parseMacaroonBytes(v2(f(2, 'id'), EOS, EOS, SIG), { maxFieldBytes: 1 })).to.include({ ok: false, reason: 'macaroon_oversized' });
  });
  it('more caveats than the bound is oversized, in every format', () => {
    let m = base;
    for (let i = 0; i < 5; i++) m = addFirstPartyCaveat(m, `c${i}`);
    for (const fmt of ['v1', 'v2', 'v2json'] as const) {
      expect(parseMacaroon(serializeMacaroon(m, fmt), { maxCaveats: 4 }), fmt).to.include({ ok: false, reason: 'macaroon_oversized' });
      expect(parseMacaroon(serializeMacaroon(m, fmt), { maxCaveats: 5 }), fmt).to.include({ ok: true });
    }
  });
  it('a token beyond the byte bound is oversized before it is decoded', () => {
    refusedText('A'.repeat(200_000), 'macaroon_oversized');
    expect(parseMacaroonBytes(Buffer.alloc(70_000, 2))).to.include({ ok: false, reason: 'macaroon_oversized' });
  });
  it('the default caveat bound is 256: minting refuses the 257th (programming error, thrown)', () => {
    let m = base;
    for (let i = 0; i < 256; i++) m = addFirstPartyCaveat(m, `c${i}`);
    expect(() => addFirstPartyCaveat(m, 'one more')).to.throw(RangeError);
  });
});

describe('macaroon: V1 is parsed strictly', () => {
  const pkt = (key: string, value: Uint8Array | string) => {
    const v = typeof value === 'string' ? utf8(value) : Buffer.from(value);
    const size = 4 + key.length + 2 + v.length;
    return Buffer.concat([Buffer.from(size.toString(16).padStart(4, '0') + key + ' '), v, Buffer.from('\n')]);
  };
  const sig = pkt('signature', Buffer.alloc(32, 1));
  it('the baseline parses', () => expect(parseMacaroonBytes(Buffer.concat([pkt('location', 'l'), pkt('identifier', 'id'), pkt('cid', 'p'), sig]))).to.include({ ok: true }));
  it('fields out of order are refused', () => refusedBytes(Buffer.concat([pkt('identifier', 'id'), pkt('location', 'l'), sig])));
  it('a location (cl) on a first-party caveat is refused', () => refusedBytes(Buffer.concat([pkt('identifier', 'id'), pkt('cid', 'p'), pkt('cl', 'x'), sig])));
  it('an unknown key is refused', () => refusedBytes(Buffer.concat([pkt('identifier', 'id'), pkt('foo', 'x'), sig])));
  it('upper-case length digits are refused', () => {
    const bytes = Buffer.concat([pkt('identifier', 'id'.padEnd(15, 'x')), sig]);
    expect(bytes.subarray(0, 4).toString()).to.equal('001f');
    bytes.write('001F', 0);
    refusedBytes(bytes);
  });
  it('a packet not ending in a newline, or a short signature, is refused', () => {
    const bytes = Buffer.concat([pkt('identifier', 'id'), sig]);
    bytes[bytes.length - 1] = 0x20;
    refusedBytes(bytes);
    refusedBytes(Buffer.concat([pkt('identifier', 'id'), pkt('signature', Buffer.alloc(31))]));
  });
  it('trailing bytes are refused', () => refusedBytes(Buffer.concat([encodePacketsV1(withCaveats), pkt('cid', 'late')])));
});

describe('macaroon: V2 JSON is parsed strictly', () => {
  const good = JSON.parse(serializeMacaroon(withCaveats, 'v2json'));
  const text = (o: unknown) => JSON.stringify(o);
  it('the baseline parses', () => expect(parseMacaroon(text(good))).to.include({ ok: true }));
  it('both "i" and "i64" are refused, at the top and in a caveat', () => {
    refusedText(text({ ...good, i64: 'aWQtMQ' }));
    refusedText(text({ ...good, c: [{ i: 'user = alice', i64: 'dXNlciA9IGFsaWNl' }, good.c[1]] }));
  });
  it('both "s" and "s64" are refused', () => refusedText(text({ ...good, s: 'x' })));
  it('an unknown field is refused', () => {
    refusedText(text({ ...good, x: 1 }));
    refusedText(text({ ...good, c: [{ ...good.c[0], extra: true }, good.c[1]] }));
  });
  it('a duplicate key is refused (JSON.parse would keep the last)', () => refusedText(text(good).replace('"v":2', '"v":2,"i":"other"')));
  it('a location on a first-party caveat is refused', () => refusedText(text({ ...good, c: [{ ...good.c[0], l: 'x' }, good.c[1]] })));
  it('a signature that does not decode to 32 bytes is refused', () => {
    refusedText(text({ ...good, s64: Buffer.alloc(31).toString('base64url') }));
    refusedText(text({ ...good, s64: Buffer.alloc(33).toString('base64url') }));
  });
  it('wrong JSON types, null, a wrong version, bad base64 and trailing text are refused', () => {
    refusedText(text({ ...good, l: null }));
    refusedText(text({ ...good, c: {} }));
    refusedText(text({ ...good, v: 3 }));
    refusedText(text({ ...good, s64: good.s64 + '!' }));
    refusedText(text(good) + ' {}');
    refusedText(text([good]));
  });
  it('accepts what go-macaroon and pymacaroons write: no "v", standard base64 with padding', () => {
    const { v: _v, ...noVersion } = good;
    expect(parseMacaroon(text({ ...noVersion, s64: Buffer.from(withCaveats.signature).toString('base64') }))).to.include({ ok: true });
  });
});

describe('macaroon: the outer base64 is strict', () => {
  const token = serializeMacaroon(withCaveats, 'v2');
  it('characters outside the alphabet, a mix of alphabets, or bad padding are refused', () => {
    refusedText(token + '\n');
    refusedText(token.slice(0, 10) + ' ' + token.slice(10));
    refusedText('+' + token.slice(1).replace(/[A-Za-z0-9]/, '_'));
    refusedText(token + '===');
  });
  it('non-zero unused bits in the last character are refused (two texts, one token)', () => {
    // 32-byte signature: the V2 token's length mod 3 decides; find a token with unused bits.
    let t = token;
    let m = withCaveats;
    while (Buffer.from(t, 'base64url').length % 3 === 0) t = serializeMacaroon((m = addFirstPartyCaveat(m, 'x')), 'v2');
    const last = t[t.length - 1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) + 1]!;
    expect(parseMacaroon(t)).to.include({ ok: true });
    refusedText(t.slice(0, -1) + twin);
  });
  it('garbage of any kind is a refusal, not a throw', () => {
    for (const g of ['', '{', '{}', 'null', '[]', 'QA', 'AA', '!!!!', '\u0000', '{"i":"\\ud800","s64":""}']) expect(parseMacaroon(g).ok, JSON.stringify(g)).to.equal(false);
    for (const g of [Buffer.alloc(0), Buffer.of(2), Buffer.of(0x7b, 0xff), Buffer.of(0x30, 0x30, 0x30)]) expect(parseMacaroonBytes(g).ok).to.equal(false);
    expect(parseMacaroon(undefined as unknown as string).ok).to.equal(false);
  });
});

describe('macaroon: a refusal never carries a signature or key', () => {
  it('details are short fixed text', () => {
    const sigHex = Buffer.from(withCaveats.signature).toString('hex');
    const sig64 = Buffer.from(withCaveats.signature).toString('base64url');
    const good = JSON.parse(serializeMacaroon(withCaveats, 'v2json'));
    const bad = [parseMacaroon(JSON.stringify({ ...good, s: 'x' })), parseMacaroon(JSON.stringify({ ...good, zz: good.s64 })), parseMacaroonBytes(Buffer.concat([serializeMacaroonBinary(withCaveats), Buffer.of(1)]))];
    for (const r of bad) {
      expect(r.ok).to.equal(false);
      if (!r.ok) {
        expect(r.detail).not.to.contain(sigHex).and.not.to.contain(sig64);
        expect(r.detail.length).to.be.below(80);
      }
    }
  });
});
