// Verification semantics: what a verifier must refuse even when every signature is right.
import { expect } from 'chai';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  mintMacaroon,
  verifyMacaroon,
  type Macaroon,
} from '../../src/macaroon/index.js';
import { exact, utf8 } from './support.js';

const ROOT_KEY = Buffer.alloc(32, 1);
const AUTH_KEY = Buffer.alloc(32, 2);
const AUDIT_KEY = Buffer.alloc(32, 3);
const all = () => true;

/** A root with one third-party caveat for "auth", and auth's discharge. */
function scenario() {
  const root = addThirdPartyCaveat(addFirstPartyCaveat(mintMacaroon({ rootKey: ROOT_KEY, identifier: 'root-1' }), 'user = alice'), { caveatKey: AUTH_KEY, caveatId: 'auth-1', location: 'https://auth' });
  const discharge = addFirstPartyCaveat(mintMacaroon({ rootKey: AUTH_KEY, identifier: 'auth-1', location: 'https://auth' }), 'time < 2030');
  return { root, discharge, bound: bindForRequest(root, discharge) };
}

describe('macaroon: the signature chain', () => {
  it('a macaroon verifies with its root key and refuses another key', () => {
    const m = addFirstPartyCaveat(mintMacaroon({ rootKey: ROOT_KEY, identifier: 'x' }), 'a');
    expect(verifyMacaroon(m, ROOT_KEY, [], all)).to.include({ ok: true });
    expect(verifyMacaroon(m, AUTH_KEY, [], all)).to.include({ ok: false, reason: 'macaroon_bad_signature' });
  });
  it('dropping, reordering or editing a caveat breaks the signature', () => {
    const m = addFirstPartyCaveat(addFirstPartyCaveat(mintMacaroon({ rootKey: ROOT_KEY, identifier: 'x' }), 'a'), 'b');
    const variants: Macaroon[] = [
      { ...m, caveats: [m.caveats[0]!] },
      { ...m, caveats: [m.caveats[1]!, m.caveats[0]!] },
      { ...m, caveats: [m.caveats[0]!, { identifier: utf8('c') }] },
      { ...m, identifier: utf8('y') },
    ];
    for (const v of variants) expect(verifyMacaroon(v, ROOT_KEY, [], all)).to.include({ ok: false, reason: 'macaroon_bad_signature' });
  });
  it('the checker never sees a caveat of a macaroon whose signature failed', () => {
    const m = addFirstPartyCaveat(mintMacaroon({ rootKey: ROOT_KEY, identifier: 'x' }), 'a');
    let calls = 0;
    verifyMacaroon(m, AUTH_KEY, [], () => (calls++, true));
    expect(calls).to.equal(0);
  });
  it('a checker that throws fails closed', () => {
    const m = addFirstPartyCaveat(mintMacaroon({ rootKey: ROOT_KEY, identifier: 'x' }), 'a');
    expect(verifyMacaroon(m, ROOT_KEY, [], () => { throw new Error('boom'); })).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
  });
});

describe('macaroon: discharges', () => {
  it('a bound discharge verifies; the result lists every first-party caveat with its source', () => {
    const { root, bound } = scenario();
    const r = verifyMacaroon(root, ROOT_KEY, [bound], all);
    expect(r.ok).to.equal(true);
    if (r.ok) expect(r.caveats.map((c) => [Buffer.from(c.predicate).toString(), c.source, c.index])).to.deep.equal([['user = alice', 'root', 0], ['time < 2030', 0, 0]]);
  });
  it('an unbound discharge is refused', () => {
    const { root, discharge } = scenario();
    expect(verifyMacaroon(root, ROOT_KEY, [discharge], all)).to.include({ ok: false, reason: 'macaroon_bad_signature' });
  });
  it('a discharge bound to another root is refused', () => {
    const { root, discharge } = scenario();
    const other = addFirstPartyCaveat(root, 'narrower');
    expect(verifyMacaroon(root, ROOT_KEY, [bindForRequest(other, discharge)], all)).to.include({ ok: false, reason: 'macaroon_bad_signature' });
  });
  it('a missing discharge is refused', () => {
    expect(verifyMacaroon(scenario().root, ROOT_KEY, [], all)).to.include({ ok: false, reason: 'macaroon_discharge_missing' });
  });
  it('an unused discharge is refused', () => {
    const { root, bound } = scenario();
    const stray = bindForRequest(root, mintMacaroon({ rootKey: AUDIT_KEY, identifier: 'stray' }));
    expect(verifyMacaroon(root, ROOT_KEY, [bound, stray], all)).to.include({ ok: false, reason: 'macaroon_discharge_unused' });
  });
  it('two discharges with one identifier are refused as ambiguous', () => {
    const { root, bound } = scenario();
    expect(verifyMacaroon(root, ROOT_KEY, [bound, bound], all)).to.include({ ok: false, reason: 'macaroon_discharge_ambiguous' });
  });
  it('one discharge used for two caveats is refused', () => {
    let root = mintMacaroon({ rootKey: ROOT_KEY, identifier: 'root-2' });
    root = addThirdPartyCaveat(root, { caveatKey: AUTH_KEY, caveatId: 'auth-1' });
    root = addThirdPartyCaveat(root, { caveatKey: AUTH_KEY, caveatId: 'auth-1' });
    const d = bindForRequest(root, mintMacaroon({ rootKey: AUTH_KEY, identifier: 'auth-1' }));
    expect(verifyMacaroon(root, ROOT_KEY, [d], all)).to.include({ ok: false, reason: 'macaroon_discharge_reused' });
  });
  it('a discharge cycle is refused', () => {
    const root = addThirdPartyCaveat(mintMacaroon({ rootKey: ROOT_KEY, identifier: 'root-3' }), { caveatKey: AUTH_KEY, caveatId: 'a' });
    // Discharge "a" requires discharge "b", which requires "a" again.
    const a = addThirdPartyCaveat(mintMacaroon({ rootKey: AUTH_KEY, identifier: 'a' }), { caveatKey: AUDIT_KEY, caveatId: 'b' });
    const b = addThirdPartyCaveat(mintMacaroon({ rootKey: AUDIT_KEY, identifier: 'b' }), { caveatKey: AUTH_KEY, caveatId: 'a' });
    expect(verifyMacaroon(root, ROOT_KEY, [bindForRequest(root, a), bindForRequest(root, b)], all)).to.include({ ok: false, reason: 'macaroon_discharge_cycle' });
  });
  it('a discharge of a discharge is bound to the root and verified, caveats included', () => {
    const root = addThirdPartyCaveat(mintMacaroon({ rootKey: ROOT_KEY, identifier: 'root-4' }), { caveatKey: AUTH_KEY, caveatId: 'a' });
    const a = addThirdPartyCaveat(addFirstPartyCaveat(mintMacaroon({ rootKey: AUTH_KEY, identifier: 'a' }), 'in a'), { caveatKey: AUDIT_KEY, caveatId: 'b' });
    const b = addFirstPartyCaveat(mintMacaroon({ rootKey: AUDIT_KEY, identifier: 'b' }), 'in b');
    const ok = verifyMacaroon(root, ROOT_KEY, [bindForRequest(root, a), bindForRequest(root, b)], exact('in a', 'in b'));
    expect(ok).to.include({ ok: true });
    expect(verifyMacaroon(root, ROOT_KEY, [bindForRequest(root, a), bindForRequest(a, b)], all)).to.include({ ok: false, reason: 'macaroon_bad_signature' });
    expect(verifyMacaroon(root, ROOT_KEY, [bindForRequest(root, a), bindForRequest(root, b)], exact('in a'))).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
  });
  it('every first-party caveat is checked when several discharges are present', () => {
    let root = mintMacaroon({ rootKey: ROOT_KEY, identifier: 'root-5' });
    const keys = [AUTH_KEY, AUDIT_KEY, Buffer.alloc(32, 4)];
    keys.forEach((k, i) => (root = addThirdPartyCaveat(root, { caveatKey: k, caveatId: `tp-${i}` })));
    const ds = keys.map((k, i) => bindForRequest(root, addFirstPartyCaveat(mintMacaroon({ rootKey: k, identifier: `tp-${i}` }), `d${i}`)));
    const seen: string[] = [];
    expect(verifyMacaroon(root, ROOT_KEY, ds, (p) => (seen.push(Buffer.from(p).toString()), true))).to.include({ ok: true });
    expect(seen).to.deep.equal(['d0', 'd1', 'd2']);
    for (let i = 0; i < 3; i++) {
      const allowed = ['d0', 'd1', 'd2'].filter((_, j) => j !== i);
      expect(verifyMacaroon(root, ROOT_KEY, ds, exact(...allowed)), `only d${i} unsatisfied`).to.include({ ok: false, reason: 'macaroon_caveat_refused' });
    }
  });
  it('a wrong caveat key in the discharge is refused', () => {
    const { root } = scenario();
    const forged = bindForRequest(root, mintMacaroon({ rootKey: AUDIT_KEY, identifier: 'auth-1' }));
    expect(verifyMacaroon(root, ROOT_KEY, [forged], all)).to.include({ ok: false, reason: 'macaroon_bad_signature' });
  });
  it('more discharges than the bound are refused before any work', () => {
    const { root, bound } = scenario();
    expect(verifyMacaroon(root, ROOT_KEY, [bound, bound], all, { maxDischarges: 1 })).to.include({ ok: false, reason: 'macaroon_oversized' });
  });
});
