// Shared helpers for the core tests: locating the repository, reading the JSON test vectors,
// hex conversion, a seeded PRNG (so property tests are repeatable) and a tiny protobuf writer
// for hand-made envelopes the real encoder would never produce.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest directory above this file that holds package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
}

/** A JSON file from test/vectors/, read from the source tree (not from dist/). */
export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(repoRoot(), 'test', 'vectors', name), 'utf8')) as T;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Buffer => {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error(`not lowercase hex: ${s}`);
  return Buffer.from(s, 'hex');
};

/** mulberry32: a small deterministic PRNG; not for keys, only for repeatable test inputs. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return this.u32() % n;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ------------------------------------------------------------------ raw protobuf

/** Minimal protobuf varint (values up to 2^53). */
export function varint(value: number): Buffer {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Buffer.from(out);
}

/** A varint field: key (field << 3 | 0) then the value. */
export function varintField(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

/** A length-delimited field: key (field << 3 | 2), length, bytes. */
export function lenField(field: number, value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  return Buffer.concat([varint(field * 8 + 2), varint(bytes.length), bytes]);
}
