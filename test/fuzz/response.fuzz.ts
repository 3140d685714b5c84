// Signed responses (spec §13) under generated changes: responses to calls of the fuzzing
// world (plain and macaroon calls, so both kinds of call key), their frames dropped,
// duplicated, reordered, truncated, edited byte-wise or mixed with another call's frames or
// random bytes, and their end changed: the status code or message, the entry edited, another
// call's entry. ResponseVerifier never throws; every frame it accepts is the genuine frame of
// its position; and no changed response verifies to its end.
import { expect } from 'chai';
import * as fc from 'fast-check';
import { MacKey } from '../../src/crypto';
import { possessionKey } from '../../src/macaroon/credential';
import { RequestSigner } from '../../src/signer';
import { ResponseStatus, ResponseVerifier } from '../../src/wire/response-tag';
import { applyEdits, edits, hex, holds, noThrow } from './support';
import { newVerifier, T0, world } from './world';

const FRAME_REASONS = new Set(['missing_response_tag', 'bad_response_tag']);
const END_REASONS = new Set(['missing_response_end', 'malformed_response_end', 'bad_response_end', 'response_truncated']);

interface SignedResponse {
  readonly verifier: () => ResponseVerifier;
  readonly frames: Buffer[];
  readonly status: ResponseStatus;
  readonly entry: Buffer;
}

type Change =
  | { readonly op: 'drop' | 'duplicate'; readonly at: number }
  | { readonly op: 'swap'; readonly at: number; readonly with: number }
  | { readonly op: 'truncate'; readonly keep: number }
  | { readonly op: 'edit'; readonly at: number; readonly edits: Parameters<typeof applyEdits>[1] }
  | { readonly op: 'foreign'; readonly at: number; readonly call: number; readonly frame: number; readonly replace: boolean }
  | { readonly op: 'random'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'code'; readonly code: number }
  | { readonly op: 'details'; readonly details: string }
  | { readonly op: 'entry'; readonly edits: Parameters<typeof applyEdits>[1] }
  | { readonly op: 'foreign-end'; readonly call: number };

const n = fc.nat({ max: 64 });
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constantFrom('drop' as const, 'duplicate' as const), at: n }),
  fc.record({ op: fc.constant('swap' as const), at: n, with: n }),
  fc.record({ op: fc.constant('truncate' as const), keep: n }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('edit' as const), at: n, edits }) },
  fc.record({ op: fc.constant('foreign' as const), at: n, call: n, frame: n, replace: fc.boolean() }),
  fc.record({ op: fc.constant('random' as const), at: n, bytes: fc.uint8Array({ maxLength: 80 }) }),
  fc.record({ op: fc.constant('code' as const), code: fc.oneof(fc.nat({ max: 16 }), fc.constantFrom(NaN, -1, 1.5, 2 ** 32)) }),
  fc.record({ op: fc.constant('details' as const), details: fc.string({ maxLength: 20 }) }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('entry' as const), edits }) },
  fc.record({ op: fc.constant('foreign-end' as const), call: n }),
);

interface Received {
  frames: Buffer[];
  status: ResponseStatus;
  entries: Buffer[];
}

function apply(r: Received, c: Change, calls: readonly SignedResponse[]): void {
  const len = r.frames.length;
  const at = (x: number) => (len === 0 ? 0 : x % len);
  switch (c.op) {
    case 'drop':
      if (len > 0) r.frames.splice(at(c.at), 1);
      break;
    case 'duplicate':
      if (len > 0) r.frames.splice(at(c.at), 0, r.frames[at(c.at)]!);
      break;
    case 'swap':
      if (len > 0) [r.frames[at(c.at)], r.frames[at(c.with)]] = [r.frames[at(c.with)]!, r.frames[at(c.at)]!];
      break;
    case 'truncate':
      r.frames.length = len === 0 ? 0 : c.keep % len;
      break;
    case 'edit':
      if (len > 0) r.frames[at(c.at)] = applyEdits(r.frames[at(c.at)]!, c.edits);
      break;
    case 'foreign': {
      const other = calls[c.call % calls.length]!;
      if (other.frames.length > 0) r.frames.splice(c.at % (len + 1), c.replace && len > 0 ? 1 : 0, other.frames[c.frame % other.frames.length]!);
      break;
    }
    case 'random':
      r.frames.splice(c.at % (len + 1), 0, Buffer.from(c.bytes));
      break;
    case 'code':
      r.status = { ...r.status, code: c.code };
      break;
    case 'details':
      r.status = { ...r.status, details: c.details };
      break;
    case 'entry':
      if (r.entries.length > 0) r.entries[0] = applyEdits(r.entries[0]!, c.edits);
      break;
    case 'foreign-end':
      r.entries = [calls[c.call % calls.length]!.entry];
      break;
  }
}

const same = (a: Received, b: SignedResponse) =>
  a.frames.length === b.frames.length &&
  a.frames.every((f, i) => f.equals(b.frames[i]!)) &&
  Object.is(a.status.code, b.status.code) &&
  a.status.details === b.status.details &&
  a.entries.length === 1 &&
  a.entries[0]!.equals(b.entry);

export function responseProperties(): void {
  describe('signed responses under generated changes (spec §13)', () => {
    const calls: SignedResponse[] = [];

    before(async () => {
      const verifier = newVerifier();
      let k = 0;
      for (const u of world().unary) {
        const signed = new RequestSigner(u.credential, { now: () => T0 }).signWithResponses(u.method, u.body, u.options);
        const v = await verifier.verifyHeader([signed.header.value], u.method, true);
        if (!v.ok) throw new Error(`world: a header is refused (${v.reason})`);
        const server = v.header.responseSigner();
        const frames = Array.from({ length: k % 4 }, (_, i) => server.tag(Buffer.from(i === 1 ? '' : `response ${k}.${i}`)));
        const status = { code: k % 17, details: k % 3 === 0 ? '' : `détail ${k}` };
        // The client's verifier for this call, fresh for each attempt: the call key (the
        // possession key with a macaroon, §11.2) and the request MAC.
        const principalKey = new MacKey(u.credential.principalKey);
        const key = u.options.macaroon ? possessionKey(principalKey, u.options.macaroon.root.signature) : principalKey;
        const entry = server.end(status);
        // The client's own verifier (from signWithResponses) accepts it, as the one built here must.
        const own = signed.responses;
        if (!frames.every((f) => own.open(f).ok) || !own.end(status, [entry]).ok) throw new Error('world: the client refuses an honest response');
        calls.push({ verifier: () => new ResponseVerifier(key, signed.header.mac), frames, status, entry });
        k++;
      }
    });

    function verdict(verifier: ResponseVerifier, r: Received): { ok: boolean; accepted: number } {
      let accepted = 0;
      for (const f of r.frames) {
        const opened = noThrow('ResponseVerifier.open', f, () => verifier.open(f));
        if (!opened.ok) {
          expect(FRAME_REASONS.has(opened.reason), opened.reason).to.equal(true);
          return { ok: false, accepted };
        }
        accepted++;
      }
      const end = noThrow('ResponseVerifier.end', r.entries[0] ?? new Uint8Array(0), () => verifier.end(r.status, r.entries));
      if (!end.ok) expect(END_REASONS.has(end.reason), end.reason).to.equal(true);
      return { ok: end.ok, accepted };
    }

    it('every response of the fuzzing world verifies', () => {
      expect(calls.length).to.be.at.least(24);
      expect(calls.filter((c) => c.frames.length === 0).length, 'responses without a message').to.be.above(0);
      for (const c of calls) expect(verdict(c.verifier(), { frames: [...c.frames], status: c.status, entries: [c.entry] }).ok).to.equal(true);
    });

    it('no changed response verifies, and every frame accepted is the genuine frame of its position', () => {
      let changed = 0;
      holds(fc.tuple(fc.nat({ max: calls.length - 1 }), fc.array(change, { minLength: 1, maxLength: 3 })), 6_000, ([k, list]) => {
        const c = calls[k]!;
        const r: Received = { frames: [...c.frames], status: { ...c.status }, entries: [c.entry] };
        for (const x of list) apply(r, x, calls);
        if (same(r, c)) return;
        changed++;
        const v = verdict(c.verifier(), r);
        for (let i = 0; i < v.accepted; i++) expect(r.frames[i]!.equals(c.frames[i]!), `frame ${i} accepted but not genuine: ${hex(r.frames[i]!)}`).to.equal(true);
        expect(v.ok, `a changed response verified: ${JSON.stringify(list.map((x) => x.op))}`).to.equal(false);
      });
      expect(changed).to.be.above(5_000);
    });

    it('end() on arbitrary bytes and statuses never throws and never accepts', () => {
      holds(fc.tuple(fc.nat({ max: calls.length - 1 }), fc.uint8Array({ maxLength: 120 }), fc.integer({ min: -2, max: 20 })), 2_000, ([k, bytes, code]) => {
        const c = calls[k]!;
        const verifier = c.verifier();
        for (const f of c.frames) verifier.open(f);
        const end = noThrow('ResponseVerifier.end', bytes, () => verifier.end({ code, details: '' }, [Buffer.from(bytes)]));
        expect(end.ok, hex(bytes)).to.equal(false);
      });
    });
  });
}
