// The replay store's contract (docs/spec.md §6.4). The nonce store is what stops a replay; the
// issued-at window only bounds how long a nonce must be remembered. Two implementations: the
// embedded MemoryReplayStore (one process) and RedisReplayStore (several replicas).

/**
 * - `fresh`: never seen; now remembered until its expiry.
 * - `replayed`: seen before and not yet expired.
 * - `forgotten`: the store may no longer remember nonces this old for this principal (it
 *   forgot some on expiry, to stay within a principal's share, or lost its memory on a
 *   restart), so it cannot tell; refused, because forgetting must never let a replay through.
 */
export type ReplayVerdict = 'fresh' | 'replayed' | 'forgotten';

/** The verifier's time window, which fixes how long a nonce must be remembered. */
export interface ReplayWindow {
  /** How old an issued-at may be. */
  readonly maxAgeMs: number;
  /** How far in the future an issued-at may be. */
  readonly maxFutureMs: number;
}

/**
 * Atomic check-and-remember of `(principal, nonce)` (spec §6.4). Implementations keep these
 * rules, which the tests of both stores share:
 *
 * - A pair seen before and not yet expired is `replayed`.
 * - The store keeps a *floor* per principal and one for itself; a request whose expiry is at
 *   or below either is `forgotten`. A replay carries the same issued-at as its original,
 *   hence the same expiry, so raising a floor past a forgotten entry's expiry refuses its
 *   replay even after a clock jumps back.
 * - Forgetting an entry because it expired raises the store's floor (to at most "now": fresh
 *   requests always expire later). Forgetting one to make room raises only its principal's
 *   floor, so a principal that floods the store refuses its own slow requests, nobody else's.
 * - A store that may have lost entries (a new process, a Redis that restarted empty) raises
 *   its floor past every request it might have seen.
 * - Two concurrent calls with the same pair never both return `fresh`. A store that cannot
 *   answer rejects (or throws): the request is refused `replay_cache_unavailable`, fail closed.
 *
 * `expiresAtMs` is always `issuedAtMs + maxAgeMs + maxFutureMs`, a fixed offset, so ordering
 * by expiry is ordering by issue time. The verifier calls it only for requests whose MAC,
 * time window and policy passed, so only authenticated, permitted principals fill it.
 */
export interface ReplayStore {
  /**
   * Called once by each verifier that uses this store, at its construction, with its window:
   * a store that forgets on restart raises its floor here (spec §6.4, restarts).
   */
  attach?(window: ReplayWindow): void;
  checkAndRemember(principal: string, nonce: Uint8Array, expiresAtMs: number): ReplayVerdict | Promise<ReplayVerdict>;
}

/**
 * What a store that starts empty must refuse (spec §6.4): every request that a previous
 * process (or a store that lost its data) might have accepted. Such a request was issued at
 * most `maxFutureMs` after the moment of the loss, so with `strict` the floor covers that too,
 * at the price of refusing every request for `maxFutureMs` after a restart; by default it
 * covers every request issued before the loss, and the remaining exposure (a request from a
 * client whose clock ran fast, captured in the seconds before a restart) is documented.
 */
export function restartFloor(nowMs: number, window: ReplayWindow, strict: boolean): number {
  // Not strict: every request issued before this millisecond (a previous process cannot have
  // seen one issued at or after it, as it had stopped by then).
  const lastIssued = strict ? nowMs + window.maxFutureMs : nowMs - 1;
  return lastIssued + window.maxAgeMs + window.maxFutureMs;
}
