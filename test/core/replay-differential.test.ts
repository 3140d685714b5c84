// The memory replay store keeps its nonces in typed arrays filed by a keyed hash; before, it
// kept them in a Map of strings and two arrays per principal (test/support/reference-memory-
// store.ts). Same rules, so the same answers: generated sequences of requests — a few
// principals, nonces that repeat, expiries in and out of order, clocks that jump back, small
// bounds that force every eviction path — must get the same verdict from both, call by call,
// with the same number of entries and principal records after each. And HalfSipHash, which
// files the nonces, reproduces the reference implementation's answers.
import { expect } from 'chai';
import * as fc from 'fast-check';
import { halfSipHash, halfSipHash13Of5 } from '../../src/replay/halfsiphash';
import { MemoryReplayStore } from '../../src/replay/memory';
import { holds } from '../fuzz/support';
import { ReferenceMemoryReplayStore } from '../support/reference-memory-store';

/** HalfSipHash-2-4, 32-bit output, key 00 01 .. 07, input 00 01 .. (n-1): the reference code's vectors.h, n = 0..22. */
const VECTORS = [
  0x5b9f35a9, 0xb85a4727, 0x03a662fa, 0x04e7fe8a, 0x89466e2a, 0x69b6fac5, 0x23fc6358, 0xc563cf8b, 0x8f84b8d0, 0x79e706f8, 0x3479b094, 0x50300808,
  0x2f87f057, 0xff63e677, 0x7cf8ffd6, 0x972bfe74, 0x84acb5d9, 0x5b6474c4, 0x9b8d5b46, 0x87e3ef7b, 0x45104de3, 0xb3623f61, 0xfe67f370,
];

describe('HalfSipHash, the replay store\'s bucket hash', () => {
  it('reproduces the reference HalfSipHash-2-4 vectors', () => {
    VECTORS.forEach((want, n) => {
      const input = Uint8Array.from({ length: n }, (_, i) => i);
      expect(halfSipHash(0x03020100, 0x07060504, input, 2, 4).toString(16), `input of ${n} bytes`).to.equal(want.toString(16));
    });
  });

  it('the store\'s five-word HalfSipHash-1-3 is the general one on those 20 bytes', () => {
    holds(fc.record({ k: fc.array(fc.integer(), { minLength: 2, maxLength: 2 }), w: fc.array(fc.integer(), { minLength: 5, maxLength: 5 }) }), 2000, ({ k, w }) => {
      const bytes = Buffer.alloc(20);
      w.forEach((x, i) => bytes.writeInt32LE(x, 4 * i));
      expect(halfSipHash13Of5(k[0]!, k[1]!, w[0]!, w[1]!, w[2]!, w[3]!, w[4]!)).to.equal(halfSipHash(k[0]!, k[1]!, bytes, 1, 3));
    });
  });
});

type Op =
  | { readonly kind: 'check'; readonly principal: number; readonly nonce: number; readonly offset: number }
  | { readonly kind: 'clock'; readonly step: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('check' as const), principal: fc.nat({ max: 4 }), nonce: fc.nat({ max: 40 }), offset: fc.integer({ min: -2_000, max: 4_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('clock' as const), step: fc.integer({ min: -3_000, max: 5_000 }) }) },
);

const PRINCIPALS = ['alice', 'bob', 'räkning-α', 'alice\u0000', 'x'.repeat(300)];

describe('MemoryReplayStore answers as the store it replaced, call by call', () => {
  it('over generated request sequences, with and without bounds that force evictions', () => {
    holds(
      fc.record({
        ops: fc.array(op, { minLength: 1, maxLength: 250 }),
        maxEntries: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 13, max: 2_000 })),
        share: fc.option(fc.integer({ min: 1, max: 30 })),
        attach: fc.boolean(),
        strictRestart: fc.boolean(),
      }),
      400,
      ({ ops, maxEntries, share, attach, strictRestart }) => {
        const clock = { now: 1_000_000 };
        const options = { now: () => clock.now, maxEntries, strictRestart, ...(share === null ? {} : { maxEntriesPerPrincipal: share }) };
        const ours = new MemoryReplayStore(options);
        const theirs = new ReferenceMemoryReplayStore(options);
        if (attach) {
          ours.attach({ maxAgeMs: 1_000, maxFutureMs: 500 });
          theirs.attach({ maxAgeMs: 1_000, maxFutureMs: 500 });
        }
        ops.forEach((o, i) => {
          if (o.kind === 'clock') {
            clock.now += o.step;
            return;
          }
          const nonce = Buffer.alloc(16);
          nonce.writeUInt32BE(o.nonce, 12);
          const principal = PRINCIPALS[o.principal]!;
          const expiresAt = clock.now + 1_500 + o.offset;
          const want = theirs.checkAndRemember(principal, nonce, expiresAt);
          expect(ours.checkAndRemember(principal, nonce, expiresAt), `call ${i}`).to.equal(want);
          expect(ours.size, `entries after call ${i}`).to.equal(theirs.size);
          expect(ours.principalCount, `principal records after call ${i}`).to.equal(theirs.principalCount);
        });
      },
    );
  });

  it('past its first capacity: 30,000 nonces of 50 principals, with replays, as the reference', () => {
    const clock = { now: 0 };
    const ours = new MemoryReplayStore({ now: () => clock.now, maxEntries: 20_000 });
    const theirs = new ReferenceMemoryReplayStore({ now: () => clock.now, maxEntries: 20_000 });
    const nonce = Buffer.alloc(16);
    for (let i = 0; i < 30_000; i++) {
      clock.now = i;
      const n = i % 7 === 3 ? i - 3 : i; // every seventh a replay of a recent one
      nonce.writeUInt32LE(n, 0);
      nonce.writeUInt32LE(Math.imul(n, 2654435761) >>> 0, 8);
      const principal = `p${n % 50}`;
      expect(ours.checkAndRemember(principal, nonce, 150_000 + i)).to.equal(theirs.checkAndRemember(principal, nonce, 150_000 + i));
    }
    expect(ours.size).to.equal(theirs.size);
  });

  it('refuses a nonce that is not 16 bytes (spec §3.1) by throwing: a verifier then refuses the call', () => {
    const store = new MemoryReplayStore();
    expect(() => store.checkAndRemember('alice', Buffer.alloc(15), Date.now() + 150_000)).to.throw(RangeError);
    expect(() => store.checkAndRemember('alice', Buffer.alloc(0), Date.now() + 150_000)).to.throw(RangeError);
  });
});
