// Interoperability with the npm `macaroon` package 3.0.4 (go-macaroon/js-macaroon; sjcl HMAC,
// tweetnacl secretbox), an independent implementation installed as a dev dependency, so this
// test never skips. Both directions, in every format both sides share:
//
//   V2 JSON:   theirs -> ours and ours -> theirs, full case.
//   V2 binary: ours -> theirs, full case. Theirs -> ours on small macaroons only: 3.0.4's
//              exportBinary doubles its buffer on every field it appends (ByteBuffer._grow
//              compares with an undefined `_capacity`; js-macaroon issue #41, fixed upstream
//              after this release), so it throws RangeError past about 22 fields — a macaroon
//              with a location, a first-party and a third-party caveat is already too big.
//   V1:        none. They read and write V1 only as the old V1 JSON ({identifier, signature,
//              caveats: [{cid, vid, cl}]}); reqauth reads and writes V1 binary only. Each side
//              refuses the other's V1 (checked below, so the matrix stays explicit).
//
// Each case: a first-party caveat, a third-party caveat, and its discharge (with a first-party
// caveat of its own) bound to the root; a wrong predicate and a missing or unbound discharge
// are refused on the verifying side.
import { expect } from 'chai';
import * as js from 'macaroon';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  mintMacaroon,
  parseMacaroon,
  serializeMacaroon,
  serializeMacaroonBinary,
  verifyMacaroon,
  type Macaroon,
  type MacaroonFormat,
} from '../../src/macaroon/index.js';
import { exact, parsed, utf8 } from './support.js';

const KEY = 'js-macaroon interop root key 32B';
const CAVEAT_KEY = 'js-macaroon third party key 32B!';
const ROOT_PREDICATE = 'user = alice';
const DISCHARGE_PREDICATE = 'time < 2030';

/** Their macaroon, third-party caveat and bound discharge. */
function mintTheirs(version: 1 | 2): { root: js.JsMacaroon; discharge: js.JsMacaroon; unbound: js.JsMacaroon } {
  const root = js.newMacaroon({ rootKey: utf8(KEY), identifier: 'js-root', location: 'https://svc', version });
  root.addFirstPartyCaveat(ROOT_PREDICATE);
  root.addThirdPartyCaveat(utf8(CAVEAT_KEY), 'js-tp', 'https://auth');
  const unbound = js.newMacaroon({ rootKey: utf8(CAVEAT_KEY), identifier: 'js-tp', location: 'https://auth', version });
  unbound.addFirstPartyCaveat(DISCHARGE_PREDICATE);
  const discharge = unbound.clone();
  discharge.bindToRoot(root.signature);
  return { root, discharge, unbound };
}

/** A checker for their verify: null when satisfied, an error string otherwise. */
function theirExact(...predicates: string[]): (condition: string) => string | null {
  return (condition) => (predicates.includes(condition) ? null : `unsatisfied: ${condition}`);
}

function theirVerify(root: js.JsMacaroon, discharges: js.JsMacaroon[], predicates: string[]): { ok: true } | { ok: false; error: string } {
  try {
    root.verify(utf8(KEY), theirExact(...predicates), discharges);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function ours(): { root: Macaroon; discharge: Macaroon; unbound: Macaroon } {
  let root = mintMacaroon({ rootKey: utf8(KEY), identifier: 'ts-root', location: 'https://svc' });
  root = addFirstPartyCaveat(root, ROOT_PREDICATE);
  root = addThirdPartyCaveat(root, { caveatKey: utf8(CAVEAT_KEY), caveatId: 'ts-tp', location: 'https://auth' });
  const unbound = addFirstPartyCaveat(mintMacaroon({ rootKey: utf8(CAVEAT_KEY), identifier: 'ts-tp', location: 'https://auth' }), DISCHARGE_PREDICATE);
  return { root, discharge: bindForRequest(root, unbound), unbound };
}

/** Our serialization in the form their importMacaroon takes: base64 text, or the decoded JSON object. */
function forThem(m: Macaroon, format: MacaroonFormat): js.JsMacaroon {
  const text = serializeMacaroon(m, format);
  return js.importMacaroon(format === 'v2json' ? (JSON.parse(text) as object) : text);
}

describe('macaroon interop: npm macaroon package (js-macaroon)', () => {
  it('macaroons minted by js-macaroon verify here (V2 JSON: first-party and third-party caveats, bound discharge)', () => {
    const t = mintTheirs(2);
    const write = (m: js.JsMacaroon) => JSON.stringify(m.exportJSON());
    const root = parsed(write(t.root));
    const discharge = parsed(write(t.discharge));
    // Same bytes on both sides: identifiers, caveats, signatures.
    expect(Buffer.from(root.signature).equals(Buffer.from(t.root.signature))).to.equal(true);
    expect(root.caveats.map((c) => c.verificationId !== undefined)).to.deep.equal([false, true]);
    expect(root.caveats[1]!.location).to.equal('https://auth');
    expect(verifyMacaroon(root, utf8(KEY), [discharge], exact(ROOT_PREDICATE, DISCHARGE_PREDICATE))).to.include({ ok: true });
    expect(verifyMacaroon(root, utf8(KEY), [discharge], exact(ROOT_PREDICATE))).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
    expect(verifyMacaroon(root, utf8(KEY), [], exact(ROOT_PREDICATE, DISCHARGE_PREDICATE))).to.include({ ok: false, reason: 'macaroon_discharge_missing' });
    expect(verifyMacaroon(root, utf8(KEY), [parsed(write(t.unbound))], exact(ROOT_PREDICATE, DISCHARGE_PREDICATE))).to.include({ ok: false, reason: 'macaroon_bad_signature' });
    expect(verifyMacaroon(root, utf8('another root key, also 32 bytes!'), [discharge], exact(ROOT_PREDICATE, DISCHARGE_PREDICATE))).to.include({ ok: false, reason: 'macaroon_bad_signature' });
  });

  it('macaroons minted by js-macaroon verify here (V2 binary, kept small for their exporter; byte-identical to ours)', () => {
    // Root: a third-party caveat only; discharge: one first-party caveat. No locations.
    const root = js.newMacaroon({ rootKey: utf8(KEY), identifier: 'js-root' });
    root.addThirdPartyCaveat(utf8(CAVEAT_KEY), 'js-tp');
    const unbound = js.newMacaroon({ rootKey: utf8(CAVEAT_KEY), identifier: 'js-tp' });
    unbound.addFirstPartyCaveat(DISCHARGE_PREDICATE);
    const discharge = unbound.clone();
    discharge.bindToRoot(root.signature);
    const rootBytes = root.exportBinary();
    const dischargeBytes = discharge.exportBinary();
    const ourRoot = parsed(js.bytesToBase64(rootBytes));
    const ourDischarge = parsed(js.bytesToBase64(dischargeBytes));
    expect(Buffer.from(serializeMacaroonBinary(ourRoot)).equals(Buffer.from(rootBytes))).to.equal(true);
    expect(Buffer.from(serializeMacaroonBinary(ourDischarge)).equals(Buffer.from(dischargeBytes))).to.equal(true);
    expect(verifyMacaroon(ourRoot, utf8(KEY), [ourDischarge], exact(DISCHARGE_PREDICATE))).to.include({ ok: true });
    expect(verifyMacaroon(ourRoot, utf8(KEY), [ourDischarge], exact())).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
    expect(verifyMacaroon(ourRoot, utf8(KEY), [], exact(DISCHARGE_PREDICATE))).to.include({ ok: false, reason: 'macaroon_discharge_missing' });
    expect(verifyMacaroon(ourRoot, utf8(KEY), [parsed(js.bytesToBase64(unbound.exportBinary()))], exact(DISCHARGE_PREDICATE))).to.include({ ok: false, reason: 'macaroon_bad_signature' });
    // A first-party caveat on a root, in binary too (small enough for their exporter).
    const fp = js.newMacaroon({ rootKey: utf8(KEY), identifier: 'js-fp', location: 'https://svc' });
    fp.addFirstPartyCaveat(ROOT_PREDICATE);
    const ourFp = parsed(js.bytesToBase64(fp.exportBinary()));
    expect(verifyMacaroon(ourFp, utf8(KEY), [], exact(ROOT_PREDICATE))).to.include({ ok: true });
    expect(verifyMacaroon(ourFp, utf8(KEY), [], exact(DISCHARGE_PREDICATE))).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
  });

  it('V1 is not shared: their V1 is the old V1 JSON, ours V1 binary; each side refuses the other\'s, neither misreads it', () => {
    const t = mintTheirs(1);
    expect(() => t.root.exportBinary()).to.throw();
    const v1json = t.root.exportJSON();
    expect(v1json).to.have.keys(['location', 'identifier', 'signature', 'caveats']);
    expect(parseMacaroon(JSON.stringify(v1json))).to.include({ ok: false, reason: 'macaroon_malformed' });
    expect(() => js.importMacaroon(serializeMacaroon(ours().root, 'v1'))).to.throw(/Version 1 binary format not supported/);
  });

  for (const format of ['v2', 'v2json'] as const) {
    it(`our ${format} macaroons verify in js-macaroon, and a wrong predicate or an unbound discharge is refused there`, () => {
      const m = ours();
      const root = forThem(m.root, format);
      const discharge = forThem(m.discharge, format);
      expect(Buffer.from(root.signature).equals(Buffer.from(m.root.signature))).to.equal(true);
      expect(theirVerify(root, [discharge], [ROOT_PREDICATE, DISCHARGE_PREDICATE])).to.deep.equal({ ok: true });
      expect(theirVerify(root, [discharge], [ROOT_PREDICATE])).to.include({ ok: false });
      expect(theirVerify(root, [], [ROOT_PREDICATE, DISCHARGE_PREDICATE])).to.include({ ok: false });
      expect(theirVerify(root, [forThem(m.unbound, format)], [ROOT_PREDICATE, DISCHARGE_PREDICATE])).to.include({ ok: false });
    });
  }

  it('a discharge one side binds verifies on the other (they bind ours, we bind theirs)', () => {
    // Their discharge for our root: they bind it to our root's signature.
    const m = ours();
    const theirDischarge = js.newMacaroon({ rootKey: utf8(CAVEAT_KEY), identifier: 'ts-tp', location: 'https://auth' });
    theirDischarge.addFirstPartyCaveat(DISCHARGE_PREDICATE);
    theirDischarge.bindToRoot(m.root.signature);
    expect(verifyMacaroon(m.root, utf8(KEY), [parsed(JSON.stringify(theirDischarge.exportJSON()))], exact(ROOT_PREDICATE, DISCHARGE_PREDICATE))).to.include({ ok: true });
    // Our discharge for their root: we bind it to their root's signature.
    const t = mintTheirs(2);
    const theirRoot = parsed(JSON.stringify(t.root.exportJSON()));
    const ourDischarge = bindForRequest(theirRoot, addFirstPartyCaveat(mintMacaroon({ rootKey: utf8(CAVEAT_KEY), identifier: 'js-tp' }), DISCHARGE_PREDICATE));
    expect(theirVerify(t.root, [forThem(ourDischarge, 'v2json')], [ROOT_PREDICATE, DISCHARGE_PREDICATE])).to.deep.equal({ ok: true });
  });
});
