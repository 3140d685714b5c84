// The embedded replay cache (spec §6.4): it remembers (principal, nonce) until expiry, stays
// within its bound, and when it forgets anything it never lets a replay of it through.
import { expect } from 'chai';
import { MemoryReplayCache, ReplayVerdict } from '../../src/replay/memory';
import { Prng } from '../support/vectors';

/** A cache with a clock the test moves by hand. */
function cacheAt(start: number, maxEntries?: number) {
  const clock = { now: start };
  const cache = new MemoryReplayCache({ now: () => clock.now, ...(maxEntries === undefined ? {} : { maxEntries }) });
  return { cache, clock };
}

describe('MemoryReplayCache: a nonce is fresh once, then replayed until it expires', () => {
  it('answers fresh the first time and replayed the second', () => {
    const { cache } = cacheAt(1_000);
    expect(cache.checkAndRemember('p\u0000n1', 10_000)).to.equal('fresh');
    expect(cache.checkAndRemember('p\u0000n1', 10_000)).to.equal('replayed');
    expect(cache.checkAndRemember('p\u0000n1', 10_000)).to.equal('replayed');
  });

  it('keeps distinct keys apart', () => {
    const { cache } = cacheAt(1_000);
    expect(cache.checkAndRemember('alice\u0000n1', 10_000)).to.equal('fresh');
    expect(cache.checkAndRemember('bob\u0000n1', 10_000)).to.equal('fresh');
    expect(cache.checkAndRemember('alice\u0000n2', 10_000)).to.equal('fresh');
  });

  it('still answers replayed one millisecond before the expiry', () => {
    const { cache, clock } = cacheAt(1_000);
    cache.checkAndRemember('k', 10_000);
    clock.now = 9_999;
    expect(cache.checkAndRemember('k', 10_000)).to.equal('replayed');
  });

  it('refuses the constructor a bound that is not a positive integer', () => {
    expect(() => new MemoryReplayCache({ maxEntries: 0 })).to.throw(RangeError);
    expect(() => new MemoryReplayCache({ maxEntries: 1.5 })).to.throw(RangeError);
  });
});

describe('MemoryReplayCache: expired entries are dropped, and their replays are not fresh', () => {
  it('a replay after expiry is forgotten, never fresh', () => {
    const { cache, clock } = cacheAt(1_000);
    cache.checkAndRemember('k', 10_000);
    clock.now = 10_000;
    expect(cache.checkAndRemember('k', 10_000)).to.equal('forgotten');
    clock.now = 50_000;
    expect(cache.checkAndRemember('k', 10_000)).to.equal('forgotten');
  });

  it('memory is released as entries expire', () => {
    const { cache, clock } = cacheAt(0);
    for (let i = 0; i < 100; i++) cache.checkAndRemember(`old-${i}`, 1_000 + i);
    expect(cache.size).to.equal(100);
    clock.now = 5_000;
    for (let i = 0; i < 100; i++) cache.checkAndRemember(`new-${i}`, 10_000 + i);
    expect(cache.size).to.equal(100); // the 100 old ones are gone, the 100 new ones remain
  });
});

describe('MemoryReplayCache: memory stays within maxEntries under a flood', () => {
  const maxEntries = 1_000;

  it('holds at most maxEntries after 10x maxEntries distinct nonces, and accepts each of them', () => {
    const { cache, clock } = cacheAt(0, maxEntries);
    let peak = 0;
    const verdicts: Record<string, number> = {};
    for (let i = 0; i < 10 * maxEntries; i++) {
      clock.now = i;
      const verdict = cache.checkAndRemember(`flood-${i}`, 150_000 + i);
      verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
      peak = Math.max(peak, cache.size);
    }
    expect(verdicts).to.deep.equal({ fresh: 10 * maxEntries });
    expect(peak).to.equal(maxEntries);
  });
});

describe('MemoryReplayCache: at its bound, a replay of any accepted nonce is never fresh', () => {
  const maxEntries = 500;

  function flood(order: 'in expiry order' | 'in random expiry order') {
    const { cache, clock } = cacheAt(0, maxEntries);
    const rng = new Prng(0xf100d);
    const accepted = new Map<string, number>();
    let peak = 0;
    let replayed = 0;
    for (let i = 0; i < 10 * maxEntries; i++) {
      clock.now = i;
      // Random order: clients' clocks disagree by up to the 150 s window.
      const expiry = order === 'in expiry order' ? 150_000 + i : 150_000 + i + rng.below(150_000);
      const key = `p\u0000nonce-${i}`;
      const verdict = cache.checkAndRemember(key, expiry);
      if (verdict === 'fresh') accepted.set(key, expiry);
      if (verdict === 'replayed') replayed++;
      peak = Math.max(peak, cache.size);
    }
    expect(replayed, 'distinct nonces are never replays').to.equal(0);
    expect(peak).to.equal(maxEntries);
    return { cache, clock, accepted };
  }

  for (const order of ['in expiry order', 'in random expiry order'] as const) {
    it(`replaying every accepted nonce (${order}, evicted ones included) gets replayed or forgotten`, () => {
      const { cache, accepted } = flood(order);
      expect(accepted.size).to.be.greaterThan(maxEntries); // some accepted nonces were evicted
      const verdicts = new Map<ReplayVerdict, number>();
      for (const [key, expiry] of accepted) {
        const verdict = cache.checkAndRemember(key, expiry);
        verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      }
      expect(verdicts.get('fresh') ?? 0, 'replays accepted as fresh').to.equal(0);
      expect(verdicts.get('forgotten') ?? 0).to.be.greaterThan(0);
      expect(verdicts.get('replayed') ?? 0).to.be.greaterThan(0);
    });

    it(`replays stay refused when the clock also jumps far backwards (${order})`, () => {
      const { cache, clock, accepted } = flood(order);
      clock.now = -1_000_000;
      const revived = [...accepted].filter(([key, expiry]) => cache.checkAndRemember(key, expiry) === 'fresh');
      expect(revived).to.deep.equal([]);
    });
  }

  it('fresh requests expiring later than everything seen keep being accepted after the flood', () => {
    const { cache, clock } = flood('in expiry order');
    const refused: number[] = [];
    for (let i = 0; i < 3 * maxEntries; i++) {
      clock.now = 10 * maxEntries + i;
      if (cache.checkAndRemember(`later-${i}`, 1_000_000 + i) !== 'fresh') refused.push(i);
      if (cache.size > maxEntries) throw new Error(`size ${cache.size} above the bound`);
    }
    expect(refused).to.deep.equal([]);
  });
});

describe('MemoryReplayCache: a clock that jumps backwards does not revive a forgotten nonce', () => {
  it('a nonce forgotten on expiry stays refused after the clock goes back before its expiry', () => {
    const { cache, clock } = cacheAt(1_000);
    expect(cache.checkAndRemember('victim', 2_000)).to.equal('fresh');
    clock.now = 5_000;
    expect(cache.checkAndRemember('other', 6_000)).to.equal('fresh'); // prunes the expired victim
    clock.now = 1_500; // NTP step backwards
    expect(cache.checkAndRemember('victim', 2_000)).to.equal('forgotten');
    // Honest traffic at the rewound time still gets through.
    expect(cache.checkAndRemember('honest', 2_001)).to.equal('fresh');
  });

  it('a nonce evicted to make room stays refused after the clock goes back', () => {
    const { cache, clock } = cacheAt(1_000, 2);
    expect(cache.checkAndRemember('victim', 3_000)).to.equal('fresh');
    expect(cache.checkAndRemember('b', 3_001)).to.equal('fresh');
    expect(cache.checkAndRemember('c', 3_002)).to.equal('fresh'); // evicts the victim
    clock.now = 0;
    expect(cache.checkAndRemember('victim', 3_000)).to.equal('forgotten');
  });
});
