// Shared machinery of the property tests (issue 8 item 10): one fixed seed, a tally of the
// generated cases, and the byte mutations every suite applies to valid inputs.
//
// A failure prints fast-check's report: the seed, the path of the failing run and the shrunk
// counterexample. The seed is fixed, so `npm run build && npx mocha dist/test/fuzz/fuzz.test.js`
// reproduces it; set REQAUTH_FUZZ_SEED to explore other seeds, which are then printed too.
import * as fc from 'fast-check';

export const SEED = process.env['REQAUTH_FUZZ_SEED'] === undefined ? 0x8_1001 : Number(process.env['REQAUTH_FUZZ_SEED']);

let generated = 0;

/** Generated cases run so far by `holds`, in this process. */
export function generatedCases(): number {
  return generated;
}

/**
 * Runs `predicate` (which throws, e.g. through chai, to fail) on `runs` values of `arb`, with
 * the fixed seed. Throws fast-check's report, seed and counterexample included, on failure.
 */
export function holds<T>(arb: fc.Arbitrary<T>, runs: number, predicate: (value: T) => void): void {
  const details = fc.check(
    fc.property(arb, (v) => {
      predicate(v);
    }),
    { seed: SEED, numRuns: runs },
  );
  if (details.failed) throw new Error(`${fc.defaultReportMessage(details)}\n(seed ${SEED}; REQAUTH_FUZZ_SEED selects another)`);
  generated += details.numRuns;
}

/** As `holds`, for a predicate that awaits (the header verifier may answer with a promise). */
export async function holdsAsync<T>(arb: fc.Arbitrary<T>, runs: number, predicate: (value: T) => Promise<void>): Promise<void> {
  const details = await fc.check(
    fc.asyncProperty(arb, async (v) => {
      await predicate(v);
    }),
    { seed: SEED, numRuns: runs },
  );
  if (details.failed) throw new Error(`${await fc.asyncDefaultReportMessage(details)}\n(seed ${SEED}; REQAUTH_FUZZ_SEED selects another)`);
  generated += details.numRuns;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

// ------------------------------------------------------------------ byte mutations

/**
 * One edit of a byte string. Positions are arbitrary naturals taken modulo the length, so one
 * description applies to inputs of any size and shrinks towards the start.
 */
export type Edit =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly byte: number }
  | { readonly op: 'truncate'; readonly keep: number }
  | { readonly op: 'drop-front'; readonly count: number }
  | { readonly op: 'extend'; readonly bytes: Uint8Array }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'repeat'; readonly at: number; readonly count: number }
  | { readonly op: 'move'; readonly from: number; readonly to: number; readonly count: number }
  /** Pads the varint ending at a byte below 0x80 with a zero group: same value, non-minimal. */
  | { readonly op: 'pad-varint'; readonly at: number };

const pos = fc.nat({ max: 1 << 16 });
const smallCount = fc.integer({ min: 1, max: 48 });
const someBytes = fc.uint8Array({ minLength: 1, maxLength: 40 });
/** Bytes that mean something to the parsers here: varint edges, EOS, field keys, '{', hex digits. */
const interestingByte = fc.constantFrom(0x00, 0x01, 0x02, 0x06, 0x0a, 0x0f, 0x20, 0x30, 0x7b, 0x7f, 0x80, 0xff);

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: pos, byte: fc.oneof(fc.integer({ min: 0, max: 255 }), interestingByte) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), keep: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop-front' as const), count: smallCount }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: someBytes }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: pos, bytes: fc.oneof(someBytes, interestingByte.map((b) => Uint8Array.of(b))) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: pos, count: smallCount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repeat' as const), at: pos, count: smallCount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('move' as const), from: pos, to: pos, count: smallCount }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pad-varint' as const), at: pos }) },
);

/** One to four edits, applied in order. */
export const edits: fc.Arbitrary<readonly Edit[]> = fc.array(edit, { minLength: 1, maxLength: 4 });

export function applyEdit(input: Uint8Array, e: Edit): Buffer {
  const b = Buffer.from(input);
  const n = b.length;
  const at = (x: number) => (n === 0 ? 0 : x % n);
  switch (e.op) {
    case 'flip':
      if (n === 0) return b;
      b[at(e.at)]! ^= 1 << e.bit;
      return b;
    case 'set':
      if (n === 0) return b;
      b[at(e.at)] = e.byte;
      return b;
    case 'truncate':
      return b.subarray(0, n === 0 ? 0 : e.keep % n);
    case 'drop-front':
      return b.subarray(Math.min(e.count, n));
    case 'extend':
      return Buffer.concat([b, e.bytes]);
    case 'insert': {
      const i = e.at % (n + 1);
      return Buffer.concat([b.subarray(0, i), e.bytes, b.subarray(i)]);
    }
    case 'delete': {
      const i = at(e.at);
      return Buffer.concat([b.subarray(0, i), b.subarray(i + e.count)]);
    }
    case 'repeat': {
      const i = at(e.at);
      return Buffer.concat([b.subarray(0, i + e.count), b.subarray(i)]);
    }
    case 'pad-varint': {
      // The first byte below 0x80 from the chosen position on, if any.
      let i = at(e.at);
      while (i < n && b[i]! >= 0x80) i++;
      if (i >= n) return b;
      b[i]! |= 0x80;
      return Buffer.concat([b.subarray(0, i + 1), Buffer.of(0), b.subarray(i + 1)]);
    }
    case 'move': {
      const i = at(e.from);
      const piece = b.subarray(i, i + e.count);
      const rest = Buffer.concat([b.subarray(0, i), b.subarray(i + e.count)]);
      const j = e.to % (rest.length + 1);
      return Buffer.concat([rest.subarray(0, j), piece, rest.subarray(j)]);
    }
  }
}

export function applyEdits(input: Uint8Array, list: readonly Edit[]): Buffer {
  let out: Buffer = Buffer.from(input);
  for (const e of list) out = applyEdit(out, e);
  return out;
}

/** A prefix of `a` followed by a suffix of `b` (cut points modulo their lengths + 1). */
export function splice(a: Uint8Array, b: Uint8Array, cutA: number, cutB: number): Buffer {
  return Buffer.concat([a.subarray(0, cutA % (a.length + 1)), b.subarray(cutB % (b.length + 1))]);
}

/**
 * A mutated variant of one of `pool`: edits of one member, or a splice of two (then perhaps
 * edited). The result may by chance equal a member; callers that need a change check that.
 */
export function mutantOf(pool: readonly Uint8Array[]): fc.Arbitrary<{ readonly from: string; readonly bytes: Buffer }> {
  const index = fc.nat({ max: pool.length - 1 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(index, edits).map(([i, list]) => ({ from: `#${i} ${JSON.stringify(list.map((e) => e.op))}`, bytes: applyEdits(pool[i]!, list) })) },
    {
      weight: 1,
      arbitrary: fc.tuple(index, index, pos, pos, fc.option(edits, { nil: undefined })).map(([i, j, ca, cb, more]) => {
        const spliced = splice(pool[i]!, pool[j]!, ca, cb);
        return { from: `splice #${i}/#${j}${more ? ` ${JSON.stringify(more.map((e) => e.op))}` : ''}`, bytes: more ? applyEdits(spliced, more) : spliced };
      }),
    },
  );
}

/** Equal as bytes to some member of `pool`. */
export function isMember(pool: readonly Uint8Array[], bytes: Uint8Array): boolean {
  return pool.some((p) => Buffer.compare(Buffer.from(p.buffer, p.byteOffset, p.length), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)) === 0);
}

/** Calls `f`; a throw is a failure that names the input (every decoder here must return a value). */
export function noThrow<T>(what: string, input: Uint8Array | string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const shown = typeof input === 'string' ? JSON.stringify(input) : hex(input);
    throw new Error(`${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} on ${shown}`);
  }
}

/**
 * An assertion for the hot path of a property (chai's chains cost more than the decoders
 * under test); the message is built only on failure.
 */
export function must(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new Error(message());
}
