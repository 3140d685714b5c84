// Stream trailers (spec §5.2) under generated frame sequences: the frames RequestSigner's
// StreamSigner wrote for each stream of the fuzzing world, then dropped, duplicated,
// reordered, truncated, edited byte-wise, spliced, or mixed with another stream's frames or
// random bytes. StreamVerifier.open never throws; every frame it accepts is the genuine frame
// of that position; and no mutated sequence verifies to its end.
import { expect } from 'chai';
import * as fc from 'fast-check';
import { VerifiedHeader } from '../../src/verifier';
import { applyEdits, edits, hex, holds, noThrow, splice } from './support';
import { newVerifier, StreamRequest, world } from './world';

const REASONS = new Set(['missing_stream_tag', 'bad_stream_tag', 'message_after_end']);

type SeqEdit =
  | { readonly op: 'drop'; readonly at: number }
  | { readonly op: 'duplicate'; readonly at: number }
  | { readonly op: 'swap'; readonly at: number; readonly with: number }
  | { readonly op: 'truncate'; readonly keep: number }
  | { readonly op: 'edit'; readonly at: number; readonly edits: Parameters<typeof applyEdits>[1] }
  | { readonly op: 'foreign'; readonly at: number; readonly stream: number; readonly frame: number; readonly replace: boolean }
  | { readonly op: 'splice'; readonly at: number; readonly other: number; readonly cutA: number; readonly cutB: number }
  | { readonly op: 'random'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'end-early'; readonly at: number };

const n = fc.nat({ max: 64 });
const seqEdit: fc.Arbitrary<SeqEdit> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: n }),
  fc.record({ op: fc.constant('duplicate' as const), at: n }),
  fc.record({ op: fc.constant('swap' as const), at: n, with: n }),
  fc.record({ op: fc.constant('truncate' as const), keep: n }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('edit' as const), at: n, edits }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('foreign' as const), at: n, stream: n, frame: n, replace: fc.boolean() }) },
  fc.record({ op: fc.constant('splice' as const), at: n, other: n, cutA: fc.nat({ max: 200 }), cutB: fc.nat({ max: 200 }) }),
  fc.record({ op: fc.constant('random' as const), at: n, bytes: fc.uint8Array({ maxLength: 80 }) }),
  fc.record({ op: fc.constant('end-early' as const), at: n }),
);

function applySeqEdit(frames: readonly Buffer[], e: SeqEdit, streams: readonly StreamRequest[]): Buffer[] {
  const out = [...frames];
  const len = out.length;
  const at = (x: number) => (len === 0 ? 0 : x % len);
  switch (e.op) {
    case 'drop':
      if (len > 0) out.splice(at(e.at), 1);
      break;
    case 'duplicate':
      if (len > 0) out.splice(at(e.at), 0, out[at(e.at)]!);
      break;
    case 'swap':
      if (len > 0) [out[at(e.at)], out[at(e.with)]] = [out[at(e.with)]!, out[at(e.at)]!];
      break;
    case 'truncate':
      out.length = len === 0 ? 0 : e.keep % len;
      break;
    case 'edit':
      if (len > 0) out[at(e.at)] = applyEdits(out[at(e.at)]!, e.edits);
      break;
    case 'foreign': {
      const s = streams[e.stream % streams.length]!;
      const f = s.frames[e.frame % s.frames.length]!;
      out.splice(e.at % (len + 1), e.replace && len > 0 ? 1 : 0, f);
      break;
    }
    case 'splice':
      if (len > 0) out[at(e.at)] = splice(out[at(e.at)]!, out[at(e.other)]!, e.cutA, e.cutB);
      break;
    case 'random':
      out.splice(e.at % (len + 1), 0, Buffer.from(e.bytes));
      break;
    case 'end-early':
      // The genuine end marker, moved to an earlier position.
      if (len > 0) out.splice(at(e.at), 0, frames[len - 1]!);
      break;
  }
  return out;
}

const same = (a: readonly Buffer[], b: readonly Buffer[]) => a.length === b.length && a.every((f, i) => f.equals(b[i]!));

export function streamProperties(): void {
  describe('stream trailers under generated frame sequences (spec §5.2)', () => {
    const streams = world().streams;
    const headers: VerifiedHeader[] = [];

    before(async () => {
      const verifier = newVerifier();
      for (const s of streams) {
        const v = await verifier.verifyHeader([s.value], s.method, false);
        if (!v.ok) throw new Error(`world: a stream header is refused (${v.reason})`);
        headers.push(v.header);
      }
    });

    it('every stream of the fuzzing world verifies to its end marker, its bodies delivered in order', () => {
      expect(streams.length).to.be.at.least(12);
      streams.forEach((s, k) => {
        const sv = headers[k]!.streamVerifier();
        const bodies = s.frames.map((f) => sv.open(f)).flatMap((r) => (r.ok && !r.end ? [hex(r.body)] : []));
        expect(bodies).to.deep.equal(s.bodies.map(hex));
        expect(sv.complete).to.equal(true);
      });
    });

    it('no mutated frame sequence verifies, and every frame accepted is the genuine frame of its position', () => {
      const arb = fc.tuple(fc.nat({ max: streams.length - 1 }), fc.array(seqEdit, { minLength: 1, maxLength: 3 }));
      let mutated = 0;
      holds(arb, 8_000, ([k, list]) => {
        const s = streams[k]!;
        let frames: Buffer[] = [...s.frames];
        for (const e of list) frames = applySeqEdit(frames, e, streams);
        if (same(frames, s.frames)) return;
        mutated++;
        const sv = headers[k]!.streamVerifier();
        let allOpened = true;
        for (let i = 0; i < frames.length; i++) {
          const r = noThrow('StreamVerifier.open', frames[i]!, () => sv.open(frames[i]!));
          if (!r.ok) {
            expect(REASONS.has(r.reason), r.reason).to.equal(true);
            allOpened = false;
            break; // the binding refuses the call at the first bad frame
          }
          expect(i < s.frames.length && frames[i]!.equals(s.frames[i]!), `frame ${i} accepted but not genuine: ${hex(frames[i]!)} (${JSON.stringify(list.map((e) => e.op))})`).to.equal(true);
        }
        expect(allOpened && sv.complete, `a mutated sequence verified: ${JSON.stringify(list.map((e) => e.op))}`).to.equal(false);
      });
      expect(mutated).to.be.above(7_000);
    });

    it('open() on arbitrary bytes, at any point of a stream', () => {
      holds(fc.tuple(fc.nat({ max: streams.length - 1 }), fc.nat({ max: 4 }), fc.uint8Array({ maxLength: 120 })), 2_000, ([k, skip, bytes]) => {
        const s = streams[k]!;
        const sv = headers[k]!.streamVerifier();
        for (const f of s.frames.slice(0, Math.min(skip, s.frames.length - 1))) expect(sv.open(f).ok).to.equal(true);
        const r = noThrow('StreamVerifier.open', bytes, () => sv.open(Buffer.from(bytes)));
        expect(r.ok, hex(bytes)).to.equal(false);
        if (!r.ok) expect(REASONS.has(r.reason), r.reason).to.equal(true);
      });
    });
  });
}
