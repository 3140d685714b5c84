// Macaroons in the envelope (spec §11): proof of possession, bearer hand-off, discharges,
// revocation and the caveats' verdict, through RequestSigner and RequestVerifier.
import { expect } from 'chai';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  decodeEnvelope,
  decodeMacaroonCredential,
  generateRootKeyring,
  issueCredential,
  Macaroon,
  MacaroonAcceptance,
  MacaroonPresentation,
  MAC_BYTES,
  MemoryReplayCache,
  mintMacaroon,
  ReasonCode,
  refusalKind,
  RequestSigner,
  RequestVerifier,
  SignedHeader,
  staticKeySource,
  VerifiedCaveat,
} from '../../src';

const AUDIENCE = 'ledger';
const TRANSFER = '/ledger.v1.LedgerService/Transfer';
const BODY = Buffer.from('a transfer');
const MACAROON_KEY = Buffer.alloc(32, 0x6d);
const T0 = 1_767_225_600_000;

/** A deliberately small vocabulary for these tests: `user U`, and `presenter P` (last one presents). */
function authorize(caveats: readonly VerifiedCaveat[], request: { principal: string }) {
  let user: string | undefined;
  const presenters: string[] = [];
  for (const c of caveats) {
    const text = Buffer.from(c.predicate).toString('utf8');
    const [name, value] = [text.slice(0, text.indexOf(' ')), text.slice(text.indexOf(' ') + 1)];
    if (name === 'user') user = value;
    else if (name === 'presenter') presenters.push(value);
    else return { ok: false as const, reason: 'macaroon_caveat_refused' as ReasonCode };
  }
  if (presenters.at(-1) !== request.principal) return { ok: false as const, reason: 'macaroon_caveat_refused' as ReasonCode };
  return { ok: true as const, user, chain: user === undefined ? presenters : [user, ...presenters] };
}

function world(accept: Partial<MacaroonAcceptance> = {}) {
  const ring = generateRootKeyring();
  const cred = issueCredential(ring, AUDIENCE, 'frontend', ['teller']);
  const now = () => T0;
  const signer = new RequestSigner(cred, { now });
  const revoked = new Set<string>();
  const verifier = new RequestVerifier({
    keys: staticKeySource(ring, AUDIENCE),
    now,
    replayCache: new MemoryReplayCache({ now }),
    macaroons: {
      rootKey: (id) => (Buffer.from(id).toString() === 'unknown' ? undefined : MACAROON_KEY),
      isRevoked: (id) => revoked.has(Buffer.from(id).toString()),
      authorize,
      ...accept,
    },
  });
  const verify = async (h: SignedHeader, single = true) => {
    const v = await verifier.verifyHeader([h.value], TRANSFER, single);
    return v;
  };
  return { ring, cred, signer, verifier, verify, revoked };
}

const reasonOf = (v: { ok: boolean; reason?: ReasonCode }) => (v.ok ? 'ok' : v.reason);

function alicesMacaroon(identifier = 'alice-session-1'): Macaroon {
  let m = mintMacaroon({ rootKey: MACAROON_KEY, identifier, location: 'tokens' });
  m = addFirstPartyCaveat(m, 'user alice');
  return addFirstPartyCaveat(m, 'presenter frontend');
}

const possession = (root: Macaroon, discharges: Macaroon[] = []): MacaroonPresentation => ({ root, discharges, presentation: 'possession' });

describe('a macaroon presented by possession proves the user (spec §11.2)', () => {
  it('verifies, and the claims carry the proven user, the chain and the macaroon id', async () => {
    const w = world();
    const v = await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(alicesMacaroon()) }));
    if (!v.ok) throw new Error(v.reason);
    expect(v.header.claims).to.include({ onBehalfOf: 'alice', userVerified: true, principal: 'frontend' });
    expect(v.header.claims.chain).to.deep.equal(['alice', 'frontend']);
    expect(v.header.claims.macaroonId).to.equal(Buffer.from('alice-session-1').toString('base64url'));
  });

  it('never sends the signature: the wire carries 32 zero bytes in its place and nowhere the real one', async () => {
    const w = world();
    const m = alicesMacaroon();
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: possession(m) });
    const env = decodeEnvelope(h.value.subarray(0, h.value.length - MAC_BYTES));
    if (!env.ok) throw new Error(env.reason);
    const credential = decodeMacaroonCredential(env.envelope.credential);
    if (!credential.ok) throw new Error('credential');
    expect(Buffer.from(credential.credential.root.signature).equals(Buffer.alloc(32))).to.equal(true);
    expect(h.value.indexOf(Buffer.from(m.signature))).to.equal(-1);
  });

  it('a macaroon read from a log (no signature) cannot make a request: bad_mac', async () => {
    const w = world();
    const logged = { ...alicesMacaroon(), signature: Buffer.alloc(32) };
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(logged) })))).to.equal('bad_mac');
  });

  it('a presenter cannot drop a caveat it did not add: it lacks the shorter chain\'s signature (bad_mac)', async () => {
    const w = world();
    const attenuated = addFirstPartyCaveat(alicesMacaroon(), 'user alice');
    const dropped = { ...attenuated, caveats: attenuated.caveats.slice(0, 2) }; // claims the shorter chain
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(dropped) })))).to.equal('bad_mac');
  });

  it('another principal holding the macaroon and its signature is refused by its presenter caveat', async () => {
    const w = world();
    const other = new RequestSigner(issueCredential(w.ring, AUDIENCE, 'mallory', ['teller']), { now: () => T0 });
    const v = await w.verify(other.sign(TRANSFER, BODY, { macaroon: possession(alicesMacaroon()) }));
    expect(reasonOf(v)).to.equal('macaroon_caveat_refused');
    expect(refusalKind('macaroon_caveat_refused')).to.equal('permission_denied');
  });

  it('request streams: the tags are keyed from the macaroon too', async () => {
    const w = world();
    const { header, tagger } = w.signer.signStream(TRANSFER, { macaroon: possession(alicesMacaroon()) });
    const v = await w.verifier.verifyHeader([header.value], TRANSFER, false);
    if (!v.ok) throw new Error(v.reason);
    const opener = v.header.streamVerifier();
    expect(opener.open(tagger.tagMessage(Buffer.from('one')))).to.deep.include({ ok: true, end: false });
    expect(opener.open(tagger.endMarker())).to.deep.include({ ok: true, end: true });
    // A tag made with the principal key alone does not open.
    const plain = w.signer.streamSigner(header);
    expect(v.header.streamVerifier().open(plain.tagMessage(Buffer.from('one')))).to.deep.include({ ok: false, reason: 'bad_stream_tag' });
  });
});

describe('what a server refuses about a presented macaroon', () => {
  it('bearer presentation is refused by default (bearer_not_accepted)', async () => {
    const w = world();
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: { root: alicesMacaroon(), discharges: [], presentation: 'bearer' } });
    expect(reasonOf(await w.verify(h))).to.equal('bearer_not_accepted');
  });

  it('a bearer hand-off from the presenter named before this service verifies and hands over the macaroon', async () => {
    const w = world({ acceptBearer: true, self: 'backend' });
    const handed = addFirstPartyCaveat(alicesMacaroon(), 'presenter backend'); // frontend delegates to backend
    const v = await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: { root: handed, discharges: [], presentation: 'bearer' } }));
    if (!v.ok) throw new Error(v.reason);
    expect(v.header.claims.chain).to.deep.equal(['alice', 'frontend', 'backend']);
    expect(Buffer.from(v.header.delegated!.root.signature).equals(Buffer.from(handed.signature))).to.equal(true);
    expect(JSON.stringify(v.header.claims)).to.not.include(Buffer.from(handed.signature).toString('base64'));
  });

  it('a bearer hand-off with a forged signature (macaroon_bad_signature)', async () => {
    const w = world({ acceptBearer: true, self: 'backend' });
    const forged = { ...addFirstPartyCaveat(alicesMacaroon(), 'presenter backend'), signature: Buffer.alloc(32, 1) };
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: { root: forged, discharges: [], presentation: 'bearer' } });
    expect(reasonOf(await w.verify(h))).to.equal('macaroon_bad_signature');
  });

  it('a bearer hand-off from a principal not named just before this service (delegation_mismatch)', async () => {
    const w = world({ acceptBearer: true, self: 'backend' });
    const mallory = new RequestSigner(issueCredential(w.ring, AUDIENCE, 'mallory', ['teller']), { now: () => T0 });
    const handed = addFirstPartyCaveat(alicesMacaroon(), 'presenter backend');
    const v = await w.verify(mallory.sign(TRANSFER, BODY, { macaroon: { root: handed, discharges: [], presentation: 'bearer' } }));
    expect(reasonOf(v)).to.equal('delegation_mismatch');
  });

  it('a bearer hand-off of a macaroon that does not name this service last is refused by its presenter caveat', async () => {
    const w = world({ acceptBearer: true, self: 'backend' });
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: { root: alicesMacaroon(), discharges: [], presentation: 'bearer' } });
    expect(reasonOf(await w.verify(h))).to.equal('macaroon_caveat_refused');
  });

  it('an unknown root key (unknown_macaroon_key) and a revoked identifier (revoked_macaroon)', async () => {
    const w = world();
    const unknown = addFirstPartyCaveat(mintMacaroon({ rootKey: MACAROON_KEY, identifier: 'unknown' }), 'presenter frontend');
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(unknown) })))).to.equal('unknown_macaroon_key');
    w.revoked.add('alice-session-2');
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(alicesMacaroon('alice-session-2')) })))).to.equal(
      'revoked_macaroon',
    );
  });

  it('an envelope naming another user than its macaroon (user_mismatch)', async () => {
    const w = world();
    const h = w.signer.sign(TRANSFER, BODY, { onBehalfOf: 'bob', macaroon: possession(alicesMacaroon()) });
    expect(reasonOf(await w.verify(h))).to.equal('user_mismatch');
  });

  it('an unknown caveat fails closed (macaroon_caveat_refused)', async () => {
    const w = world();
    const m = addFirstPartyCaveat(alicesMacaroon(), 'shoe-size 44');
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(m) })))).to.equal('macaroon_caveat_refused');
  });

  it('a credential that is not a reqauth.v1.Credential (malformed_credential)', async () => {
    const w = world();
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { credential: Buffer.from('not a credential') })))).to.equal('malformed_credential');
  });

  it('a server without macaroon acceptance refuses any credential (credential_not_accepted)', async () => {
    const ring = generateRootKeyring();
    const signer = new RequestSigner(issueCredential(ring, AUDIENCE, 'frontend', []));
    const verifier = new RequestVerifier({ keys: staticKeySource(ring, AUDIENCE) });
    const v = await verifier.verifyHeader([signer.sign(TRANSFER, BODY, { macaroon: possession(alicesMacaroon()) }).value], TRANSFER, true);
    expect(reasonOf(v)).to.equal('credential_not_accepted');
  });
});

describe('third-party caveats: discharges bound to the root (spec §11.2)', () => {
  const caveatKey = Buffer.alloc(32, 0x33);
  const needsDischarge = () => addThirdPartyCaveat(alicesMacaroon(), { caveatKey, caveatId: 'is-employee alice', location: 'hr' });
  const discharge = () => mintMacaroon({ rootKey: caveatKey, identifier: 'is-employee alice', location: 'hr' });

  it('with its bound discharge, verifies', async () => {
    const w = world();
    const root = needsDischarge();
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: possession(root, [bindForRequest(root, discharge())]) });
    expect(reasonOf(await w.verify(h))).to.equal('ok');
  });

  it('without it (macaroon_discharge_missing), or unbound (macaroon_bad_signature)', async () => {
    const w = world();
    const root = needsDischarge();
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(root) })))).to.equal('macaroon_discharge_missing');
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(root, [discharge()]) })))).to.equal('macaroon_bad_signature');
  });
});
