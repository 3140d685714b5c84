// The envelope test vectors (spec §10), test/vectors/envelope-v1.json: the current code must
// reproduce every recorded value from the recorded inputs, exactly, and a RequestVerifier
// must accept each vector as a request issued "now".
import { expect } from 'chai';
import { hkdfSha256, hmacSha256, LABELS, lengthPrefixed, sha256 } from '../../src/crypto';
import { decodeEnvelope, encodeEnvelope, Envelope, ENVELOPE_VERSION } from '../../src/wire/envelope';
import { staticKeySource } from '../../src/keys/key-source';
import { RootKeyring } from '../../src/keys/keyring';
import { deriveAudienceKey, derivePrincipalKey } from '../../src/keys/derive';
import { MemoryReplayStore } from '../../src/replay/memory';
import { StreamSigner } from '../../src/wire/stream-tag';
import { RequestVerifier } from '../../src/verifier';
import { decodeMacaroonCredential, encodeMacaroonCredential, macaroonSignature } from '../../src/macaroon/credential';
import { macaroonAcceptance } from '../../src/macaroon/acceptance';
import { macaroonKeys } from '../../src/macaroon/keyring';
import { addFirstPartyCaveat, mintMacaroon } from '../../src/macaroon/index';
import type { EnvelopeVector, EnvelopeVectorFile } from '../vectors/generate';
import { hex, loadVectors, unhex } from '../support/vectors';

/** The metadata value: the envelope's bytes, then the MAC's. */
const pair = (envelope: Uint8Array, mac: Uint8Array): Buffer[] => [Buffer.concat([envelope, mac])];

const file = loadVectors<EnvelopeVectorFile>('envelope-v1.json');

function envelopeFrom(v: EnvelopeVector): Envelope {
  const i = v.inputs;
  return {
    version: ENVELOPE_VERSION,
    keyId: i.key_id,
    principal: i.principal,
    roles: i.roles,
    onBehalfOf: i.on_behalf_of,
    audience: i.audience,
    method: i.method,
    nonce: unhex(i.nonce_hex),
    issuedAtMs: i.issued_at_ms,
    bodyDigest: unhex(v.body_digest_hex),
    credential: unhex(i.credential_hex),
  };
}

describe('envelope-v1.json: the file itself', () => {
  it('names its source and holds the four kinds of vector the spec promises', () => {
    expect(file.source).to.include('docs/spec.md');
    expect(file.vectors.map((v) => v.name)).to.include.members(['unary', 'unary-on-behalf-of-credential', 'stream', 'stream-zero-messages']);
    const obo = file.vectors.find((v) => v.name === 'unary-on-behalf-of-credential')!;
    expect(obo.inputs.on_behalf_of).not.to.equal('');
    expect(obo.inputs.credential_hex).not.to.equal('');
    expect(file.vectors.find((v) => v.name === 'stream')!.inputs.messages_hex).to.have.length(3);
    expect(file.vectors.find((v) => v.name === 'stream-zero-messages')!.frames_hex).to.have.length(1);
  });

  it('records every label: ASCII text and one zero byte', () => {
    expect(file.labels_hex).to.deep.equal({
      audienceKey: hex(Buffer.from('reqauth/v1 audience key\u0000', 'ascii')),
      principalKey: hex(Buffer.from('reqauth/v1 principal key\u0000', 'ascii')),
      requestMac: hex(Buffer.from('reqauth/v1 request mac\u0000', 'ascii')),
      streamTag: hex(Buffer.from('reqauth/v1 stream tag\u0000', 'ascii')),
      macaroonPossession: hex(Buffer.from('reqauth/v1 macaroon possession\u0000', 'ascii')),
      macaroonProof: hex(Buffer.from('reqauth/v1 macaroon proof\u0000', 'ascii')),
    });
    for (const [name, recorded] of Object.entries(file.labels_hex)) expect(hex(LABELS[name as keyof typeof LABELS]), name).to.equal(recorded);
  });
});

for (const v of file.vectors) {
  describe(`envelope-v1.json vector "${v.name}": the code reproduces every value`, () => {
    const i = v.inputs;
    const root = unhex(i.root_secret_hex);

    it('audience key info = label || lp(key_id) || lp(audience), and the audience key', () => {
      const info = Buffer.concat([LABELS.audienceKey, lengthPrefixed(i.key_id), lengthPrefixed(i.audience)]);
      expect(hex(info)).to.equal(v.audience_key_info_hex);
      expect(hex(deriveAudienceKey(root, i.key_id, i.audience))).to.equal(v.audience_key_hex);
      expect(hex(hkdfSha256(root, new Uint8Array(0), info, 32))).to.equal(v.audience_key_hex);
    });

    it('principal key info = label || lp(principal) || u8(#roles) || lp(role)..., and the principal key', () => {
      const info = Buffer.concat([LABELS.principalKey, lengthPrefixed(i.principal), Buffer.of(i.roles.length), ...i.roles.map(lengthPrefixed)]);
      expect(hex(info)).to.equal(v.principal_key_info_hex);
      const audienceKey = unhex(v.audience_key_hex);
      expect(hex(derivePrincipalKey(audienceKey, i.principal, i.roles))).to.equal(v.principal_key_hex);
      expect(hex(derivePrincipalKey(audienceKey, i.principal, [...i.roles].reverse())), 'role order given does not matter').to.equal(v.principal_key_hex);
      expect(hex(hkdfSha256(audienceKey, new Uint8Array(0), info, 32))).to.equal(v.principal_key_hex);
    });

    it('body digest', () => {
      if (v.kind === 'unary') expect(hex(sha256(unhex(i.message_hex!)))).to.equal(v.body_digest_hex);
      else expect(v.body_digest_hex).to.equal('');
    });

    it('envelope bytes (canonical encoding), and they decode back to the inputs', () => {
      const bytes = encodeEnvelope(envelopeFrom(v));
      expect(hex(bytes)).to.equal(v.envelope_hex);
      const decoded = decodeEnvelope(unhex(v.envelope_hex));
      if (!decoded.ok) throw new Error(decoded.reason);
      const e = decoded.envelope;
      expect([e.keyId, e.principal, [...e.roles], e.onBehalfOf, e.audience, e.method, hex(e.nonce), e.issuedAtMs, hex(e.bodyDigest), hex(e.credential)]).to.deep.equal([
        i.key_id, i.principal, i.roles, i.on_behalf_of, i.audience, i.method, i.nonce_hex, i.issued_at_ms, v.body_digest_hex, i.credential_hex,
      ]);
    });

    if (i.macaroon) {
      const m = i.macaroon;
      it('macaroon: signature, possession key, proof, and the credential bytes (spec §11.2)', () => {
        let root = mintMacaroon({ rootKey: unhex(m.root_key_hex), identifier: m.identifier, location: m.location });
        for (const c of m.caveats) root = addFirstPartyCaveat(root, c);
        const signature = macaroonSignature(root, unhex(m.root_key_hex));
        expect(hex(signature)).to.equal(v.macaroon!.signature_hex);
        expect(hex(root.signature), 'the chain as the macaroon library computes it').to.equal(v.macaroon!.signature_hex);
        const possessionKey = hmacSha256(unhex(v.principal_key_hex), LABELS.macaroonPossession, signature);
        expect(hex(possessionKey)).to.equal(v.macaroon!.possession_key_hex);
        const proof = hmacSha256(possessionKey, LABELS.macaroonProof, unhex(i.nonce_hex));
        expect(hex(proof)).to.equal(v.macaroon!.proof_hex);
        expect(hex(encodeMacaroonCredential({ root, discharges: [], presentation: m.presentation }, proof))).to.equal(i.credential_hex);
        const decoded = decodeMacaroonCredential(unhex(i.credential_hex));
        if (!decoded.ok) throw new Error(decoded.reason);
        expect(hex(decoded.credential.root.signature), 'the signature is withheld').to.equal('00'.repeat(32));
        expect(decoded.credential.presentation).to.equal(m.presentation);
        expect(unhex(v.envelope_hex).indexOf(signature), 'the signature is nowhere in the envelope').to.equal(-1);
      });
    }

    it('request MAC = HMAC(principal key, label || envelope)', () => {
      expect(hex(hmacSha256(unhex(v.principal_key_hex), LABELS.requestMac, unhex(v.envelope_hex)))).to.equal(v.mac_hex);
    });

    if (v.kind === 'stream') {
      it('framed messages, then the end marker (tags under the possession key with a macaroon)', () => {
        const tagger = new StreamSigner(unhex(v.macaroon?.possession_key_hex ?? v.principal_key_hex), unhex(v.mac_hex));
        const frames = [...i.messages_hex!.map((m) => tagger.tagMessage(unhex(m))), tagger.endMarker()];
        expect(frames.map(hex)).to.deep.equal(v.frames_hex);
      });
    } else {
      it('has no frames', () => expect(v.frames_hex).to.deep.equal([]));
    }
  });

  describe(`envelope-v1.json vector "${v.name}": a RequestVerifier accepts it at its issued-at`, () => {
    const i = v.inputs;
    const ring: RootKeyring = {
      format: 'reqauth-root-keyring/v1',
      keys: [{ keyId: i.key_id, secret: unhex(i.root_secret_hex), status: 'active', created: '' }],
      deny: { keyIds: [], principals: [] },
    };

    it('verifies the header and yields the inputs as claims, then the message(s)', async () => {
      const now = () => i.issued_at_ms;
      const macaroons = i.macaroon
        ? macaroonAcceptance({
            keys: macaroonKeys({ format: 'reqauth-macaroon-keyring/v1', keys: [{ keyId: i.macaroon.identifier.split('.')[0]!, rootKey: unhex(i.macaroon.root_key_hex), status: 'active' }], revoked: [] }),
            acceptHandoff: i.macaroon.presentation === 'handoff',
            self: 'ledger-backend',
          })
        : undefined;
      const verifier = new RequestVerifier({ keys: staticKeySource(ring, i.audience), now, replayStore: new MemoryReplayStore({ now }), ...(macaroons ? { macaroons } : {}) });
      const verdict = await verifier.verifyHeader(pair(unhex(v.envelope_hex), unhex(v.mac_hex)), i.method, v.kind === 'unary');
      if (i.credential_hex !== '' && !i.macaroon) {
        // Opaque credential bytes: a verifier without macaroon acceptance refuses any
        // credential (spec §11); the codec and MAC of this vector are checked above.
        expect(verdict.ok ? 'ok' : verdict.reason).to.equal('credential_not_accepted');
        return;
      }
      if (!verdict.ok) throw new Error(`refused: ${verdict.reason}`);
      const { claims } = verdict.header;
      expect(claims).to.include({ keyId: i.key_id, principal: i.principal, audience: i.audience, method: i.method, issuedAtMs: i.issued_at_ms });
      expect(claims.roles).to.deep.equal(i.roles);
      if (i.macaroon) {
        expect(claims).to.include({ onBehalfOf: 'alice', userVerified: true, macaroonId: i.macaroon.identifier });
      } else {
        expect(claims.onBehalfOf).to.equal(i.on_behalf_of === '' ? undefined : i.on_behalf_of);
      }

      if (v.kind === 'unary') {
        expect(verdict.header.checkBody(unhex(i.message_hex!))).to.equal(undefined);
      } else {
        const opener = verdict.header.streamVerifier();
        const opened = v.frames_hex.map((f) => opener.open(unhex(f)));
        expect(opened.map((o) => (o.ok ? (o.end ? 'end' : hex(o.body)) : o.reason))).to.deep.equal([...i.messages_hex!, 'end']);
        expect(opener.complete).to.equal(true);
      }
    });

    it('is refused one millisecond past its window, so the acceptance above depended on the time', async () => {
      const now = () => i.issued_at_ms + 120_001;
      const verifier = new RequestVerifier({ keys: staticKeySource(ring, i.audience), now, replayStore: new MemoryReplayStore({ now }) });
      const verdict = await verifier.verifyHeader(pair(unhex(v.envelope_hex), unhex(v.mac_hex)), i.method, v.kind === 'unary');
      expect(verdict).to.deep.include({ ok: false, reason: 'expired', serverTimeMs: i.issued_at_ms + 120_001 });
    });
  });
}
