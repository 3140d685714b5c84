// Macaroons in the envelope (spec §11): proof of possession, hand-off, discharges,
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
  MemoryReplayStore,
  mintMacaroon,
  ReasonCode,
  refusalKind,
  RequestSigner,
  RequestVerifier,
  serializeMacaroonBinary,
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
    replayStore: new MemoryReplayStore({ now }),
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
    expect(v.header.claims.macaroonId).to.equal('alice-session-1');
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

  it('a macaroon read from a log (no signature) cannot make a request (macaroon_bad_proof)', async () => {
    const w = world();
    const logged = { ...alicesMacaroon(), signature: Buffer.alloc(32) };
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(logged) })))).to.equal('macaroon_bad_proof');
  });

  it('a presenter cannot drop a caveat it did not add: it lacks the shorter chain\'s signature (macaroon_bad_proof)', async () => {
    const w = world();
    const attenuated = addFirstPartyCaveat(alicesMacaroon(), 'user alice');
    const dropped = { ...attenuated, caveats: attenuated.caveats.slice(0, 2) }; // claims the shorter chain
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: possession(dropped) })))).to.equal('macaroon_bad_proof');
  });

  it('the request MAC is under the principal key: a forged envelope fails it before its credential is read (bad_mac)', async () => {
    const w = world();
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: possession(alicesMacaroon()) });
    const forged = Buffer.from(h.value);
    forged[forged.length - 1]! ^= 1;
    expect(reasonOf(await w.verify({ ...h, value: forged }))).to.equal('bad_mac');
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

describe('a hand-off gives the macaroon to the service called, and nobody else (spec §11.4)', () => {
  const handoff = (root: Macaroon): MacaroonPresentation => ({ root, discharges: [], presentation: 'handoff' });
  const handed = () => addFirstPartyCaveat(alicesMacaroon(), 'presenter backend'); // frontend delegates to backend

  it('is refused by a service that does not accept hand-offs (handoff_not_accepted)', async () => {
    const w = world();
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: handoff(handed()) })))).to.equal('handoff_not_accepted');
  });

  it('from the presenter named before this service: verifies, and the receiver holds the macaroon with its signature', async () => {
    const w = world({ acceptHandoff: true, self: 'backend' });
    const m = handed();
    const v = await w.verify(w.signer.sign(TRANSFER, BODY, { macaroon: handoff(m) }));
    if (!v.ok) throw new Error(v.reason);
    expect(v.header.claims.chain).to.deep.equal(['alice', 'frontend', 'backend']);
    expect(Buffer.from(v.header.delegated!.root.signature).equals(Buffer.from(m.signature))).to.equal(true);
    expect(v.header.delegated!.presentation).to.equal('possession');
    expect(JSON.stringify(v.header.claims)).to.not.include(Buffer.from(m.signature).toString('base64'));
  });

  it('never sends the signature: 32 zero bytes in its place, and neither it nor the possession key anywhere on the wire', async () => {
    const w = world({ acceptHandoff: true, self: 'backend' });
    const m = handed();
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: handoff(m) });
    expect(h.value.indexOf(Buffer.from(m.signature))).to.equal(-1);
    const env = decodeEnvelope(h.value.subarray(0, h.value.length - MAC_BYTES));
    if (!env.ok) throw new Error(env.reason);
    const credential = decodeMacaroonCredential(env.envelope.credential);
    if (!credential.ok) throw new Error(credential.reason);
    expect(Buffer.from(credential.credential.root.signature).equals(Buffer.alloc(32))).to.equal(true);
  });

  it('a recorded hand-off is of no use to whoever recorded it: appending `presenter mallory` and presenting it is refused (macaroon_bad_proof)', async () => {
    // The hardening review's attack: a tap in front of the backend records the hand-off, and
    // mallory (a principal with its own key) presents the macaroon as the next presenter.
    const w = world({ acceptHandoff: true, self: 'backend' });
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: handoff(handed()) });
    const env = decodeEnvelope(h.value.subarray(0, h.value.length - MAC_BYTES));
    if (!env.ok) throw new Error(env.reason);
    const recorded = decodeMacaroonCredential(env.envelope.credential);
    if (!recorded.ok) throw new Error(recorded.reason);
    // All mallory has is the recorded macaroon, whose signature field is zeros.
    const extended = addFirstPartyCaveat(recorded.credential.root, 'presenter mallory');
    const mallory = new RequestSigner(issueCredential(w.ring, AUDIENCE, 'mallory', ['teller']), { now: () => T0 });
    const v = await w.verify(mallory.sign(TRANSFER, BODY, { macaroon: possession(extended) }));
    expect(reasonOf(v)).to.equal('macaroon_bad_proof');
    // As a hand-off to the backend from mallory, likewise.
    const v2 = await w.verify(mallory.sign(TRANSFER, BODY, { macaroon: handoff(addFirstPartyCaveat(recorded.credential.root, 'presenter backend')) }));
    expect(reasonOf(v2)).to.equal('macaroon_bad_proof');
  });

  it('from a principal not named just before this service (delegation_mismatch)', async () => {
    const w = world({ acceptHandoff: true, self: 'backend' });
    const mallory = new RequestSigner(issueCredential(w.ring, AUDIENCE, 'mallory', ['teller']), { now: () => T0 });
    const v = await w.verify(mallory.sign(TRANSFER, BODY, { macaroon: handoff(handed()) }));
    expect(reasonOf(v)).to.equal('delegation_mismatch');
  });

  it('of a macaroon that does not name this service last is refused by its presenter caveat', async () => {
    const w = world({ acceptHandoff: true, self: 'backend' });
    const h = w.signer.sign(TRANSFER, BODY, { macaroon: handoff(alicesMacaroon()) });
    expect(reasonOf(await w.verify(h))).to.equal('macaroon_caveat_refused');
  });
});

describe('what a server refuses about a presented macaroon', () => {
  it('a credential that carries the signature is refused on its own reason (macaroon_signature_sent)', async () => {
    const w = world();
    const m = alicesMacaroon();
    const leaky = credentialWithSignature(m);
    expect(decodeMacaroonCredential(leaky)).to.deep.equal({ ok: false, reason: 'macaroon_signature_sent' });
    expect(reasonOf(await w.verify(w.signer.sign(TRANSFER, BODY, { credential: leaky })))).to.equal('macaroon_signature_sent');
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

/** A Credential carrying the root with its real signature, as a careless client might send it. */
function credentialWithSignature(m: Macaroon): Buffer {
  const len = (field: number, b: Uint8Array) => Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(b.length)]), b]);
  const inner = Buffer.concat([len(1, serializeMacaroonBinary(m)), Buffer.of(3 << 3, 1), len(4, Buffer.alloc(32, 7))]);
  return len(1, inner);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
