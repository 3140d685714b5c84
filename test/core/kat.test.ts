// Known answers for the primitives (spec §2): the published RFC test vectors, run through
// the exact functions reqauth uses. The vectors live in test/vectors/ so other
// implementations can run the same files.
import { expect } from 'chai';
import { hkdfSync } from 'node:crypto';
import { hkdfSha256, hmacSha256, sha256 } from '../../src/crypto';
import { hex, loadVectors, Prng, unhex } from '../support/vectors';

interface HmacCase {
  name: string;
  section: string;
  key: string;
  data: string;
  truncate_bytes?: number;
  hmac_sha256: string;
}

interface HkdfCase {
  name: string;
  section: string;
  ikm: string;
  salt: string;
  info: string;
  length: number;
  okm: string;
}

const rfc4231 = loadVectors<{ source: string; cases: HmacCase[] }>('rfc4231.json');
const rfc5869 = loadVectors<{ source: string; cases: HkdfCase[] }>('rfc5869.json');

describe('HMAC-SHA256 reproduces every RFC 4231 test case', () => {
  it('the vector file names its source and holds all seven cases', () => {
    expect(rfc4231.source).to.match(/^RFC 4231\b/);
    expect(rfc4231.cases.map((c) => c.name)).to.deep.equal([1, 2, 3, 4, 5, 6, 7].map((n) => `Test Case ${n}`));
  });

  for (const c of rfc4231.cases) {
    const what = c.truncate_bytes ? ` (first ${c.truncate_bytes * 8} bits)` : '';
    it(`${c.name} (${c.section})${what}`, () => {
      const mac = hmacSha256(unhex(c.key), unhex(c.data));
      expect(mac.length).to.equal(32);
      const compared = c.truncate_bytes === undefined ? mac : mac.subarray(0, c.truncate_bytes);
      expect(hex(compared)).to.equal(c.hmac_sha256);
    });
  }

  it('gives the same MAC whether the data comes in one part or split into several', () => {
    const c = rfc4231.cases[6]!; // the long-data case
    const data = unhex(c.data);
    const parts = [data.subarray(0, 1), data.subarray(1, 64), data.subarray(64, 65), data.subarray(65)];
    expect(hex(hmacSha256(unhex(c.key), ...parts))).to.equal(c.hmac_sha256);
  });
});

describe('HKDF-SHA256 reproduces the RFC 5869 SHA-256 test cases (OKM)', () => {
  it('the vector file names its source and holds cases 1-3', () => {
    expect(rfc5869.source).to.match(/^RFC 5869\b/);
    expect(rfc5869.cases.map((c) => c.name)).to.deep.equal(['Test Case 1', 'Test Case 2', 'Test Case 3']);
  });

  for (const c of rfc5869.cases) {
    it(`${c.name} (${c.section}), L = ${c.length}`, () => {
      const okm = hkdfSha256(unhex(c.ikm), unhex(c.salt), unhex(c.info), c.length);
      expect(okm.length).to.equal(c.length);
      expect(hex(okm)).to.equal(c.okm);
    });
  }
});

describe('HKDF-SHA256 takes any info length the key hierarchy needs', () => {
  it('agrees with node:crypto hkdfSync on 300 random inputs within its 1024-byte info limit', () => {
    const rng = new Prng(0x4bdf);
    for (let n = 0; n < 300; n++) {
      const ikm = rng.bytes(1 + rng.below(80));
      const salt = rng.bytes(rng.below(3) === 0 ? 0 : 1 + rng.below(100));
      const info = rng.bytes(rng.below(1025));
      const length = 1 + rng.below(100);
      expect(hex(hkdfSha256(ikm, salt, info, length)), `case ${n}`).to.equal(Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex'));
    }
  });

  it('derives from a 3000-byte info (a principal with 16 long roles), where hkdfSync would throw', () => {
    // Expected value from Python's hmac module: HKDF(ikm = 0x0b * 32, salt = "", info = bytes(i % 256 for i < 3000), L = 64).
    const info = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    expect(hex(hkdfSha256(Buffer.alloc(32, 0x0b), new Uint8Array(0), info, 64))).to.equal(
      '379fc940ba9fc32fbf177a3db75303891b2844ee7aa9e857a2a8efdb53eda612f85dde5805c9cdd799426c5dd90afa0f993e512db4c25fe705cc9d4bf25b8c24',
    );
  });

  it('refuses output lengths RFC 5869 does not allow (above 255 * 32 bytes)', () => {
    expect(hkdfSha256(Buffer.alloc(32), new Uint8Array(0), new Uint8Array(0), 255 * 32)).to.have.length(8160);
    expect(() => hkdfSha256(Buffer.alloc(32), new Uint8Array(0), new Uint8Array(0), 255 * 32 + 1)).to.throw(RangeError);
  });
});

describe('SHA-256 is plain FIPS 180-4 SHA-256 (spec §2: the digest has no label)', () => {
  it('hashes "abc" and the empty string to the published values', () => {
    expect(hex(sha256(Buffer.from('abc')))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(new Uint8Array(0)))).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
