// The embedded replay store (spec §6.4): the shared contract, then what is particular to one
// process — its total bound, who pays when it is full, and what a restart refuses.
import { expect } from 'chai';
import { MemoryReplayStore } from '../../src/replay/memory';
import { nonce, replayStoreContract } from '../support/replay-contract';

const SPAN = 150_000;

replayStoreContract('MemoryReplayStore', async ({ start, maxEntriesPerPrincipal }) => {
  const clock = { now: start };
  const store = new MemoryReplayStore({ now: () => clock.now, ...(maxEntriesPerPrincipal === undefined ? {} : { maxEntriesPerPrincipal }) });
  return { store, clock };
});

function storeAt(start: number, options: { maxEntries?: number; maxEntriesPerPrincipal?: number; strictRestart?: boolean } = {}) {
  const clock = { now: start };
  return { store: new MemoryReplayStore({ now: () => clock.now, ...options }), clock };
}

describe('MemoryReplayStore: bounded memory', () => {
  it('refuses bounds that are not positive integers', () => {
    expect(() => new MemoryReplayStore({ maxEntries: 0 })).to.throw(RangeError);
    expect(() => new MemoryReplayStore({ maxEntries: 1.5 })).to.throw(RangeError);
    expect(() => new MemoryReplayStore({ maxEntriesPerPrincipal: 0 })).to.throw(RangeError);
  });

  it('never holds more than maxEntries, whoever floods, and accepts every distinct nonce', () => {
    const { store, clock } = storeAt(0, { maxEntries: 1_000, maxEntriesPerPrincipal: 1_000 });
    let peak = 0;
    for (let i = 0; i < 10_000; i++) {
      clock.now = i;
      expect(store.checkAndRemember(`p${i % 7}`, nonce(), SPAN + i)).to.equal('fresh');
      peak = Math.max(peak, store.size);
    }
    expect(peak).to.equal(1_000);
  });

  it('releases memory as entries expire, including an idle principal\'s', () => {
    const { store, clock } = storeAt(0);
    for (let i = 0; i < 100; i++) store.checkAndRemember('idle', nonce(), 1_000 + i);
    expect(store.size).to.equal(100);
    clock.now = 5_000;
    for (let i = 0; i < 100; i++) store.checkAndRemember('busy', nonce(), 10_000 + i);
    expect(store.size).to.equal(100); // the sweep dropped the idle principal's expired entries
    expect(store.principalCount).to.equal(1);
  });
});

describe('MemoryReplayStore: when it is full, the principal holding the most pays', () => {
  it('a flooding principal evicts its own entries; an honest principal keeps every entry and its floor', () => {
    const { store, clock } = storeAt(0, { maxEntries: 300, maxEntriesPerPrincipal: 300 });
    const honest: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      const n = nonce();
      honest.push(n);
      expect(store.checkAndRemember('honest', n, SPAN + i)).to.equal('fresh');
    }
    for (let i = 0; i < 5_000; i++) {
      clock.now = 100 + i;
      expect(store.checkAndRemember('flooder', nonce(), SPAN + 29_000 + i)).to.equal('fresh');
    }
    expect(store.size).to.equal(300);
    for (const n of honest) expect(store.checkAndRemember('honest', n, SPAN)).to.equal('replayed');
    // Honest requests older than the flood's are still fresh: no floor rose for them.
    expect(store.checkAndRemember('honest', nonce(), SPAN + 50)).to.equal('fresh');
    expect(store.checkAndRemember('newcomer', nonce(), SPAN + 1)).to.equal('fresh');
  });
});

describe('MemoryReplayStore: a restart does not reopen the window for replays (attach)', () => {
  const window = { maxAgeMs: 120_000, maxFutureMs: 30_000 };

  it('refuses every request issued before the process started, and accepts those issued after', () => {
    const { store } = storeAt(1_000_000);
    store.attach(window);
    expect(store.checkAndRemember('alice', nonce(), 1_000_000 - 1 + SPAN)).to.equal('forgotten');
    expect(store.checkAndRemember('alice', nonce(), 1_000_000 - 60_000 + SPAN)).to.equal('forgotten');
    expect(store.checkAndRemember('alice', nonce(), 1_000_000 + SPAN)).to.equal('fresh');
  });

  it('strictRestart also refuses requests dated up to max_future after the start (a fast client clock)', () => {
    const { store, clock } = storeAt(1_000_000, { strictRestart: true });
    store.attach(window);
    expect(store.checkAndRemember('alice', nonce(), 1_000_000 + 30_000 + SPAN)).to.equal('forgotten');
    clock.now = 1_000_000 + 30_001;
    expect(store.checkAndRemember('alice', nonce(), clock.now + SPAN)).to.equal('fresh');
  });
});
