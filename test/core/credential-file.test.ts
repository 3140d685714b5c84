// CredentialFile: a client's credential reloaded from its file without a restart; a corrupt
// file, or one naming another principal or audience, keeps the credential in force.
import { expect } from 'chai';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientCredential, credentialToJson, CredentialFile, generateRootKeyring, issueCredential, ReqauthConfigError, rotateRootKeyring } from '../../src';

describe('CredentialFile reloads a client credential, and keeps it when it cannot', () => {
  let dir: string;
  let path: string;
  const open: CredentialFile[] = [];
  const ring = generateRootKeyring();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-credential-'));
    path = join(dir, 'frontend.json');
  });
  afterEach(() => {
    for (const f of open.splice(0)) f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replace the file as deploy tools do: write aside, rename over. */
  const replace = (text: string) => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };
  const watch = (events: { errors: Error[]; reloads: ClientCredential[] }) => {
    const file = new CredentialFile(path, { pollIntervalMs: 20, onError: (e) => events.errors.push(e), onReload: (c) => events.reloads.push(c) });
    open.push(file);
    return file;
  };
  const until = async (what: string, done: () => boolean) => {
    for (let i = 0; i < 150 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(done(), what).to.equal(true);
  };

  it('a credential reissued under a rotated key, with other roles, is in force after the next poll', async () => {
    replace(credentialToJson(issueCredential(ring, 'ledger', 'frontend', ['teller'])));
    const events = { errors: [] as Error[], reloads: [] as ClientCredential[] };
    const file = watch(events);
    expect(file.current().keyId).to.equal(ring.keys[0]!.keyId);
    const rotated = rotateRootKeyring(ring);
    const next = issueCredential(rotated, 'ledger', 'frontend', ['teller', 'auditor']);
    replace(credentialToJson(next));
    await until('reloaded', () => events.reloads.length === 1);
    expect(file.current().keyId).to.equal(next.keyId).and.not.equal(ring.keys[0]!.keyId);
    expect(file.current().roles).to.deep.equal(['auditor', 'teller']);
    expect(file.current().principalKey.equals(next.principalKey)).to.equal(true);
    expect(events.errors).to.deep.equal([]);
  });

  it('a file naming another principal or audience is refused; the previous credential stays', async () => {
    const first = issueCredential(ring, 'ledger', 'frontend', ['teller']);
    replace(credentialToJson(first));
    const events = { errors: [] as Error[], reloads: [] as ClientCredential[] };
    const file = watch(events);
    replace(credentialToJson(issueCredential(ring, 'ledger', 'reporting', ['teller'])));
    await until('refused the other principal', () => events.errors.length === 1);
    replace(credentialToJson(issueCredential(ring, 'payments', 'frontend', ['teller'])));
    await until('refused the other audience', () => events.errors.length === 2);
    expect(events.errors.map((e) => e.message)).to.satisfy((m: string[]) => m[0]!.includes('"reporting"') && m[1]!.includes('"payments"'));
    expect(file.current().principal).to.equal('frontend');
    expect(file.current().principalKey.equals(first.principalKey)).to.equal(true);
    expect(events.reloads).to.deep.equal([]);
  });

  it('a corrupt file keeps the previous credential, and the error quotes no key material', async () => {
    const first = issueCredential(ring, 'ledger', 'frontend', ['teller']);
    replace(credentialToJson(first));
    const events = { errors: [] as Error[], reloads: [] as ClientCredential[] };
    const file = watch(events);
    const secret = first.principalKey.toString('base64url');
    replace(credentialToJson(first).replace('"principal"', '"principal" ,, ').replace(secret, secret.slice(0, -3)));
    await until('reported the corrupt file', () => events.errors.length >= 1);
    expect(file.current().principalKey.equals(first.principalKey)).to.equal(true);
    for (const e of events.errors) expect(e.message).to.not.include(secret.slice(0, 12));
  });

  it('a missing file on first load throws: a client never starts without a credential', () => {
    expect(() => new CredentialFile(join(dir, 'absent.json'))).to.throw(ReqauthConfigError, /cannot read/);
  });
});
