// The ReplayStore contract (src/replay/store.ts, spec §6.4) as tests every store runs: the
// memory store here, the Redis store against a real redis-server.
import { expect } from 'chai';
import { ReplayStore, ReplayVerdict } from '../../src/replay/store';
import { Prng } from './vectors';

export interface ContractStore {
  readonly store: ReplayStore;
  /** The store's clock, moved by hand. */
  readonly clock: { now: number };
  close?(): Promise<void>;
}

export interface ContractOptions {
  /** The clock's starting value. */
  start: number;
  maxEntriesPerPrincipal?: number;
}

export type MakeStore = (options: ContractOptions) => Promise<ContractStore>;

const WINDOW = { maxAgeMs: 120_000, maxFutureMs: 30_000 };
const SPAN = WINDOW.maxAgeMs + WINDOW.maxFutureMs;

let counter = 0;
/** A fresh 16-byte nonce, distinct across the whole test run. */
export function nonce(label = ''): Buffer {
  const n = Buffer.alloc(16);
  n.writeUInt32BE(++counter, 0);
  n.write(label.slice(0, 12), 4, 'latin1');
  return n;
}

export function replayStoreContract(name: string, make: MakeStore): void {
  describe(`${name}: the ReplayStore contract (spec §6.4)`, function () {
    let open: ContractStore[] = [];
    const store = async (options: ContractOptions): Promise<ContractStore> => {
      const s = await make(options);
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.map((s) => s.close?.()));
      open = [];
    });
    const check = async (s: ContractStore, principal: string, n: Uint8Array, issuedAt: number): Promise<ReplayVerdict> =>
      s.store.checkAndRemember(principal, n, issuedAt + SPAN);

    it('a nonce is fresh once, then replayed until it expires', async () => {
      const s = await store({ start: 1_000_000 });
      const n = nonce('once');
      expect(await check(s, 'alice', n, 1_000_000)).to.equal('fresh');
      expect(await check(s, 'alice', n, 1_000_000)).to.equal('replayed');
      s.clock.now = 1_000_000 + SPAN - 1;
      expect(await check(s, 'alice', n, 1_000_000)).to.equal('replayed');
    });

    it('nonces are scoped to their principal', async () => {
      const s = await store({ start: 1_000_000 });
      const n = nonce('scoped');
      expect(await check(s, 'alice', n, 1_000_000)).to.equal('fresh');
      expect(await check(s, 'bob', n, 1_000_000)).to.equal('fresh');
      expect(await check(s, 'alice\u0000', n, 1_000_000)).to.equal('fresh');
    });

    it('a replay after its expiry is never fresh, even once the clock went back', async () => {
      const s = await store({ start: 1_000_000 });
      const n = nonce('expired');
      expect(await check(s, 'alice', n, 1_000_000)).to.equal('fresh');
      s.clock.now = 1_000_000 + SPAN + 10_000;
      expect(await check(s, 'alice', nonce(), s.clock.now)).to.equal('fresh'); // lets the store notice expiry
      expect(await check(s, 'alice', n, 1_000_000)).to.not.equal('fresh');
      s.clock.now = 1_000_000; // NTP steps back
      expect(await check(s, 'alice', n, 1_000_000)).to.not.equal('fresh');
      expect(await check(s, 'alice', nonce(), 1_000_001), 'honest traffic at the rewound time').to.equal('fresh');
    });

    it('a principal at its share forgets its own oldest entries and raises only its own floor', async () => {
      const share = 20;
      const s = await store({ start: 1_000_000, maxEntriesPerPrincipal: share });
      const honest = nonce('honest');
      expect(await check(s, 'honest', honest, 1_000_000)).to.equal('fresh');
      const flood: Buffer[] = [];
      for (let i = 0; i < share * 5; i++) {
        const n = nonce('flood');
        flood.push(n);
        // Dated +29 s, as in the hardening report: the floor would rise past honest requests.
        expect(await check(s, 'flooder', n, 1_000_000 + 29_000 + i)).to.equal('fresh');
      }
      // Every replay of the flood is refused: remembered, or below the flooder's own floor.
      for (let i = 0; i < flood.length; i++) expect(await check(s, 'flooder', flood[i]!, 1_000_000 + 29_000 + i)).to.not.equal('fresh');
      // The honest principal's entry is still remembered, and its fresh requests pass.
      expect(await check(s, 'honest', honest, 1_000_000)).to.equal('replayed');
      expect(await check(s, 'honest', nonce(), 1_000_000)).to.equal('fresh');
      expect(await check(s, 'other', nonce(), 1_000_000 - 60_000), 'an honest request a minute old').to.equal('fresh');
    });

    it('under random expiry order, no replay of any accepted nonce is ever fresh (clock steady or jumping back)', async () => {
      const share = 50;
      const s = await store({ start: 10_000_000, maxEntriesPerPrincipal: share });
      const rng = new Prng(0x5eed);
      const accepted: [string, Buffer, number][] = [];
      for (let i = 0; i < 400; i++) {
        s.clock.now = 10_000_000 + i * 500;
        const principal = ['a', 'b', 'c'][rng.below(3)]!;
        const issued = s.clock.now - rng.below(WINDOW.maxAgeMs) + rng.below(WINDOW.maxFutureMs);
        const n = nonce();
        if ((await check(s, principal, n, issued)) === 'fresh') accepted.push([principal, n, issued]);
      }
      expect(accepted.length).to.be.greaterThan(300);
      for (const now of [s.clock.now, 9_000_000, s.clock.now + 10 * SPAN]) {
        s.clock.now = now;
        for (const [principal, n, issued] of accepted) expect(await check(s, principal, n, issued)).to.not.equal('fresh');
      }
    });
  });
}
