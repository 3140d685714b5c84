// The embedded, single-process replay store (docs/spec.md §6.4). Memory is bounded by
// `maxEntries`; each principal by `maxEntriesPerPrincipal`.
//
// Every remembered nonce is a slot in a few typed arrays — its 16 bytes, its expiry, its
// principal, its successor in the principal's insertion order and in its hash bucket — with
// no JavaScript object or string per nonce: about 44 bytes at full capacity, outside the
// garbage-collected heap, which a string and a Map entry per nonce had made grow (the young
// generation grew to its maximum under the promotion of a string per call, doubling the
// process's resident memory over the store's own). Buckets are chosen by HalfSipHash under a
// key drawn at construction, so clients, who choose their nonces, cannot crowd one bucket.
import { randomFillSync } from 'node:crypto';
import { halfSipHash13Of5 } from './halfsiphash';
import { ReplayStore, ReplayVerdict, ReplayWindow, restartFloor } from './store';

export interface MemoryReplayStoreOptions {
  /** The bound on remembered nonces, all principals together. Default 200,000 (about 9 MB). */
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

/** One principal's remembered nonces: a queue of slots, oldest first. */
class PrincipalNonces {
  head = NONE;
  tail = NONE;
  size = 0;
  /** Requests expiring at or below this are refused: this principal forgot entries that new. */
  floor = 0;
  /** Position in the store's sweep list. */
  index = 0;

  constructor(
    readonly principal: string,
    /** Its slots carry this id; reused only once the record is gone, when no slot has it. */
    readonly id: number,
  ) {}
}

const NONE = -1;
const NONCE_BYTES = 16;
const FIRST_CAPACITY = 1024;

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
 * Nonces are 16 bytes (spec §3.1); another length throws, which a verifier refuses
 * (`replay_cache_unavailable`). Slots grow by doubling up to `maxEntries`. Measured about 44
 * bytes per remembered nonce at 200,000 entries, and the process's resident memory above a
 * plain server's within that (`npm run bench`).
 */
export class MemoryReplayStore implements ReplayStore {
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
  /** Ids of principal records since removed, for the next new ones. */
  private readonly freeIds: number[] = [];
  private nextId = 0;
  /** The bucket hash's key. */
  private readonly k0: number;
  private readonly k1: number;

  // The slots: slot s holds nonce words[4s..4s+3], expiries[s] (ms after the epoch), its
  // principal's id owners[s], the next slot of that principal (queue[s]; on the free list, the
  // next free slot) and the next slot of its bucket (chain[s]).
  private capacity = 0;
  private words = new Int32Array(0);
  private expiries = new Float64Array(0);
  private owners = new Int32Array(0);
  private queue = new Int32Array(0);
  private chain = new Int32Array(0);
  private buckets = new Int32Array(0);
  private mask = 0;
  private freeSlot = NONE;
  /** Slots handed out at least once; those above were never used. */
  private used = 0;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 200_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.share = options.maxEntriesPerPrincipal ?? this.maxEntries;
    if (!Number.isInteger(this.share) || this.share < 1) throw new RangeError('maxEntriesPerPrincipal must be a positive integer');
    this.strictRestart = options.strictRestart === true;
    this.now = options.now ?? Date.now;
    this.epoch = this.now();
    const key = new Int32Array(2);
    randomFillSync(key);
    this.k0 = key[0]!;
    this.k1 = key[1]!;
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
    if (nonce.length !== NONCE_BYTES) throw new RangeError('a nonce is 16 bytes');
    const now = this.now() - this.epoch;
    const expiry = expiresAtMs - this.epoch;
    this.sweep(now);
    const w0 = word(nonce, 0);
    const w1 = word(nonce, 4);
    const w2 = word(nonce, 8);
    const w3 = word(nonce, 12);
    let p = this.principals.get(principal);
    if (p) {
      this.expire(p, now, 16);
      if (this.find(p.id, w0, w1, w2, w3) !== NONE) return 'replayed'; // live: expired ones were just dropped
      if (expiry <= p.floor) return 'forgotten';
    }
    if (expiry <= this.floor) return 'forgotten';
    if (!p) {
      p = new PrincipalNonces(principal, this.freeIds.pop() ?? this.nextId++);
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
    this.insert(p, w0, w1, w2, w3, expiry);
    this.total++;
    if (!this.largest || p.size >= this.largest.size) this.largest = p;
    return 'fresh';
  }

  /** Drops up to `budget` of this principal's expired entries from the front. */
  private expire(p: PrincipalNonces, now: number, budget: number): void {
    for (; budget > 0 && p.head !== NONE; budget--) {
      const expiry = this.expiries[p.head]!;
      if (expiry > now) return;
      this.dropOldest(p);
      this.total--;
      if (expiry > this.floor) this.floor = expiry; // an expired entry: at most now
    }
  }

  /** Forgets the principal's oldest entry to make room: only its own floor rises. */
  private evictOldest(p: PrincipalNonces): void {
    if (p.head === NONE) return;
    const expiry = this.expiries[p.head]!;
    this.dropOldest(p);
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
    this.freeIds.push(p.id); // it holds no slot
  }

  private raiseFloor(floor: number): void {
    if (floor > this.floor) this.floor = floor;
  }

  // ------------------------------------------------------------------ slots

  private bucketOf(id: number, w0: number, w1: number, w2: number, w3: number): number {
    return halfSipHash13Of5(this.k0, this.k1, id, w0, w1, w2, w3) & this.mask;
  }

  /** The slot holding this principal's nonce, or NONE. */
  private find(id: number, w0: number, w1: number, w2: number, w3: number): number {
    if (this.capacity === 0) return NONE;
    const words = this.words;
    for (let s = this.buckets[this.bucketOf(id, w0, w1, w2, w3)]!; s !== NONE; s = this.chain[s]!) {
      const at = 4 * s;
      if (this.owners[s] === id && words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) return s;
    }
    return NONE;
  }

  private insert(p: PrincipalNonces, w0: number, w1: number, w2: number, w3: number, expiry: number): void {
    if (this.freeSlot === NONE && this.used === this.capacity) this.grow();
    let s: number;
    if (this.freeSlot !== NONE) {
      s = this.freeSlot;
      this.freeSlot = this.queue[s]!;
    } else {
      s = this.used++;
    }
    const at = 4 * s;
    this.words[at] = w0;
    this.words[at + 1] = w1;
    this.words[at + 2] = w2;
    this.words[at + 3] = w3;
    this.expiries[s] = expiry;
    this.owners[s] = p.id;
    this.queue[s] = NONE;
    if (p.tail === NONE) p.head = s;
    else this.queue[p.tail] = s;
    p.tail = s;
    p.size++;
    const b = this.bucketOf(p.id, w0, w1, w2, w3);
    this.chain[s] = this.buckets[b]!;
    this.buckets[b] = s;
  }

  /** Unlinks the principal's oldest slot and frees it. */
  private dropOldest(p: PrincipalNonces): void {
    const s = p.head;
    p.head = this.queue[s]!;
    if (p.head === NONE) p.tail = NONE;
    p.size--;
    const at = 4 * s;
    const b = this.bucketOf(p.id, this.words[at]!, this.words[at + 1]!, this.words[at + 2]!, this.words[at + 3]!);
    if (this.buckets[b] === s) {
      this.buckets[b] = this.chain[s]!;
    } else {
      let x = this.buckets[b]!;
      while (this.chain[x] !== s) x = this.chain[x]!;
      this.chain[x] = this.chain[s]!;
    }
    this.queue[s] = this.freeSlot;
    this.freeSlot = s;
  }

  /** Doubles the slots (up to maxEntries, which the store never exceeds) and refiles every entry. */
  private grow(): void {
    const capacity = Math.min(this.maxEntries, this.capacity === 0 ? FIRST_CAPACITY : this.capacity * 2);
    if (capacity <= this.capacity) throw new Error('replay store: no free slot below maxEntries'); // unreachable: the store evicts first
    const words = new Int32Array(4 * capacity);
    words.set(this.words);
    const expiries = new Float64Array(capacity);
    expiries.set(this.expiries);
    const owners = new Int32Array(capacity);
    owners.set(this.owners);
    const queue = new Int32Array(capacity);
    queue.set(this.queue);
    this.words = words;
    this.expiries = expiries;
    this.owners = owners;
    this.queue = queue;
    this.chain = new Int32Array(capacity);
    let buckets = 1;
    while (buckets < capacity) buckets *= 2;
    this.buckets = new Int32Array(buckets).fill(NONE);
    this.mask = buckets - 1;
    this.capacity = capacity;
    // Every live slot is in exactly one principal's queue.
    for (const p of this.sweepList) {
      for (let s = p.head; s !== NONE; s = this.queue[s]!) {
        const at = 4 * s;
        const b = this.bucketOf(p.id, this.words[at]!, this.words[at + 1]!, this.words[at + 2]!, this.words[at + 3]!);
        this.chain[s] = this.buckets[b]!;
        this.buckets[b] = s;
      }
    }
  }
}

/** Bytes at..at+3 of the nonce as a little-endian 32-bit word. */
function word(nonce: Uint8Array, at: number): number {
  return nonce[at]! | (nonce[at + 1]! << 8) | (nonce[at + 2]! << 16) | (nonce[at + 3]! << 24);
}
