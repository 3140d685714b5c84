// RequestSigner and RequestVerifier without a transport (spec §4-§6): an honest header
// verifies and yields its claims; each kind of tampering, misdirection, staleness, replay and
// revocation is refused with its own reason; stream messages are bound to call and position.
import { expect } from 'chai';
import { ClientCredential, issueCredential } from '../../src/keys/credential';
import { hmacSha256, LABELS } from '../../src/crypto';
import { canonicalRoles, decodeEnvelope, encodeEnvelope, Envelope } from '../../src/wire/envelope';
import { ReasonCode } from '../../src/errors';
import { staticKeySource } from '../../src/keys/key-source';
import { generateRootKeyring, retireKey, RootKeyring, rotateRootKeyring, serviceKeyringFor, withDenied } from '../../src/keys/keyring';
import { MemoryReplayStore } from '../../src/replay/memory';
import { ReplayStore } from '../../src/replay/store';
import { RequestSigner, SignedHeader } from '../../src/signer';
import { StreamSigner, StreamVerifier, TRAILER_BYTES } from '../../src/wire/stream-tag';
import { HeaderVerdict, ReceivedHeader, RequestVerifier, RequestVerifierOptions, VerifiedHeader } from '../../src/verifier';
import { hex } from '../support/vectors';

const AUDIENCE = 'ledger';
const TRANSFER = '/ledger.v1.LedgerService/Transfer';
const GET_BALANCE = '/ledger.v1.LedgerService/GetBalance';
const IMPORT = '/ledger.v1.LedgerService/ImportTransactions';
const T0 = 1_735_689_600_000;
const MAX_AGE = 120_000;
const MAX_FUTURE = 30_000;
const BODY = Buffer.from('0a1c0a0474782d31120561636d652d311a05616c6963652064', 'hex');

interface World {
  ring: RootKeyring;
  cred: ClientCredential;
  clock: { now: number };
  signer: RequestSigner;
  verifier: RequestVerifier;
}

function world(options: { ring?: RootKeyring; verifierRing?: RootKeyring; verifier?: Partial<RequestVerifierOptions> } = {}): World {
  const ring = options.ring ?? generateRootKeyring();
  const cred = issueCredential(ring, AUDIENCE, 'billing-worker', ['teller', 'auditor']);
  // The verifier (and its replay store) started ten minutes before T0: requests issued before
  // a verifier starts are refused (the restart floor, spec §6.4), which these tests do not test.
  const clock = { now: T0 - 600_000 };
  const signer = new RequestSigner(cred, { now: () => clock.now });
  const verifier = new RequestVerifier({
    keys: staticKeySource(serviceKeyringFor(options.verifierRing ?? ring, AUDIENCE), AUDIENCE),
    now: () => clock.now,
    ...options.verifier,
  });
  clock.now = T0;
  return { ring, cred, clock, signer, verifier };
}

const received = (h: SignedHeader): ReceivedHeader => [h.value];
/** The metadata value for an envelope and a MAC: the envelope's bytes, then the MAC's. */
const pair = (envelope: Uint8Array, mac: Uint8Array): ReceivedHeader => [Buffer.concat([envelope, mac])];

async function verify(w: World, h: SignedHeader | ReceivedHeader, method = TRANSFER, single = true): Promise<HeaderVerdict> {
  const r = Array.isArray(h) ? (h as ReceivedHeader) : received(h as SignedHeader);
  return w.verifier.verifyHeader(r, method, single);
}

const reasonOf = (v: HeaderVerdict): ReasonCode | 'ok' => (v.ok ? 'ok' : v.reason);

function accepted(v: HeaderVerdict): VerifiedHeader {
  if (!v.ok) throw new Error(`refused: ${v.reason}`);
  return v.header;
}

function envelopeOf(h: SignedHeader): Envelope {
  const d = decodeEnvelope(h.envelope);
  if (!d.ok) throw new Error(d.reason);
  return d.envelope;
}

/** What a client holding `key` can send: any envelope it likes, MACed under its key. */
function forge(env: Envelope, key: Uint8Array): SignedHeader {
  const envelope = encodeEnvelope(env);
  const mac = hmacSha256(key, LABELS.requestMac, envelope);
  return { value: Buffer.concat([envelope, mac]), envelope, mac };
}

describe('an honest signed header verifies and yields its claims', () => {
  it('unary call: claims name the key, principal, roles, audience, method and time', async () => {
    const w = world();
    const header = accepted(await verify(w, w.signer.sign(TRANSFER, BODY)));
    expect(header.claims).to.deep.equal({
      keyId: w.ring.keys[0]!.keyId,
      principal: 'billing-worker',
      roles: ['auditor', 'teller'],
      onBehalfOf: undefined,
      userVerified: false,
      userRoles: undefined,
      chain: [],
      macaroonId: undefined,
      audience: AUDIENCE,
      method: TRANSFER,
      issuedAtMs: T0,
    });
    expect(Object.isFrozen(header.claims)).to.equal(true);
    expect(header.checkBody(BODY)).to.equal(undefined);
  });

  it('carries on_behalf_of into the claims, as asserted (not proven) without a macaroon', async () => {
    const w = world();
    const { claims } = accepted(await verify(w, w.signer.sign(TRANSFER, BODY, { onBehalfOf: 'alice@example.com' })));
    expect(claims.onBehalfOf).to.equal('alice@example.com');
    expect(claims.userVerified).to.equal(false);
    expect(claims.chain).to.deep.equal([]);
  });

  it('a credential field is refused by a verifier that accepts no macaroons (credential_not_accepted)', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY, { credential: Buffer.from('macaroon') });
    expect(reasonOf(await verify(w, signed))).to.equal('credential_not_accepted');
  });

  it('every request gets its own nonce, so signing the same call twice gives two valid headers', async () => {
    const w = world();
    const a = w.signer.sign(TRANSFER, BODY);
    const b = w.signer.sign(TRANSFER, BODY);
    expect(hex(envelopeOf(a).nonce)).not.to.equal(hex(envelopeOf(b).nonce));
    expect(reasonOf(await verify(w, a))).to.equal('ok');
    expect(reasonOf(await verify(w, b))).to.equal('ok');
  });

  it('verifies against a root keyring as well as a service keyring', async () => {
    const w = world();
    const fromRoot = new RequestVerifier({ keys: staticKeySource(w.ring, AUDIENCE), now: () => w.clock.now });
    expect(reasonOf(await fromRoot.verifyHeader(received(w.signer.sign(TRANSFER, BODY)), TRANSFER, true))).to.equal('ok');
  });
});

describe('the body digest binds the single request message (spec §5.1)', () => {
  it('checkBody accepts the signed bytes and refuses any single changed byte with bad_digest', async () => {
    const w = world();
    const header = accepted(await verify(w, w.signer.sign(TRANSFER, BODY)));
    expect(header.checkBody(BODY)).to.equal(undefined);
    for (let i = 0; i < BODY.length; i++) {
      const changed = Buffer.from(BODY);
      changed[i]! ^= 0x01;
      expect(header.checkBody(changed), `byte ${i}`).to.deep.equal({ ok: false, reason: 'bad_digest' });
    }
    expect(header.checkBody(BODY.subarray(1))).to.deep.equal({ ok: false, reason: 'bad_digest' });
    expect(header.checkBody(Buffer.concat([BODY, Buffer.of(0)]))).to.deep.equal({ ok: false, reason: 'bad_digest' });
  });

  it('a single-message method refuses a header without a digest (bad_digest)', async () => {
    const w = world();
    expect(reasonOf(await verify(w, w.signer.sign(TRANSFER, undefined), TRANSFER, true))).to.equal('bad_digest');
  });

  it('a request-stream method refuses a header with a digest (unexpected_digest)', async () => {
    const w = world();
    expect(reasonOf(await verify(w, w.signer.sign(IMPORT, BODY), IMPORT, false))).to.equal('unexpected_digest');
  });
});

describe('a changed envelope is refused', () => {
  it('a changed nonce byte: bad_mac', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    const at = signed.envelope.indexOf(Buffer.from(envelopeOf(signed).nonce));
    const changed = Buffer.from(signed.envelope);
    changed[at + 3]! ^= 0x01;
    expect(reasonOf(await verify(w, pair(changed, signed.mac)))).to.equal('bad_mac');
  });

  it('every single-bit change anywhere in the envelope is refused before or at the MAC', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY, { onBehalfOf: 'alice' });
    const preMac = ['malformed_envelope', 'unsupported_version', 'wrong_audience', 'wrong_method', 'bad_digest', 'unknown_key', 'bad_mac'];
    const seen = new Set<string>();
    for (let i = 0; i < signed.envelope.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const changed = Buffer.from(signed.envelope);
        changed[i]! ^= 1 << bit;
        const reason = reasonOf(await verify(w, pair(changed, signed.mac)));
        expect(preMac, `byte ${i} bit ${bit}`).to.include(reason);
        seen.add(reason);
      }
    }
    expect(seen).to.include('bad_mac').and.to.include('malformed_envelope');
    // The untouched header still verifies: the refusals above were about the changes.
    expect(reasonOf(await verify(w, signed))).to.equal('ok');
  });

  it('roles added or dropped by the client, re-MACed under its own key: bad_mac', async () => {
    const w = world();
    const env = envelopeOf(w.signer.sign(TRANSFER, BODY));
    const added = forge({ ...env, roles: canonicalRoles([...env.roles, 'admin']) }, w.cred.principalKey);
    expect(reasonOf(await verify(w, added))).to.equal('bad_mac');
    const dropped = forge({ ...env, roles: ['teller'] }, w.cred.principalKey);
    expect(reasonOf(await verify(w, dropped))).to.equal('bad_mac');
  });

  it('another principal name, re-MACed under the client key: bad_mac', async () => {
    const w = world();
    const env = envelopeOf(w.signer.sign(TRANSFER, BODY));
    expect(reasonOf(await verify(w, forge({ ...env, principal: 'payroll' }, w.cred.principalKey)))).to.equal('bad_mac');
  });

  it('a later issued-at, re-MACed under the client key, is still that client: the MAC is over the bytes as received', async () => {
    // Control for the forgeries above: re-encoding with the true grant verifies.
    const w = world();
    const env = envelopeOf(w.signer.sign(TRANSFER, BODY));
    expect(reasonOf(await verify(w, forge({ ...env, issuedAtMs: T0 + 1 }, w.cred.principalKey)))).to.equal('ok');
  });
});

describe('envelopes at the spec bounds are verified, never thrown on', () => {
  // 16 roles of 200 bytes: a principal-key info of about 3.3 KB, an envelope under 4096 bytes.
  const roles = Array.from({ length: 16 }, (_, i) => String.fromCharCode(97 + i).repeat(200));

  it('a credential granting 16 long roles can be issued, and its requests verify', async () => {
    const w = world();
    const cred = issueCredential(w.ring, AUDIENCE, 'p'.repeat(256), roles);
    const signer = new RequestSigner(cred, { now: () => T0 });
    const signed = signer.sign(TRANSFER, BODY);
    expect(signed.envelope.length).to.be.below(4096);
    const { claims } = accepted(await verify(w, signed));
    expect(claims.roles).to.deep.equal(roles);
  });

  it('a forged envelope with 16 long roles and a junk MAC is refused as a value (bad_mac)', async () => {
    const w = world();
    const env = envelopeOf(w.signer.sign(TRANSFER, BODY));
    const forged = forge({ ...env, roles }, Buffer.alloc(32, 1));
    let verdict: HeaderVerdict | undefined;
    let thrown: unknown;
    try {
      verdict = await verify(w, forged);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.equal(undefined);
    expect(reasonOf(verdict!)).to.equal('bad_mac');
  });
});

describe('a changed or malformed MAC is refused', () => {
  it('every single-bit change of the MAC: bad_mac', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    for (let i = 0; i < signed.mac.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const mac = Buffer.from(signed.mac);
        mac[i]! ^= 1 << bit;
        expect(reasonOf(await verify(w, pair(signed.envelope, mac))), `byte ${i} bit ${bit}`).to.equal('bad_mac');
      }
    }
  });

  it('a value too short to hold an envelope and its MAC (0, 1, 16, 32 bytes): malformed_envelope', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    for (const n of [0, 1, 16, 32]) {
      expect(reasonOf(await verify(w, [signed.value.subarray(signed.value.length - n)])), `${n} bytes`).to.equal('malformed_envelope');
    }
  });

  it('a MAC cut short or lengthened shifts the split and is refused (bad_mac or malformed_envelope)', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    for (const mac of [signed.mac.subarray(0, 31), Buffer.concat([signed.mac, Buffer.of(0)]), Buffer.alloc(0)]) {
      expect(reasonOf(await verify(w, pair(signed.envelope, mac))), `${mac.length} bytes`).to.be.oneOf(['bad_mac', 'malformed_envelope']);
    }
  });

  it('a MAC under another key entirely: bad_mac', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    const other = issueCredential(generateRootKeyring(), AUDIENCE, 'billing-worker', ['teller', 'auditor']);
    expect(reasonOf(await verify(w, pair(signed.envelope, hmacSha256(other.principalKey, LABELS.requestMac, signed.envelope))))).to.equal('bad_mac');
  });

  it('the MAC needs its label: HMAC over the bare envelope bytes is bad_mac', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    expect(reasonOf(await verify(w, pair(signed.envelope, hmacSha256(w.cred.principalKey, signed.envelope))))).to.equal('bad_mac');
  });
});

describe('the metadata must hold exactly one binary value: envelope then MAC (spec §4)', () => {
  it('refuses missing, duplicated and string-typed values with their reasons', async () => {
    const w = world();
    const { value } = w.signer.sign(TRANSFER, BODY);
    const cases: [string, ReceivedHeader, ReasonCode][] = [
      ['no value', [], 'missing_envelope'],
      ['two values', [value, value], 'duplicate_metadata'],
      ['two different values', [value, w.signer.sign(TRANSFER, BODY).value], 'duplicate_metadata'],
      ['the value as a base64 string', [value.toString('base64')], 'malformed_envelope'],
      ['the value as a latin1 string of the right length', [value.toString('latin1')], 'malformed_envelope'],
    ];
    for (const [name, r, reason] of cases) expect(reasonOf(await verify(w, r)), name).to.equal(reason);
    expect(reasonOf(await verify(w, [value]))).to.equal('ok');
  });

  it('an oversized envelope: oversized_envelope', async () => {
    const w = world({ verifier: { limits: { maxEnvelopeBytes: 64 } } });
    expect(reasonOf(await verify(w, w.signer.sign(TRANSFER, BODY)))).to.equal('oversized_envelope');
  });
});

describe('a request is only for the audience and method it was signed for', () => {
  it('a credential for audience billing presented to the ledger verifier: wrong_audience', async () => {
    const w = world();
    const billing = new RequestSigner(issueCredential(w.ring, 'billing', 'billing-worker', ['teller', 'auditor']), { now: () => T0 });
    expect(reasonOf(await verify(w, billing.sign(TRANSFER, BODY)))).to.equal('wrong_audience');
  });

  it('a ledger credential presented to the billing verifier: wrong_audience', async () => {
    const w = world();
    const billingVerifier = new RequestVerifier({ keys: staticKeySource(serviceKeyringFor(w.ring, 'billing'), 'billing'), now: () => T0 });
    expect(reasonOf(await billingVerifier.verifyHeader(received(w.signer.sign(TRANSFER, BODY)), TRANSFER, true))).to.equal('wrong_audience');
  });

  it('a billing client that writes audience "ledger" into its envelope: bad_mac', async () => {
    const w = world();
    const billingCred = issueCredential(w.ring, 'billing', 'billing-worker', ['teller', 'auditor']);
    const env = envelopeOf(new RequestSigner(billingCred, { now: () => T0 }).sign(TRANSFER, BODY));
    expect(reasonOf(await verify(w, forge({ ...env, audience: AUDIENCE }, billingCred.principalKey)))).to.equal('bad_mac');
  });

  it('a header signed for Transfer, arriving on GetBalance: wrong_method', async () => {
    const w = world();
    expect(reasonOf(await verify(w, w.signer.sign(TRANSFER, BODY), GET_BALANCE))).to.equal('wrong_method');
  });
});

describe('keys: unknown, retired and revoked keys and revoked principals are refused', () => {
  it('a key id the verifier does not hold: unknown_key', async () => {
    const w = world({ verifierRing: generateRootKeyring() });
    expect(reasonOf(await verify(w, w.signer.sign(TRANSFER, BODY)))).to.equal('unknown_key');
  });

  it('after rotation, credentials of the old key still verify (overlap); after retirement: unknown_key', async () => {
    const ring = generateRootKeyring();
    const rotated = rotateRootKeyring(ring);
    const overlap = world({ ring, verifierRing: rotated });
    expect(reasonOf(await verify(overlap, overlap.signer.sign(TRANSFER, BODY)))).to.equal('ok');
    const retired = world({ ring, verifierRing: retireKey(rotated, ring.keys[0]!.keyId) });
    expect(reasonOf(await verify(retired, retired.signer.sign(TRANSFER, BODY)))).to.equal('unknown_key');
  });

  it('a key id on the deny list: revoked_key', async () => {
    const ring = generateRootKeyring();
    const w = world({ ring, verifierRing: withDenied(ring, { keyIds: [ring.keys[0]!.keyId] }) });
    expect(reasonOf(await verify(w, w.signer.sign(TRANSFER, BODY)))).to.equal('revoked_key');
  });

  it('a principal on the deny list: revoked_principal (others still pass)', async () => {
    const ring = generateRootKeyring();
    const w = world({ ring, verifierRing: withDenied(ring, { principals: ['billing-worker'] }) });
    expect(reasonOf(await verify(w, w.signer.sign(TRANSFER, BODY)))).to.equal('revoked_principal');
    const other = new RequestSigner(issueCredential(ring, AUDIENCE, 'payroll'), { now: () => T0 });
    expect(reasonOf(await verify(w, other.sign(TRANSFER, BODY)))).to.equal('ok');
  });

  it('a forged request under a revoked principal is bad_mac, not revoked_principal (the deny list is checked after the MAC)', async () => {
    const ring = generateRootKeyring();
    const w = world({ ring, verifierRing: withDenied(ring, { principals: ['billing-worker'] }) });
    const signed = w.signer.sign(TRANSFER, BODY);
    const mac = Buffer.from(signed.mac);
    mac[0]! ^= 1;
    expect(reasonOf(await verify(w, pair(signed.envelope, mac)))).to.equal('bad_mac');
  });
});

describe('the issued-at window (spec §6.4)', () => {
  async function at(offsetMs: number) {
    const w = world();
    w.clock.now = T0 + offsetMs; // the client's clock
    const signed = w.signer.sign(TRANSFER, BODY);
    w.clock.now = T0; // the server's clock
    return verify(w, signed);
  }

  it('accepts issued-at from now - maxAge to now + maxFuture, inclusive', async () => {
    for (const offset of [-MAX_AGE, -1, 0, 1, MAX_FUTURE]) expect(reasonOf(await at(offset)), `${offset}`).to.equal('ok');
  });

  it('too old: expired, carrying the server time (and, for the audit, whose request it was)', async () => {
    for (const offset of [-MAX_AGE - 1, -3_600_000]) {
      const v = await at(offset);
      expect(v).to.deep.include({ ok: false, reason: 'expired', serverTimeMs: T0 });
      expect(v.ok ? undefined : v.claims?.principal).to.equal('billing-worker');
    }
  });

  it('too new: issued_in_future, carrying the server time', async () => {
    expect(await at(MAX_FUTURE + 1)).to.deep.include({ ok: false, reason: 'issued_in_future', serverTimeMs: T0 });
  });

  it('a refusal before the MAC verified carries no claims: nothing in it is authenticated', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    const v = await verify(w, pair(signed.envelope, Buffer.alloc(32)));
    expect(v).to.deep.equal({ ok: false, reason: 'bad_mac' });
  });

  it('a client that adopts the carried server time as its clock offset is then accepted', async () => {
    const w = world();
    const clientNow = T0 + 600_000;
    const signer = new RequestSigner(w.cred, { now: () => clientNow });
    const refused = await verify(w, signer.sign(TRANSFER, BODY));
    expect(reasonOf(refused)).to.equal('issued_in_future');
    signer.clockOffsetMs = (refused as { serverTimeMs: number }).serverTimeMs - clientNow;
    expect(reasonOf(await verify(w, signer.sign(TRANSFER, BODY)))).to.equal('ok');
  });
});

describe('a replayed header is refused (spec §6.4)', () => {
  it('the second presentation of a header: replayed_nonce', async () => {
    const w = world();
    const signed = w.signer.sign(TRANSFER, BODY);
    expect(reasonOf(await verify(w, signed))).to.equal('ok');
    expect(reasonOf(await verify(w, signed))).to.equal('replayed_nonce');
    w.clock.now += MAX_AGE; // still inside the window
    expect(reasonOf(await verify(w, signed))).to.equal('replayed_nonce');
  });

  it('a replay the cache had to forget to stay within its bound: nonce_forgotten', async () => {
    const clock = { now: T0 };
    const w = world({ verifier: { replayStore: new MemoryReplayStore({ maxEntries: 1, now: () => clock.now }) } });
    const first = w.signer.sign(TRANSFER, BODY);
    w.clock.now += 1;
    const second = w.signer.sign(TRANSFER, BODY);
    expect(reasonOf(await verify(w, first))).to.equal('ok');
    expect(reasonOf(await verify(w, second))).to.equal('ok');
    expect(reasonOf(await verify(w, first))).to.equal('nonce_forgotten');
  });

  it('forged requests never reach the replay cache', async () => {
    const calls: string[] = [];
    const cache: ReplayStore = { checkAndRemember: (principal) => (calls.push(principal), 'fresh') };
    const w = world({ verifier: { replayStore: cache } });
    const signed = w.signer.sign(TRANSFER, BODY);
    const mac = Buffer.from(signed.mac);
    mac[5]! ^= 0x10;
    expect(reasonOf(await verify(w, pair(signed.envelope, mac)))).to.equal('bad_mac');
    expect(calls).to.deep.equal([]);
    expect(reasonOf(await verify(w, signed))).to.equal('ok');
    expect(calls).to.have.length(1);
  });

  it('a replay cache that fails, or rejects, refuses the request (fail closed)', async () => {
    const throwing = world({ verifier: { replayStore: { checkAndRemember: () => { throw new Error('down'); } } } });
    expect(reasonOf(await verify(throwing, throwing.signer.sign(TRANSFER, BODY)))).to.equal('replay_cache_unavailable');
    const rejecting = world({ verifier: { replayStore: { checkAndRemember: () => Promise.reject(new Error('down')) } } });
    expect(reasonOf(await verify(rejecting, rejecting.signer.sign(TRANSFER, BODY)))).to.equal('replay_cache_unavailable');
    const asyncFresh = world({ verifier: { replayStore: { checkAndRemember: async () => 'fresh' as const } } });
    expect(reasonOf(await verify(asyncFresh, asyncFresh.signer.sign(TRANSFER, BODY)))).to.equal('ok');
  });
});

describe('stream messages are bound to their call and position (spec §5.2)', () => {
  const messages = ['first', 'second', 'third'].map((s) => Buffer.from(s));

  async function call(w = world()) {
    const signed = w.signer.sign(IMPORT, undefined);
    const tagger = w.signer.streamSigner(signed);
    const frames = messages.map((m) => tagger.tagMessage(m));
    const end = tagger.endMarker();
    const header = accepted(await verify(w, signed, IMPORT, false));
    return { w, signed, frames, end, header, opener: header.streamVerifier() };
  }

  const outcome = (sv: StreamVerifier, frame: Buffer): string => {
    const r = sv.open(frame);
    return r.ok ? (r.end ? 'end' : `message:${r.body.toString()}`) : r.reason;
  };

  it('an honest sequence opens in order, then the end marker completes the stream', async () => {
    const { frames, end, opener } = await call();
    expect(frames.map((f) => outcome(opener, f))).to.deep.equal(['message:first', 'message:second', 'message:third']);
    expect(opener.complete).to.equal(false);
    expect(outcome(opener, end)).to.equal('end');
    expect(opener.complete).to.equal(true);
  });

  it('a frame is the body followed by a 39-byte trailer: FA FF FF FF 0F, 21, flags, tag', async () => {
    const { frames, end } = await call();
    expect(TRAILER_BYTES).to.equal(39);
    expect(hex(frames[0]!.subarray(0, 5))).to.equal(hex(Buffer.from('first')));
    expect(hex(frames[0]!.subarray(5, 12))).to.equal('faffffff0f2100');
    expect(frames[0]!.length).to.equal(5 + 39);
    expect(hex(end.subarray(0, 7))).to.equal('faffffff0f2101');
    expect(end.length).to.equal(39);
  });

  it('a zero-message stream is just the end marker', async () => {
    const w = world();
    const signed = w.signer.sign(IMPORT, undefined);
    const end = w.signer.streamSigner(signed).endMarker();
    const opener = accepted(await verify(w, signed, IMPORT, false)).streamVerifier();
    expect(outcome(opener, end)).to.equal('end');
    expect(opener.complete).to.equal(true);
  });

  it('a dropped message: the next one is bad_stream_tag', async () => {
    const { frames, opener } = await call();
    expect(outcome(opener, frames[0]!)).to.equal('message:first');
    expect(outcome(opener, frames[2]!)).to.equal('bad_stream_tag');
  });

  it('reordered messages: bad_stream_tag', async () => {
    const { frames, opener } = await call();
    expect(outcome(opener, frames[1]!)).to.equal('bad_stream_tag');
  });

  it('a duplicated message: bad_stream_tag', async () => {
    const { frames, opener } = await call();
    expect(outcome(opener, frames[0]!)).to.equal('message:first');
    expect(outcome(opener, frames[0]!)).to.equal('bad_stream_tag');
  });

  it('a message from another call of the same client (another header MAC): bad_stream_tag', async () => {
    const { w, opener } = await call();
    const otherCall = w.signer.streamSigner(w.signer.sign(IMPORT, undefined));
    expect(outcome(opener, otherCall.tagMessage(messages[0]!))).to.equal('bad_stream_tag');
  });

  it('a message tagged by another principal who saw the header MAC: bad_stream_tag', async () => {
    const { w, signed, opener } = await call();
    const mallory = issueCredential(w.ring, AUDIENCE, 'mallory');
    expect(outcome(opener, new StreamSigner(mallory.principalKey, signed.mac).tagMessage(messages[0]!))).to.equal('bad_stream_tag');
  });

  it('a modified body, tag, or flags byte: bad_stream_tag', async () => {
    const { frames } = await call();
    const at = frames[0]!.length - TRAILER_BYTES;
    const variants: [string, (b: Buffer) => void][] = [
      ['body byte', (b) => (b[0]! ^= 1)],
      ['last tag byte', (b) => (b[b.length - 1]! ^= 1)],
      ['first tag byte', (b) => (b[at + 7]! ^= 1)],
      ['flags set to END on a non-empty body', (b) => (b[at + 6] = 0x01)],
      ['flags set to 02', (b) => (b[at + 6] = 0x02)],
    ];
    for (const [name, change] of variants) {
      const fresh = await call();
      const frame = Buffer.from(fresh.frames[0]!);
      change(frame);
      expect(outcome(fresh.opener, frame), name).to.equal('bad_stream_tag');
    }
  });

  it('messages cut from the end, with the end marker still forwarded: bad_stream_tag', async () => {
    const { frames, end, opener } = await call();
    expect(outcome(opener, frames[0]!)).to.equal('message:first');
    expect(outcome(opener, end)).to.equal('bad_stream_tag'); // the marker is bound to position 3
    expect(opener.complete).to.equal(false);
  });

  it('a frame without the trailer, or too short to hold one: missing_stream_tag', async () => {
    const { frames, opener } = await call();
    expect(outcome(opener, Buffer.from('plain protobuf bytes, no trailer at all, long enough'))).to.equal('missing_stream_tag');
    expect(outcome(opener, Buffer.alloc(0))).to.equal('missing_stream_tag');
    expect(outcome(opener, frames[0]!.subarray(frames[0]!.length - 38))).to.equal('missing_stream_tag');
    const wrongLength = Buffer.from(frames[0]!);
    wrongLength[wrongLength.length - TRAILER_BYTES + 5] = 0x20;
    expect(outcome(opener, wrongLength)).to.equal('missing_stream_tag');
  });

  it('anything after the end marker: message_after_end', async () => {
    const { frames, end, opener } = await call();
    for (const f of frames) opener.open(f);
    expect(outcome(opener, end)).to.equal('end');
    expect(outcome(opener, frames[0]!)).to.equal('message_after_end');
    expect(outcome(opener, end)).to.equal('message_after_end');
  });

  it('without the end marker the stream is not complete (truncation is detectable)', async () => {
    const { frames, opener } = await call();
    for (const f of frames) expect(opener.open(f).ok).to.equal(true);
    expect(opener.complete).to.equal(false);
  });

  it('the signer refuses to tag anything after its end marker', () => {
    const w = world();
    const tagger = w.signer.streamSigner(w.signer.sign(IMPORT, undefined));
    tagger.endMarker();
    expect(() => tagger.tagMessage(Buffer.from('late'))).to.throw();
    expect(() => tagger.endMarker()).to.throw();
  });
});

describe('a principal cannot pose as another by moving a role into its name', () => {
  // Regression: the derived-key cache once keyed on fields joined with NUL, so after one
  // honest request from principal "a" with roles [b, c], an envelope for principal "a\0b"
  // with role [c], MACed under a's key, hit a's cached key and was accepted.
  it("is refused (bad_mac) with the honest principal's key already cached", async () => {
    const ring = generateRootKeyring();
    const honest = issueCredential(ring, AUDIENCE, 'a', ['b', 'c']);
    const w = world({ ring });
    const signer = new RequestSigner(honest, { now: () => w.clock.now });
    expect(reasonOf(await verify(w, signer.sign(TRANSFER, BODY)))).to.equal('ok');
    const env = { ...envelopeOf(signer.sign(TRANSFER, BODY)), principal: 'a\u0000b', roles: ['c'] };
    expect(reasonOf(await verify(w, forge(env, honest.principalKey)))).to.equal('bad_mac');
  });
});

describe('the default replay cache runs on the verifier\'s clock', () => {
  it('accepts two honest requests from a clock far behind the machine\'s', async () => {
    const ring = generateRootKeyring();
    const cred = issueCredential(ring, AUDIENCE, 'billing-worker', ['teller']);
    const now = () => Date.now() - 3_600_000;
    const signer = new RequestSigner(cred, { now });
    const verifier = new RequestVerifier({ keys: staticKeySource(ring, AUDIENCE), now });
    for (let i = 0; i < 2; i++) {
      const h = signer.sign(TRANSFER, BODY);
      expect(reasonOf(await verifier.verifyHeader(received(h), TRANSFER, true))).to.equal('ok');
    }
  });
});
