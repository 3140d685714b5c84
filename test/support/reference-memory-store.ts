// The memory replay store as it was before it kept its nonces in typed arrays (commit
// 53b8262, src/replay/memory.ts): the reference test/core/replay-differential.test.ts holds
// the current store to, verdict for verdict. Not used by the library.
// The embedded, single-process replay store (docs/spec.md §6.4). Memory is bounded by
// `maxEntries`; each principal by `maxEntriesPerPrincipal`.
import { ReplayStore, ReplayVerdict, ReplayWindow, restartFloor } from '../../src/replay/store';

interface MemoryReplayStoreOptions {
  /** The bound on remembered nonces, all principals together. Default 200,000 (about 16 MB). */
  maxEntries?: number;
  /**
   * A principal's share: at this many entries it forgets its own oldest to make room, raising
   * its own floor. Default `maxEntries`: a full store makes room from the principal holding
   * the most anyway, so a flooding principal pays for its flood whatever the share; set it
   * lower to cap every principal. Size the store (and any share) at the busiest rate times
   * the window (max age + max future, 150 s by default); a principal at its share refuses its
   * own requests that arrive more than `share / rate` seconds after newer ones.
   */
  maxEntriesPerPrincipal?: number;
  /**
   * After a restart, also refuse requests dated up to `maxFutureMs` after the start (a fast
   * client clock), at the price of refusing every request for that long. Default false.
   */
  strictRestart?: boolean;
  now?: () => number;
}

/** One principal's remembered nonces, in insertion order. */
class PrincipalNonces {
  /** nonce (its 16 bytes as latin1) -> expiry (ms after the store's epoch, a small integer). */
  readonly nonces = new Map<string, number>();
  /** Insertion order: parallel queues from `head`; a slot whose nonce was since forgotten is stale. */
  keys: string[] = [];
  expiries: number[] = [];
  head = 0;
  /** Requests expiring at or below this are refused: this principal forgot entries that new. */
  floor = 0;
  /** Position in the store's sweep list. */
  index = 0;

  constructor(readonly principal: string) {}

  get size(): number {
    return this.nonces.size;
  }

  push(key: string, expiry: number): void {
    this.nonces.set(key, expiry);
    this.keys.push(key);
    this.expiries.push(expiry);
  }

  /** The oldest live entry's slot, skipping stale ones; -1 when empty. */
  oldest(): number {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head]!;
      if (this.nonces.get(key) === this.expiries[this.head]) return this.head;
      this.advance();
    }
    return -1;
  }

  /** Drops the head slot; compacts the queues once half of them is behind the head. */
  advance(): void {
    this.keys[this.head] = '';
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.expiries = this.expiries.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Every rule of the ReplayStore contract, in one process:
 *
 * - Entries expire in each principal's insertion order; a sweep visits a few principals per
 *   call, so an idle principal's entries are dropped too. Expiry raises the store's floor, to
 *   at most now.
 * - A principal at its share forgets its own oldest entry and raises its own floor. When the
 *   store is full, the principal holding the most entries (among those that inserted since it
 *   last shrank) forgets its oldest: a flooding principal pays for its own flood.
 * - Constructed by a verifier (`attach`), the store's floor starts past every request issued
 *   before the process started: a restart does not reopen the window for replays.
 *
 * Expiries are kept as milliseconds after the store's creation, which V8 stores as small
 * integers (no heap number per entry) for the first 12 days; later they are ordinary numbers.
 * Measured about 90 bytes per remembered nonce at 200,000 entries (`npm run bench`).
 */
export class ReferenceMemoryReplayStore implements ReplayStore {
  private readonly principals = new Map<string, PrincipalNonces>();
  /** For the sweep: every principal with a record, in no particular order. */
  private readonly sweepList: PrincipalNonces[] = [];
  private sweepAt = 0;
  private total = 0;
  private floor = 0;
  /** The principal that grew largest most recently: the one that makes room when the store is full. */
  private largest: PrincipalNonces | undefined;
  private readonly epoch: number;
  private readonly maxEntries: number;
  private readonly share: number;
  private readonly strictRestart: boolean;
  private readonly now: () => number;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 200_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.share = options.maxEntriesPerPrincipal ?? this.maxEntries;
    if (!Number.isInteger(this.share) || this.share < 1) throw new RangeError('maxEntriesPerPrincipal must be a positive integer');
    this.strictRestart = options.strictRestart === true;
    this.now = options.now ?? Date.now;
    this.epoch = this.now();
  }

  /** Entries remembered now, all principals together. */
  get size(): number {
    return this.total;
  }

  /** Principals with a record (entries, or a floor still in the future). */
  get principalCount(): number {
    return this.principals.size;
  }

  attach(window: ReplayWindow): void {
    this.raiseFloor(restartFloor(this.now(), window, this.strictRestart) - this.epoch);
  }

  checkAndRemember(principal: string, nonce: Uint8Array, expiresAtMs: number): ReplayVerdict {
    const now = this.now() - this.epoch;
    const expiry = expiresAtMs - this.epoch;
    this.sweep(now);
    let p = this.principals.get(principal);
    const key = nonceKey(nonce);
    if (p) {
      this.expire(p, now, 16);
      const seen = p.nonces.get(key);
      if (seen !== undefined) return 'replayed'; // live: expired ones were just dropped
      if (expiry <= p.floor) return 'forgotten';
    }
    if (expiry <= this.floor) return 'forgotten';
    if (!p) {
      p = new PrincipalNonces(principal);
      p.index = this.sweepList.length;
      this.sweepList.push(p);
      this.principals.set(principal, p);
    }
    if (p.size >= this.share) this.evictOldest(p);
    if (this.total >= this.maxEntries) {
      const victim = this.largest && this.largest.size > 0 ? this.largest : p;
      this.evictOldest(victim.size > 0 ? victim : p);
      // A full store whose largest principal held nothing: make room anywhere, never grow.
      if (this.total >= this.maxEntries) this.evictAny();
    }
    p.push(key, expiry);
    this.total++;
    if (!this.largest || p.size >= this.largest.size) this.largest = p;
    return 'fresh';
  }

  /** Drops up to `budget` of this principal's expired entries from the front. */
  private expire(p: PrincipalNonces, now: number, budget: number): void {
    for (; budget > 0; budget--) {
      const at = p.oldest();
      if (at < 0 || p.expiries[at]! > now) return;
      const expiry = p.expiries[at]!;
      p.nonces.delete(p.keys[at]!);
      p.advance();
      this.total--;
      if (expiry > this.floor) this.floor = expiry; // an expired entry: at most now
    }
  }

  /** Forgets the principal's oldest entry to make room: only its own floor rises. */
  private evictOldest(p: PrincipalNonces): void {
    const at = p.oldest();
    if (at < 0) return;
    const expiry = p.expiries[at]!;
    p.nonces.delete(p.keys[at]!);
    p.advance();
    this.total--;
    if (expiry > p.floor) p.floor = expiry;
  }

  private evictAny(): void {
    for (const p of this.sweepList) {
      if (p.size > 0) return this.evictOldest(p);
    }
  }

  /**
   * Bounded work per call: visits two principals, dropping their expired entries, and
   * removes a principal's record once it holds nothing and its floor is past (folding the
   * floor, at most now, into the store's).
   */
  private sweep(now: number): void {
    for (let visits = 0; visits < 2 && this.sweepList.length > 0; visits++) {
      if (this.sweepAt >= this.sweepList.length) this.sweepAt = 0;
      const p = this.sweepList[this.sweepAt]!;
      this.expire(p, now, 16);
      if (p.size === 0 && p.floor <= now) {
        this.raiseFloor(p.floor);
        this.remove(p);
      } else {
        this.sweepAt++;
      }
    }
  }

  private remove(p: PrincipalNonces): void {
    this.principals.delete(p.principal);
    const last = this.sweepList.pop()!;
    if (last !== p) {
      this.sweepList[p.index] = last;
      last.index = p.index;
    }
    if (this.largest === p) this.largest = undefined;
  }

  private raiseFloor(floor: number): void {
    if (floor > this.floor) this.floor = floor;
  }
}

function nonceKey(nonce: Uint8Array): string {
  return (Buffer.isBuffer(nonce) ? nonce : Buffer.from(nonce.buffer, nonce.byteOffset, nonce.length)).toString('latin1');
}
