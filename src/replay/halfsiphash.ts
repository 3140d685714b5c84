// HalfSipHash (Aumasson and Bernstein's SipHash on 32-bit words, as the Linux kernel uses it
// for hash tables): a keyed hash whose bucket choices an attacker who does not know the key
// cannot steer. The memory replay store files nonces, which clients choose, by it; a fixed
// hash would let a principal fill one bucket chain and slow every lookup down.

/** HalfSipHash-c-d of `bytes` under the 8-byte key (k0, k1 little-endian words), 32-bit output. */
export function halfSipHash(k0: number, k1: number, bytes: Uint8Array, c: number, d: number): number {
  const s = init(k0, k1);
  const end = bytes.length - (bytes.length % 4);
  for (let i = 0; i < end; i += 4) {
    absorb(s, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24), c);
  }
  let b = (bytes.length << 24) | 0;
  for (let i = end; i < bytes.length; i++) b |= bytes[i]! << (8 * (i - end));
  absorb(s, b, c);
  s[2] ^= 0xff;
  for (let i = 0; i < d; i++) round(s);
  return (s[1]! ^ s[3]!) >>> 0;
}

/**
 * HalfSipHash-1-3 of the 20 bytes `w0..w4` (little-endian words): the replay store's bucket
 * hash of (principal id, nonce). The same function as halfSipHash(k0, k1, bytes, 1, 3), on
 * words and without allocation.
 */
export function halfSipHash13Of5(k0: number, k1: number, w0: number, w1: number, w2: number, w3: number, w4: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = (0x6c796765 ^ k0) | 0;
  let v3 = (0x74656462 ^ k1) | 0;
  // One round per word (c = 1), inlined: the store hashes on every request.
  for (let i = 0; i < 6; i++) {
    const m = i === 0 ? w0 : i === 1 ? w1 : i === 2 ? w2 : i === 3 ? w3 : i === 4 ? w4 : 20 << 24;
    v3 ^= m;
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= m;
  }
  v2 ^= 0xff;
  for (let i = 0; i < 3; i++) {
    v0 = (v0 + v1) | 0;
    v1 = (v1 << 5) | (v1 >>> 27);
    v1 ^= v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = (v3 << 8) | (v3 >>> 24);
    v3 ^= v2;
    v0 = (v0 + v3) | 0;
    v3 = (v3 << 7) | (v3 >>> 25);
    v3 ^= v0;
    v2 = (v2 + v1) | 0;
    v1 = (v1 << 13) | (v1 >>> 19);
    v1 ^= v2;
    v2 = (v2 << 16) | (v2 >>> 16);
  }
  return (v1 ^ v3) >>> 0;
}

function init(k0: number, k1: number): Int32Array {
  return Int32Array.of(k0, k1, 0x6c796765 ^ k0, 0x74656462 ^ k1);
}

function absorb(s: Int32Array, m: number, c: number): void {
  s[3] ^= m;
  for (let i = 0; i < c; i++) round(s);
  s[0] ^= m;
}

function round(s: Int32Array): void {
  let v0 = s[0]!;
  let v1 = s[1]!;
  let v2 = s[2]!;
  let v3 = s[3]!;
  v0 = (v0 + v1) | 0;
  v1 = (v1 << 5) | (v1 >>> 27);
  v1 ^= v0;
  v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0;
  v3 = (v3 << 8) | (v3 >>> 24);
  v3 ^= v2;
  v0 = (v0 + v3) | 0;
  v3 = (v3 << 7) | (v3 >>> 25);
  v3 ^= v0;
  v2 = (v2 + v1) | 0;
  v1 = (v1 << 13) | (v1 >>> 19);
  v1 ^= v2;
  v2 = (v2 << 16) | (v2 >>> 16);
  s[0] = v0;
  s[1] = v1;
  s[2] = v2;
  s[3] = v3;
}
