// The verifier's derived principal keys (docs/spec.md §6.5 step 3), by the exact bytes that
// named them: the key reference of a canonical envelope (src/wire/envelope.ts,
// keyReferenceEnd), or for any other envelope its fields, length-prefixed. A lookup hashes
// and compares bytes where it finds them: no string is built per request. Bounded; the
// verifier adds an entry only once a MAC made with its key verified, so forged requests
// neither fill it nor evict from it.
import { MacKey } from '../crypto';

/** A verified key reference and its principal key. */
export interface CachedPrincipalKey {
  readonly keyId: string;
  readonly principal: string;
  readonly roles: readonly string[];
  readonly key: MacKey;
}

interface Entry {
  readonly bytes: Buffer;
  readonly value: CachedPrincipalKey;
  next: Entry | undefined;
}

export class PrincipalKeyCache {
  /** FNV-1a hash of the bytes -> the entries with that hash. Insertion order: the oldest first. */
  private readonly buckets = new Map<number, Entry>();
  private entries = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries;
  }

  get(bytes: Uint8Array, start: number, end: number): CachedPrincipalKey | undefined {
    for (let e = this.buckets.get(hash(bytes, start, end)); e; e = e.next) {
      if (same(e.bytes, bytes, start, end)) return e.value;
    }
    return undefined;
  }

  /** Adds an entry for a copy of `bytes[start..end]`; the oldest entries make room. */
  set(bytes: Uint8Array, start: number, end: number, value: CachedPrincipalKey): void {
    if (this.capacity < 1 || this.get(bytes, start, end)) return;
    while (this.entries >= this.capacity) this.evictOldest();
    const h = hash(bytes, start, end);
    const entry: Entry = { bytes: Buffer.from(bytes.subarray(start, end)), value, next: undefined };
    const head = this.buckets.get(h);
    if (head) {
      let last = head;
      while (last.next) last = last.next;
      last.next = entry;
    } else {
      this.buckets.set(h, entry);
    }
    this.entries++;
  }

  clear(): void {
    this.buckets.clear();
    this.entries = 0;
  }

  private evictOldest(): void {
    const first = this.buckets.entries().next();
    if (first.done) return;
    const [h, head] = first.value;
    let n = 0;
    for (let e: Entry | undefined = head; e; e = e.next) n++;
    this.buckets.delete(h);
    this.entries -= n;
  }
}

function hash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h | 0; // a small integer key where it fits
}

function same(stored: Buffer, bytes: Uint8Array, start: number, end: number): boolean {
  if (stored.length !== end - start) return false;
  for (let i = 0; i < stored.length; i++) if (stored[i] !== bytes[start + i]) return false;
  return true;
}
