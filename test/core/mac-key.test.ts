// MacKey (src/crypto.ts) computes HMAC-SHA256 from padded blocks it keeps, in scratch space
// shared by every key and reused from one MAC to the next: its MACs must be node:crypto's
// createHmac's whatever the order of keys, lengths and entry points (mac, writeMac,
// writeMacOf, verify, verifyOf), and the RFC 4231 answers for every key it takes.
import { expect } from 'chai';
import { createHmac, randomBytes } from 'node:crypto';
import { MacKey } from '../../src/crypto';
import { loadVectors, unhex } from '../support/vectors';

interface HmacCase {
  name: string;
  key: string;
  data: string;
  hmac_sha256: string;
  truncate_bytes?: number;
}

const reference = (key: Uint8Array, ...parts: Uint8Array[]) => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

describe('MacKey: HMAC-SHA256 from kept pads and shared scratch space', () => {
  it('reproduces the RFC 4231 cases whose key it takes (at most 64 bytes)', () => {
    const cases = loadVectors<{ cases: HmacCase[] }>('rfc4231.json').cases.filter((c) => c.key.length <= 128);
    expect(cases.length).to.be.at.least(5);
    for (const c of cases) {
      const mac = new MacKey(unhex(c.key)).mac(unhex(c.data));
      expect(mac.subarray(0, c.truncate_bytes ?? 32).toString('hex'), c.name).to.equal(c.hmac_sha256);
    }
  });

  it('matches createHmac over interleaved keys, lengths and entry points, short and long inputs', () => {
    const keys = [randomBytes(32), randomBytes(1), randomBytes(64), Buffer.alloc(0)].map((k) => ({ raw: k, mac: new MacKey(k) }));
    const out = Buffer.alloc(40);
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 600; i++) {
      const k = keys[next(keys.length)]!;
      // Mostly repeated lengths (the reused view), sometimes new ones, now and then past the
      // one-shot limit (the streaming path).
      const length = [0, 1, 55, 56, 64, 150, 150, 150, 4032, 4096, 5000][next(11)]!;
      const data = randomBytes(length);
      const cut = next(length + 1);
      const parts = [data.subarray(0, cut), data.subarray(cut)];
      const want = reference(k.raw, ...parts);
      switch (next(5)) {
        case 0:
          expect(k.mac.mac(...parts).equals(want), `mac ${i}`).to.equal(true);
          break;
        case 1:
          k.mac.writeMac(out, ...parts);
          expect(out.subarray(0, 32).equals(want), `writeMac ${i}`).to.equal(true);
          break;
        case 2: {
          const at = next(9);
          k.mac.writeMacOf(out, at, parts);
          expect(out.subarray(at, at + 32).equals(want), `writeMacOf ${i}`).to.equal(true);
          break;
        }
        case 3:
          expect(k.mac.verify(want, ...parts), `verify ${i}`).to.equal(true);
          break;
        default: {
          const wrong = Buffer.from(want);
          wrong[next(32)]! ^= 1 << next(8);
          expect(k.mac.verifyOf(wrong, parts), `verifyOf refuses ${i}`).to.equal(false);
          expect(k.mac.verifyOf(want, parts), `verifyOf ${i}`).to.equal(true);
        }
      }
    }
  });
});
