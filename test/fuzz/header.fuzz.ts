// The whole header verification (RequestVerifier.verifyHeader, spec §6.5) fed with mutations
// of valid `reqauth-envelope-bin` values that RequestSigner made, with and without a
// macaroon presented by possession: byte edits, truncations, extensions, insertions,
// deletions, splices of two requests, field-level changes re-encoded canonically (so they
// still parse) under the original or another MAC, macaroons altered and re-signed by their
// legitimate presenter, and malformed metadata shapes. Each is verified on the path most
// favourable to it (the method it names, the message arity its digest implies).
//
// Nothing throws or rejects; nothing mutated is accepted; and every byte-level mutation is
// refused before its MAC verifies (a refusal without claims, src/errors.ts).
import { expect } from 'chai';
import * as fc from 'fast-check';
import {
  addFirstPartyCaveat,
  canonicalRoles,
  caveat,
  decodeEnvelope,
  encodeEnvelope,
  Envelope,
  HeaderVerdict,
  MAC_BYTES,
  Macaroon,
  ReceivedHeader,
  RequestSigner,
  RequestVerifier,
  serializeMacaroonBinary,
} from '../../src';
import { applyEdits, edits, hex, holdsAsync, isMember, mutantOf } from './support';
import { CREDENTIALS, GET_BALANCE, IMPORT, newVerifier, T0, TRANSFER, UnaryRequest, world } from './world';

/** verifyHeader on the attacker's best path; a throw or rejection fails the property. */
async function verify(verifier: RequestVerifier, received: ReceivedHeader, fallbackMethod = TRANSFER): Promise<HeaderVerdict> {
  let method = fallbackMethod;
  let single = true;
  const value = received.length === 1 ? received[0] : undefined;
  if (value !== undefined && typeof value !== 'string' && value.length > MAC_BYTES) {
    const d = decodeEnvelope(value.subarray(0, value.length - MAC_BYTES));
    if (d.ok) {
      method = d.envelope.method;
      single = d.envelope.bodyDigest.length > 0;
    }
  }
  try {
    return await verifier.verifyHeader(received, method, single);
  } catch (err) {
    const shown = received.map((v) => (typeof v === 'string' ? JSON.stringify(v) : hex(v))).join(', ');
    throw new Error(`verifyHeader threw or rejected (${err instanceof Error ? err.message : String(err)}) on [${shown}]`);
  }
}

function refusedUnauthenticated(v: HeaderVerdict, what: string): void {
  expect(v.ok, `accepted: ${what}`).to.equal(false);
  if (!v.ok) expect(v.claims, `refused only after its MAC verified (${v.reason}): ${what}`).to.equal(undefined);
}

const macOf = (value: Buffer) => value.subarray(value.length - MAC_BYTES);
const envelopeOf = (value: Buffer): Envelope => {
  const d = decodeEnvelope(value.subarray(0, value.length - MAC_BYTES));
  if (!d.ok) throw new Error('world: a signed envelope does not decode');
  return d.envelope;
};

export function headerProperties(): void {
  describe('RequestVerifier.verifyHeader under mutated requests (spec §6.5)', () => {
    const w = world();
    const values = w.values;
    const envelopes = values.map(envelopeOf);
    const credentials = envelopes.map((e) => Buffer.from(e.credential)).filter((c) => c.length > 0);
    const digests = envelopes.map((e) => Buffer.from(e.bodyDigest));
    // One verifier for every mutation, never shown an original: a mutation it accepted would
    // be the first use of that nonce, so the replay cache cannot hide an acceptance.
    const verifier = newVerifier();

    it('every request of the fuzzing world is accepted once, by a verifier of its own', async () => {
      const sanity = newVerifier();
      expect(w.unary.filter((u) => u.macaroon).length).to.be.at.least(6);
      for (const u of w.unary) {
        const v = await sanity.verifyHeader([u.value], u.method, true);
        expect(v.ok ? 'ok' : v.reason, `${u.credential.principal} ${u.method}`).to.equal('ok');
      }
      for (const s of w.streams) expect((await sanity.verifyHeader([s.value], s.method, false)).ok).to.equal(true);
    });

    it('byte edits, truncations, extensions, insertions, deletions and splices are refused before the MAC verifies', async () => {
      const reasons = new Map<string, number>();
      let runs = 0;
      // Edits of the whole value, of the envelope under its MAC, or bit flips in the MAC alone.
      const part = (i: number, list: Parameters<typeof applyEdits>[1], where: 'envelope' | 'mac') => {
        const v = values[i]!;
        const [env, mac] = [v.subarray(0, v.length - MAC_BYTES), macOf(v)];
        return { from: `#${i} ${where} ${JSON.stringify(list.map((e) => e.op))}`, bytes: where === 'envelope' ? Buffer.concat([applyEdits(env, list), mac]) : Buffer.concat([env, applyEdits(mac, list)]) };
      };
      const index = fc.nat({ max: values.length - 1 });
      const mutant = fc.oneof(
        { weight: 3, arbitrary: mutantOf(values) },
        { weight: 2, arbitrary: fc.tuple(index, edits).map(([i, list]) => part(i, list, 'envelope')) },
        { weight: 1, arbitrary: fc.tuple(index, fc.array(fc.record({ op: fc.constant('flip' as const), at: fc.nat({ max: 31 }), bit: fc.nat({ max: 7 }) }), { minLength: 1, maxLength: 3 })).map(([i, list]) => part(i, list, 'mac')) },
      );
      await holdsAsync(mutant, 20_000, async (m) => {
        if (isMember(values, m.bytes)) return;
        const v = await verify(verifier, [m.bytes]);
        refusedUnauthenticated(v, `${m.from}: ${hex(m.bytes)}`);
        runs++;
        if (!v.ok) reasons.set(v.reason, (reasons.get(v.reason) ?? 0) + 1);
      });
      // The mutations must reach the MAC check, not only bounce off the parser.
      expect(reasons.get('bad_mac') ?? 0, JSON.stringify([...reasons])).to.be.above(runs / 10);
    });

    it('field-level changes re-encoded canonically, under the original MAC, another request\'s, or a random one', async () => {
      const principals = [...CREDENTIALS.map((c) => c.principal), 'frontend ', 'Frontend', 'front\u0000end', 'frontend\u0000teller'];
      // A field and its new value (data, so a counterexample prints legibly).
      type Change = { readonly [K in keyof Envelope]: { readonly field: K; readonly value: Envelope[K] } }[keyof Envelope];
      const to = <K extends keyof Envelope>(field: K) => (value: Envelope[K]) => ({ field, value }) as Change;
      const change: fc.Arbitrary<Change> = fc.oneof(
        fc.constantFrom('k-fuzz-1', 'k-fuzz-2', 'k-fuzz-3').map(to('keyId')),
        fc.oneof(fc.constantFrom(...principals), fc.string({ minLength: 1, maxLength: 12 })).map(to('principal')),
        fc.subarray(['admin', 'auditor', 'teller', 'teller2']).map((roles) => to('roles')(canonicalRoles(roles))),
        fc.constantFrom('', 'alice', 'bob', 'mallory').map(to('onBehalfOf')),
        fc.constantFrom('ledger', 'ledger2', 'Ledger', 'tokens').map(to('audience')),
        fc.constantFrom(TRANSFER, GET_BALANCE, IMPORT, '/ledger.v1.LedgerService/Admin').map(to('method')),
        fc.uint8Array({ minLength: 16, maxLength: 16 }).map(to('nonce')),
        fc.integer({ min: -120_000, max: 30_000 }).map((d) => to('issuedAtMs')(T0 + d)),
        fc.oneof(fc.constantFrom(...digests), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(to('bodyDigest')),
        fc.oneof(fc.constant(Buffer.alloc(0)), fc.constantFrom(...credentials), mutantOf(credentials).map((m) => m.bytes)).map(to('credential')),
      );
      const mac = fc.oneof(
        fc.constant(undefined), // the original's
        fc.constantFrom(...values.map(macOf)),
        fc.uint8Array({ minLength: MAC_BYTES, maxLength: MAC_BYTES }),
      );
      const arb = fc.tuple(fc.nat({ max: values.length - 1 }), fc.array(change, { minLength: 1, maxLength: 2 }), mac);
      await holdsAsync(arb, 10_000, async ([i, changes, otherMac]) => {
        let env = envelopes[i]!;
        for (const c of changes) env = { ...env, [c.field]: c.value };
        const value = Buffer.concat([encodeEnvelope(env), otherMac ?? macOf(values[i]!)]);
        if (isMember(values, value)) return;
        refusedUnauthenticated(await verify(verifier, [value]), `#${i} re-encoded: ${hex(value)}`);
      });
    });

    it('a macaroon altered without its signature and re-signed by its legitimate presenter is refused', async () => {
      const withMacaroon = w.unary.filter((u) => u.options.macaroon !== undefined);
      const signers = new Map(CREDENTIALS.map((c) => [c, new RequestSigner(c, { now: () => T0 })]));
      const key = (m: { root: Macaroon; discharges: readonly Macaroon[] }) => [m.root, ...m.discharges].map((x) => hex(serializeMacaroonBinary(x))).join('|');
      const genuine = new Set(withMacaroon.map((u) => key(u.options.macaroon!)));
      const roots = [...new Map(withMacaroon.map((u) => [hex(u.options.macaroon!.root.signature), u.options.macaroon!.root])).values()];
      const allDischarges = withMacaroon.flatMap((u) => u.options.macaroon!.discharges);
      const predicate = fc.oneof(
        fc.constantFrom(caveat.user('mallory'), caveat.presenter('backend'), caveat.presenter('frontend'), caveat.method(TRANSFER), caveat.expires(T0 + 1e9), caveat.roles('admin')),
        fc.string({ minLength: 1, maxLength: 20 }),
      );
      type Alter = (m: { root: Macaroon; discharges: readonly Macaroon[] }) => { root: Macaroon; discharges: readonly Macaroon[] };
      const withCaveats = (root: Macaroon, caveats: Macaroon['caveats']): Macaroon => ({ ...root, caveats });
      const alter: fc.Arbitrary<Alter> = fc.oneof(
        fc.nat().map((i): Alter => ({ root, discharges }) => ({ root: withCaveats(root, root.caveats.filter((_, k) => k !== i % root.caveats.length)), discharges })),
        fc.tuple(fc.nat(), predicate).map(([i, p]): Alter => ({ root, discharges }) => ({ root: withCaveats(root, root.caveats.map((c, k) => (k === i % root.caveats.length ? { identifier: Buffer.from(p) } : c))), discharges })),
        fc.tuple(fc.nat(), predicate).map(([i, p]): Alter => ({ root, discharges }) => {
          const at = i % (root.caveats.length + 1);
          return { root: withCaveats(root, [...root.caveats.slice(0, at), { identifier: Buffer.from(p) }, ...root.caveats.slice(at)]), discharges };
        }),
        fc.tuple(fc.nat(), fc.nat()).map(([i, j]): Alter => ({ root, discharges }) => {
          const c = [...root.caveats];
          const [a, b] = [i % c.length, j % c.length];
          [c[a], c[b]] = [c[b]!, c[a]!];
          return { root: withCaveats(root, c), discharges };
        }),
        fc.constantFrom('m1.session-0', 'm1.session-99', 'm2.session-0', 'm1').map((id): Alter => ({ root, discharges }) => ({ root: { ...root, identifier: Buffer.from(id) }, discharges })),
        fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...roots.map((r) => r.signature)), fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 7 })).map(([at, bit]) => ({ at, bit })))
          .map((s): Alter => ({ root, discharges }) => {
            if (s instanceof Uint8Array) return { root: { ...root, signature: s }, discharges };
            const sig = Buffer.from(root.signature);
            sig[s.at % 32]! ^= 1 << s.bit;
            return { root: { ...root, signature: sig }, discharges };
          }),
        fc.constant<Alter>(({ root }) => ({ root, discharges: [] })),
        fc.constantFrom(...allDischarges).map((d): Alter => ({ root, discharges }) => ({ root, discharges: [...discharges, d] })),
        fc.constantFrom(...allDischarges).map((d): Alter => ({ root, discharges }) => ({ root, discharges: discharges.length > 0 ? [d] : [] })),
        // A discharge as its third party minted it, not bound to this root.
        fc.constantFrom(...w.unboundDischarges).map((d): Alter => ({ root, discharges }) => ({ root, discharges: discharges.length > 0 ? [d] : [] })),
        fc.constant<Alter>(({ root, discharges }) => ({ root, discharges: discharges.map((d) => ({ ...d, caveats: [] })) })),
        predicate.map((p): Alter => ({ root, discharges }) => ({ root, discharges: discharges.map((d) => ({ ...addFirstPartyCaveat(d, p), signature: d.signature })) })),
        // Another macaroon's content under this one's signature.
        fc.nat({ max: roots.length - 1 }).map((k): Alter => ({ root, discharges }) => ({ root: { ...roots[k]!, signature: roots[k] === root ? roots[(k + 1) % roots.length]!.signature : root.signature }, discharges })),
      );
      let altered = 0;
      await holdsAsync(fc.tuple(fc.nat({ max: withMacaroon.length - 1 }), fc.array(alter, { minLength: 1, maxLength: 2 })), 3_000, async ([i, list]) => {
        const u: UnaryRequest = withMacaroon[i]!;
        const original = { root: u.options.macaroon!.root, discharges: u.options.macaroon!.discharges };
        let m = original;
        for (const a of list) m = a(m);
        if (genuine.has(key(m))) return; // altered into a macaroon the presenter holds anyway
        altered++;
        const signed = signers.get(u.credential)!.sign(u.method, u.body, { ...u.options, macaroon: { root: m.root, discharges: m.discharges, presentation: 'possession' } });
        const v = await verify(verifier, [signed.value], u.method);
        expect(v.ok, `accepted an altered macaroon: ${key(m)}`).to.equal(false);
      });
      expect(altered).to.be.above(2_000);
    });

    it('metadata shapes: no value, several values, text values, values of 32 bytes or fewer', async () => {
      const one = fc.oneof(
        fc.constantFrom(...values),
        mutantOf(values).map((m) => m.bytes),
        fc.string({ maxLength: 40 }),
        fc.uint8Array({ maxLength: MAC_BYTES }).map((b) => Buffer.from(b)),
      );
      await holdsAsync(fc.array(one, { maxLength: 3 }), 3_000, async (received) => {
        const only = received.length === 1 ? received[0] : undefined;
        if (only !== undefined && typeof only !== 'string' && isMember(values, only)) return; // a genuine request
        refusedUnauthenticated(await verify(verifier, received), `${received.length} values`);
      });
    });

    it('a mutation that applies the same edits to a request with and without a macaroon is refused either way', async () => {
      // Pairs of the same principal and method, one with a macaroon and one without, so a
      // difference in coverage between the two paths shows up.
      const pairs = w.unary.filter((u) => u.options.macaroon !== undefined).map((u) => [u, w.unary.find((x) => x.credential === u.credential && x.method === u.method && x.options.macaroon === undefined)!] as const);
      await holdsAsync(fc.tuple(fc.nat({ max: pairs.length - 1 }), edits), 3_000, async ([i, list]) => {
        for (const u of pairs[i]!) {
          const bytes = applyEdits(u.value, list);
          if (isMember(values, bytes)) continue;
          refusedUnauthenticated(await verify(verifier, [bytes]), `${JSON.stringify(list.map((e) => e.op))} of ${u.macaroon ? 'a macaroon request' : 'a plain request'}: ${hex(bytes)}`);
        }
      });
    });
  });
}
