// Review finding (fixed): a revocation written in a text form that is not the identifier's one
// canonical text (spec §11.3) — `base64url:` + the bytes of an identifier that is printable —
// used to be accepted by the keyring parser and the CLI ("revoked: …") while isRevoked, which
// compares canonical text, matched nothing: the operator was told the macaroon was revoked and
// the service kept accepting it. Now every place that takes an identifier as text refuses a
// non-canonical form, saying so; the canonical form revokes. Shown three ways: the core
// keyring, the CLI, and a real grpc-js server.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addFirstPartyCaveat,
  caveat,
  generateMacaroonKeyring,
  Macaroon,
  macaroonAcceptance,
  macaroonIdFromText,
  macaroonIdText,
  macaroonKeyringToJson,
  macaroonKeys,
  mintUserMacaroon,
  parseMacaroonKeyring,
  ReqauthConfigError,
  revokeMacaroons,
} from '../../src';
import { presentMacaroon } from '../../interceptors';
import { failure, Harness, startHarness, tx, unary } from '../support/harness';

const CLI = join(__dirname, '..', '..', 'cli', 'reqauth.js');

/** Other spellings that the keyring file and the CLI accept for the same identifier bytes. */
function aliases(identifier: Uint8Array): string[] {
  const b64 = Buffer.from(identifier).toString('base64url');
  return [`base64url:${b64}`];
}

describe('review: a revocation is written in the one canonical text form, or refused', () => {
  const ring = generateMacaroonKeyring();
  const m = mintUserMacaroon(ring, 'tokens');
  const canonical = macaroonIdText(m.identifier);

  it('core: the keyring refuses "base64url:<bytes>" of a printable identifier; the canonical form revokes', () => {
    const [alias] = aliases(m.identifier);
    expect(() => parseMacaroonKeyring(macaroonKeyringToJson(revokeMacaroons(ring, [alias!])))).to.throw(ReqauthConfigError, /revoked/);
    expect(macaroonIdFromText(alias!)).to.equal(undefined);
    expect(macaroonKeys(revokeMacaroons(ring, [canonical])).isRevoked(m.identifier)).to.equal(true);
  });

  it('CLI: `reqauth macaroon revoke` refuses the alias (exit 2, the file untouched) and revokes by the canonical form', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reqauth-review-'));
    try {
      writeFileSync(join(dir, 'm.json'), macaroonKeyringToJson(ring), { mode: 0o600 });
      const [alias] = aliases(m.identifier);
      const refused = spawnSync(process.execPath, [CLI, 'macaroon', 'revoke', '--keyring', 'm.json', alias!], { cwd: dir, encoding: 'utf8' });
      expect(refused.status, refused.stderr).to.equal(2);
      expect(refused.stdout).to.not.include('revoked:');
      expect(parseMacaroonKeyring(readFileSync(join(dir, 'm.json'), 'utf8')).revoked).to.deep.equal([]);
      const ok = spawnSync(process.execPath, [CLI, 'macaroon', 'revoke', '--keyring', 'm.json', canonical], { cwd: dir, encoding: 'utf8' });
      expect(ok.status, ok.stderr).to.equal(0);
      expect(macaroonKeys(parseMacaroonKeyring(readFileSync(join(dir, 'm.json'), 'utf8'))).isRevoked(m.identifier)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('grpc-js: a service whose keyring revokes the canonical form refuses the macaroon', () => {
    let h: Harness;
    before(async () => {
      const revoked = parseMacaroonKeyring(macaroonKeyringToJson(revokeMacaroons(ring, [canonical])));
      h = await startHarness({ server: { macaroons: macaroonAcceptance({ keys: macaroonKeys(revoked) }) } });
    });
    after(() => h?.close());

    it('the revoked macaroon is refused revoked_macaroon and the handler never runs', async () => {
      let root: Macaroon = m;
      for (const c of [caveat.user('alice'), caveat.presenter('frontend')]) root = addFirstPartyCaveat(root, c);
      const c = h.client(h.credential('frontend', ['teller']));
      const before = h.calls.length;
      const md = presentMacaroon({ root, discharges: [], presentation: 'possession' });
      await failure(unary(c.transfer.bind(c), { transaction: tx('revoked-alias-1') }, md));
      expect(h.calls.length).to.equal(before);
      expect(h.audit.at(-1)?.reason).to.equal('revoked_macaroon');
    });
  });
});
