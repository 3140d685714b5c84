// Properties over many seeded random macaroons (repeatable: the PRNG seed is fixed).
import { expect } from 'chai';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  mintMacaroon,
  parseMacaroon,
  parseMacaroonBytes,
  serializeMacaroon,
  serializeMacaroonBinary,
  verifyMacaroon,
  type FirstPartyChecker,
  type Macaroon,
} from '../../src/macaroon/index.js';
import { Prng } from '../support/vectors.js';
import { decodeBase64 } from '../../src/macaroon/base64.js';

const ROOT_KEY = Buffer.alloc(32, 0x11);
const TP_KEY = Buffer.alloc(32, 0x22);
const allow: FirstPartyChecker = (p) => !Buffer.from(p).toString().startsWith('deny');

function randomToken(rng: Prng): { root: Macaroon; discharges: Macaroon[] } {
  let root = mintMacaroon({ rootKey: ROOT_KEY, identifier: `id-${rng.u32()}`, location: rng.below(2) ? 'https://svc' : undefined });
  const n = 1 + rng.below(4);
  for (let i = 0; i < n; i++) root = addFirstPartyCaveat(root, `p${i} = ${rng.u32()}`);
  const discharges: Macaroon[] = [];
  if (rng.below(2)) {
    root = addThirdPartyCaveat(root, { caveatKey: TP_KEY, caveatId: `tp-${rng.u32()}`, location: 'https://auth' });
    const cid = root.caveats[root.caveats.length - 1]!.identifier;
    discharges.push(addFirstPartyCaveat(mintMacaroon({ rootKey: TP_KEY, identifier: cid }), 'time < 2030'));
  }
  return { root, discharges: discharges.map((d) => bindForRequest(root, d)) };
}

/** The signed content of a macaroon: everything but the location hints. */
const signedPart = (m: Macaroon) => ({ id: Buffer.from(m.identifier), sig: Buffer.from(m.signature), cav: m.caveats.map((c) => [Buffer.from(c.identifier), c.verificationId && Buffer.from(c.verificationId)]) });

describe('macaroon property: any single-byte change of a token fails to parse or fails verification', () => {
  it('V2 binary: every byte position, a random change each, over 40 tokens', () => {
    const rng = new Prng(0xc0ffee);
    let changes = 0;
    for (let t = 0; t < 40; t++) {
      const { root, discharges } = randomToken(rng);
      expect(verifyMacaroon(root, ROOT_KEY, discharges, allow)).to.include({ ok: true });
      const bytes = serializeMacaroonBinary(root);
      for (let i = 0; i < bytes.length; i++) {
        const mutated = Buffer.from(bytes);
        mutated[i] = (mutated[i]! + 1 + rng.below(255)) & 0xff;
        changes++;
        const p = parseMacaroonBytes(mutated);
        if (!p.ok) continue;
        const v = verifyMacaroon(p.macaroon, ROOT_KEY, discharges, allow);
        // Locations are hints outside the signature in every implementation: a change there
        // may verify, but then nothing signed changed.
        if (v.ok) expect(signedPart(p.macaroon), `byte ${i} of token ${t}`).to.deep.equal(signedPart(root));
      }
    }
    expect(changes).to.be.above(1000);
  });
  it('V1 and V2 JSON: every byte of the decoded form, over 20 tokens', () => {
    const rng = new Prng(42);
    for (let t = 0; t < 20; t++) {
      const { root, discharges } = randomToken(rng);
      for (const fmt of ['v1', 'v2json'] as const) {
        const text = serializeMacaroon(root, fmt);
        const bytes = fmt === 'v1' ? decodeBase64(text)! : Buffer.from(text);
        for (let i = 0; i < bytes.length; i++) {
          const mutated = Buffer.from(bytes);
          mutated[i] = (mutated[i]! + 1 + rng.below(255)) & 0xff;
          const p = parseMacaroonBytes(mutated);
          if (!p.ok) continue;
          const v = verifyMacaroon(p.macaroon, ROOT_KEY, discharges, allow);
          if (v.ok) expect(signedPart(p.macaroon), `${fmt} byte ${i}`).to.deep.equal(signedPart(root));
        }
      }
    }
  });
  it('base64 text: a changed character is refused, fails verification, or changes nothing signed', () => {
    const rng = new Prng(7);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=';
    for (let t = 0; t < 10; t++) {
      const { root, discharges } = randomToken(rng);
      const text = serializeMacaroon(root, 'v2');
      for (let i = 0; i < text.length; i++) {
        const c = alphabet[rng.below(alphabet.length)]!;
        if (c === text[i]) continue;
        const p = parseMacaroon(text.slice(0, i) + c + text.slice(i + 1));
        if (p.ok && verifyMacaroon(p.macaroon, ROOT_KEY, discharges, allow).ok) expect(signedPart(p.macaroon)).to.deep.equal(signedPart(root));
      }
    }
  });
});

describe('macaroon property: attenuation only narrows', () => {
  it('adding a caveat never turns a refusal into an acceptance', () => {
    const rng = new Prng(99);
    for (let t = 0; t < 200; t++) {
      const { root, discharges } = randomToken(rng);
      const digit = String(rng.below(10));
      // Either allow all but "deny…", or a stricter policy that refuses some random caveats.
      const checker: FirstPartyChecker = rng.below(2) ? allow : (p) => allow(p, undefined!) && !Buffer.from(p).toString().endsWith(digit);
      const before = verifyMacaroon(root, ROOT_KEY, discharges, checker).ok;
      const extra = rng.below(2) ? 'deny' : `p9 = ${rng.u32()}`;
      const narrowed = addFirstPartyCaveat(root, extra);
      // Discharges are bound to the presented root: rebinding is what a holder would do.
      const rebound = discharges.map((d) => ({ ...d, signature: bindForRequest(narrowed, unbind(d)).signature }));
      const after = verifyMacaroon(narrowed, ROOT_KEY, rebound, checker).ok;
      if (!before) expect(after, `token ${t}`).to.equal(false);
      if (extra === 'deny') expect(after).to.equal(false);
    }
  });
  it('the narrowed macaroon\'s caveats are a superset of the original\'s', () => {
    const rng = new Prng(5);
    const { root } = randomToken(rng);
    const narrowed = addFirstPartyCaveat(root, 'extra');
    const r1 = verifyMacaroon(root, ROOT_KEY, [], allow);
    const r2 = verifyMacaroon(narrowed, ROOT_KEY, [], allow);
    if (r1.ok && r2.ok) expect(r2.caveats.slice(0, r1.caveats.length)).to.deep.equal(r1.caveats);
  });
});

// Recompute an unbound discharge for rebinding: re-mint it (the test holds the caveat key).
function unbind(d: Macaroon): Macaroon {
  let m = mintMacaroon({ rootKey: TP_KEY, identifier: d.identifier });
  for (const c of d.caveats) m = addFirstPartyCaveat(m, c.identifier);
  return m;
}
