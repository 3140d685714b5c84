// Review finding: revoking a macaroon by a text form the keyring accepts, but that is not the
// identifier's one canonical text (spec §11.3), revokes nothing. The keyring parser and the CLI
// accept `base64url:` + bytes for ANY identifier (the CLI's help and the parser's error both
// say "the identifier's text, or base64url: and its bytes"), but `isRevoked` compares the
// canonical text only. The operator is told "revoked:", the service keeps accepting the
// macaroon. Shown three ways: the core keyring, the CLI, and a real grpc-js server.
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
  macaroonIdText,
  macaroonKeyringToJson,
  macaroonKeys,
  mintUserMacaroon,
  parseMacaroonKeyring,
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

describe('review: a macaroon revoked by an accepted but non-canonical text form stays usable', () => {
  const ring = generateMacaroonKeyring();
  const m = mintUserMacaroon(ring, 'tokens');
  const canonical = macaroonIdText(m.identifier);

  it('core: the keyring parses "base64url:<bytes>" of a printable identifier, and isRevoked says false', () => {
    const [alias] = aliases(m.identifier);
    // The parser accepts the alias as a valid revocation entry…
    const parsed = parseMacaroonKeyring(macaroonKeyringToJson(revokeMacaroons(ring, [alias!])));
    expect(parsed.revoked).to.deep.equal([alias]);
    // …and the canonical form is revoked (control)…
    expect(macaroonKeys(revokeMacaroons(ring, [canonical])).isRevoked(m.identifier)).to.equal(true);
    // …but the alias, for the very same bytes, revokes nothing. FAILS today.
    expect(macaroonKeys(parsed).isRevoked(m.identifier), `revoked as ${alias}`).to.equal(true);
  });

  it('CLI: `reqauth macaroon revoke` accepts the alias, prints "revoked:", and the macaroon is still not revoked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reqauth-review-'));
    try {
      writeFileSync(join(dir, 'm.json'), macaroonKeyringToJson(ring), { mode: 0o600 });
      const [alias] = aliases(m.identifier);
      const r = spawnSync(process.execPath, [CLI, 'macaroon', 'revoke', '--keyring', 'm.json', alias!], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.include('revoked:');
      const after = parseMacaroonKeyring(readFileSync(join(dir, 'm.json'), 'utf8'));
      // FAILS today: the CLI said it revoked the macaroon; the keyring does not refuse it.
      expect(macaroonKeys(after).isRevoked(m.identifier)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('grpc-js: a service whose keyring revokes the alias still runs the handler', () => {
    let h: Harness;
    const [alias] = aliases(m.identifier);
    before(async () => {
      const revoked = parseMacaroonKeyring(macaroonKeyringToJson(revokeMacaroons(ring, [alias!])));
      h = await startHarness({ server: { macaroons: macaroonAcceptance({ keys: macaroonKeys(revoked) }) } });
    });
    after(() => h.close());

    it('the revoked macaroon is refused revoked_macaroon and the handler never runs', async () => {
      let root: Macaroon = m;
      for (const c of [caveat.user('alice'), caveat.presenter('frontend')]) root = addFirstPartyCaveat(root, c);
      const c = h.client(h.credential('frontend', ['teller']));
      const before = h.calls.length;
      const md = presentMacaroon({ root, discharges: [], presentation: 'possession' });
      // FAILS today: the call succeeds, the handler runs, the audit names the macaroon whose
      // identifier the operator revoked.
      await failure(unary(c.transfer.bind(c), { transaction: tx('revoked-alias-1') }, md));
      expect(h.calls.length).to.equal(before);
      expect(h.audit.at(-1)?.reason).to.equal('revoked_macaroon');
    });
  });
});
