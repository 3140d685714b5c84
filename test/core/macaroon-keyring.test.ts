// Macaroon root keys and revocation (spec §11.3): the identifier names its key, keys rotate
// with overlap, revocation is by identifier and reaches a running verifier through its file.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  addFirstPartyCaveat,
  generateMacaroonKeyring,
  generateRootKeyring,
  issueCredential,
  macaroonIdFromText,
  macaroonIdText,
  MacaroonKeys,
  macaroonKeyringToJson,
  macaroonKeys,
  mintUserMacaroon,
  parseMacaroonKeyring,
  ReqauthConfigError,
  RequestSigner,
  RequestVerifier,
  revokeMacaroons,
  rotateMacaroonKeyring,
  staticKeySource,
  WatchedFile,
} from '../../src';

const TRANSFER = '/ledger.v1.LedgerService/Transfer';
const BODY = Buffer.from('body');

function verifierWith(keys: () => MacaroonKeys) {
  const ring = generateRootKeyring();
  const signer = new RequestSigner(issueCredential(ring, 'ledger', 'frontend', []));
  const verifier = new RequestVerifier({
    keys: staticKeySource(ring, 'ledger'),
    macaroons: {
      rootKey: (id) => keys().rootKey(id),
      isRevoked: (id) => keys().isRevoked(id),
      authorize: () => ({ ok: true }),
    },
  });
  return async (m: ReturnType<typeof mintUserMacaroon>) => {
    const v = await verifier.verifyHeader([signer.sign(TRANSFER, BODY, { macaroon: { root: m, discharges: [], presentation: 'possession' } }).value], TRANSFER, true);
    return v.ok ? 'ok' : v.reason;
  };
}

describe('macaroon identifiers name their root key, so keys rotate with overlap', () => {
  it('the identifier is KEYID.RANDOM under the active key, unique per macaroon', () => {
    const ring = generateMacaroonKeyring();
    const a = Buffer.from(mintUserMacaroon(ring).identifier).toString();
    const b = Buffer.from(mintUserMacaroon(ring).identifier).toString();
    expect(a.startsWith(`${ring.keys[0]!.keyId}.`)).to.equal(true);
    expect(a).to.not.equal(b);
  });

  it('after rotation the new key mints and macaroons of the old key still verify; once removed they do not', async () => {
    let ring = generateMacaroonKeyring();
    const old = addFirstPartyCaveat(mintUserMacaroon(ring), 'user alice');
    ring = rotateMacaroonKeyring(ring);
    const fresh = mintUserMacaroon(ring);
    expect(Buffer.from(fresh.identifier).toString().startsWith(`${ring.keys[0]!.keyId}.`)).to.equal(true);
    let current = macaroonKeys(ring);
    const verify = verifierWith(() => current);
    expect(await verify(old)).to.equal('ok');
    expect(await verify(fresh)).to.equal('ok');
    current = macaroonKeys({ ...ring, keys: ring.keys.filter((k) => k.status === 'active') });
    expect(await verify(old)).to.equal('unknown_macaroon_key');
  });
});

describe('revocation by identifier reaches a running verifier through its keyring file', () => {
  it('revoking the identifier the claims (and so the audit) carry revokes the macaroon', async () => {
    const ring = generateMacaroonKeyring();
    const m = addFirstPartyCaveat(mintUserMacaroon(ring), 'user alice');
    let current = macaroonKeys(ring);
    const verify = verifierWith(() => current);
    expect(await verify(m)).to.equal('ok');
    const id = macaroonIdText(m.identifier);
    expect(id).to.equal(Buffer.from(m.identifier).toString('utf8')); // reqauth mints ASCII identifiers
    current = macaroonKeys(revokeMacaroons(ring, [id]));
    expect(await verify(m)).to.equal('revoked_macaroon');
  });

  it('an identifier that is not printable UTF-8 has one text form, base64url:..., which revokes it', () => {
    const binary = Uint8Array.of(0xff, 0x00, 0x41, 0x0a);
    const text = macaroonIdText(binary);
    expect(text).to.equal('base64url:' + Buffer.from(binary).toString('base64url'));
    expect(Buffer.from(macaroonIdFromText(text)!).equals(Buffer.from(binary))).to.equal(true);
    for (const evil of ['a\u001b[2Jb', 'line\nbreak', 'rtl\u202eevil', 'base64url:looks-encoded']) {
      const bytes = Buffer.from(evil, 'utf8');
      expect(macaroonIdText(bytes)).to.match(/^base64url:[A-Za-z0-9_-]+$/);
      expect(Buffer.from(macaroonIdFromText(macaroonIdText(bytes))!).equals(bytes)).to.equal(true);
    }
    const ring = generateMacaroonKeyring();
    const keys = macaroonKeys(revokeMacaroons(ring, [text]));
    expect(keys.isRevoked(binary)).to.equal(true);
    expect(keys.isRevoked(Uint8Array.of(0xff, 0x00, 0x41))).to.equal(false);
    expect(() => parseMacaroonKeyring(macaroonKeyringToJson({ ...ring, revoked: ['base64url:not base64!'] }))).to.throw(ReqauthConfigError);
  });

  it('revoked after the file changes, without a restart; other macaroons unaffected', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-mk-'));
    const file = path.join(dir, 'macaroons.json');
    try {
      const ring = generateMacaroonKeyring();
      writeFileSync(file, macaroonKeyringToJson(ring));
      const watched = new WatchedFile(file, (text) => macaroonKeys(parseMacaroonKeyring(text)), { pollIntervalMs: 20 });
      const verify = verifierWith(() => watched.current());
      const stolen = mintUserMacaroon(ring);
      const other = mintUserMacaroon(ring);
      expect(await verify(stolen)).to.equal('ok');
      writeFileSync(file, macaroonKeyringToJson(revokeMacaroons(ring, [Buffer.from(stolen.identifier).toString()])));
      // The poll (every 20 ms) picks the change up; bounded wait.
      let reason = await verify(stolen); // each call signs a new request: no replay here
      for (let i = 0; i < 100 && reason !== 'revoked_macaroon'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        reason = await verify(stolen);
      }
      expect(reason).to.equal('revoked_macaroon');
      expect(await verify(other)).to.equal('ok');
      watched.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the macaroon keyring file is parsed strictly and never quoted', () => {
  it('round-trips, and refuses bad files with messages that hold no key material', () => {
    const ring = generateMacaroonKeyring();
    const json = macaroonKeyringToJson(ring);
    expect(macaroonKeyringToJson(parseMacaroonKeyring(json))).to.equal(json);
    const secret = ring.keys[0]!.rootKey.toString('base64url');
    for (const bad of [json.replace('"active"', '"verify"'), json.slice(0, -5), json.replace(secret, secret.slice(0, 10)), json.replace(/"keyId": "[^"]+"/, '"keyId": "a.b"')]) {
      try {
        parseMacaroonKeyring(bad);
        expect.fail('parsed a bad keyring');
      } catch (err) {
        expect(err).to.be.instanceOf(ReqauthConfigError);
        expect((err as Error).message).to.not.include(secret.slice(0, 10));
      }
    }
  });
});
