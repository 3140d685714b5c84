// Replay defence (docs/spec.md §6.4). The nonce cache is what stops a replay; the issued-at
// window only bounds how long a nonce must be remembered.

/**
 * - `fresh`: never seen; now remembered until its expiry.
 * - `replayed`: seen before and not yet expired.
 * - `forgotten`: the cache no longer remembers nonces this old (it forgot them on expiry or
 *   to stay within its bound), so it cannot tell; refused, because forgetting must never
 *   let a replay through.
 */
export type ReplayVerdict = 'fresh' | 'replayed' | 'forgotten';

/**
 * The small async interface a shared store (Redis `SET key 1 NX PXAT expiresAtMs`, say)
 * implements to serve several replicas. It must be atomic: two concurrent calls with one key
 * may not both return `fresh`. A rejected promise fails the request closed.
 *
 * `expiresAtMs` is always `issuedAtMs + the verifier's maxAge + maxFuture`, a fixed offset,
 * so ordering by expiry is ordering by issue time.
 */
export interface ReplayCache {
  checkAndRemember(key: string, expiresAtMs: number): ReplayVerdict | Promise<ReplayVerdict>;
}

export interface MemoryReplayCacheOptions {
  /** The bound. At about 100 bytes an entry, the default 200,000 is about 20 MB. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * The embedded, single-process replay cache. Memory is bounded by `maxEntries`.
 *
 * Whenever it forgets an entry — expired, or evicted (oldest-inserted first) to stay within
 * the bound — it raises a floor to that entry's expiry, and refuses as `forgotten` any
 * request expiring at or before the floor. A replay of a forgotten nonce carries the same
 * issued-at, hence the same expiry, so it is refused even if the server's clock has since
 * jumped backwards; fresh requests, which expire later, keep being accepted. Under a flood
 * the cost is refusing some slow-arriving honest requests, never accepting a replay.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly entries = new Map<string, number>(); // key -> expiresAtMs, insertion order
  private floorMs = 0;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryReplayCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 200_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  checkAndRemember(key: string, expiresAtMs: number): ReplayVerdict {
    const now = this.now();
    const seen = this.entries.get(key);
    if (seen !== undefined && seen > now) return 'replayed';
    if (seen !== undefined) this.forget(key, seen);
    this.pruneExpired(now);
    while (this.entries.size >= this.maxEntries) {
      const [oldest, expiry] = this.entries.entries().next().value as [string, number];
      this.forget(oldest, expiry);
    }
    if (expiresAtMs <= this.floorMs) return 'forgotten';
    this.entries.set(key, expiresAtMs);
    return 'fresh';
  }

  /** Drops expired entries from the front; bounded work per call keeps latency flat. */
  private pruneExpired(now: number): void {
    let budget = 16;
    for (const [key, expiry] of this.entries) {
      if (expiry > now || budget-- === 0) return;
      this.forget(key, expiry);
    }
  }

  private forget(key: string, expiry: number): void {
    this.entries.delete(key);
    if (expiry > this.floorMs) this.floorMs = expiry;
  }
}
