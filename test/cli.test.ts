// The reqauth CLI, run as a child process against the compiled dist/cli/reqauth.js.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientCredential,
  decodeEnvelope,
  HeaderVerdict,
  KeyringFile,
  parseCredential,
  parseKeyring,
  RequestSigner,
  RequestVerifier,
  RootKeyring,
  SignedHeader,
  staticKeySource,
} from '../src';

/** The metadata value: the envelope's bytes, then the MAC's. */
const pair = (envelope: Uint8Array, mac: Uint8Array): Buffer[] => [Buffer.concat([envelope, mac])];

const CLI = join(__dirname, '..', 'cli', 'reqauth.js');
const AUDIENCE = 'ledger.example';
const METHOD = '/ledger.v1.Ledger/GetBalance';
const BODY = Buffer.from('\x0a\x05acct1');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('reqauth CLI', function () {
  let dir: string;
  const outputs: string[] = [];
  const secrets = new Set<string>();

  /** Every way a secret or MAC could show up in text. */
  function noteSecret(bytes: Buffer): void {
    secrets.add(bytes.toString('base64url'));
    secrets.add(bytes.toString('base64').replace(/=+$/, ''));
    secrets.add(bytes.toString('hex'));
  }

  /** Collects every key in every JSON file in the temp dir, so no output can leak one. */
  function collectSecrets(): void {
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      const doc = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
      if (typeof doc['principalKey'] === 'string') noteSecret(Buffer.from(doc['principalKey'], 'base64url'));
      for (const k of (doc['keys'] as Record<string, unknown>[] | undefined) ?? []) {
        for (const field of ['secret', 'audienceKey']) {
          if (typeof k[field] === 'string') noteSecret(Buffer.from(k[field] as string, 'base64url'));
        }
      }
    }
  }

  function assertNoSecrets(text: string): void {
    for (const s of secrets) expect(text.includes(s), 'output contains a secret').to.equal(false);
  }

  function run(...args: string[]): Result {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
    const result = { status: r.status, stdout: r.stdout, stderr: r.stderr };
    outputs.push(result.stdout, result.stderr);
    collectSecrets();
    assertNoSecrets(result.stdout + result.stderr);
    return result;
  }

  function ok(...args: string[]): Result {
    const r = run(...args);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r;
  }

  const file = (name: string) => join(dir, name);
  const mode = (name: string) => statSync(file(name)).mode & 0o777;
  const root = (): RootKeyring => parseKeyring(readFileSync(file('root.json'), 'utf8')) as RootKeyring;
  const credential = (name: string): ClientCredential => parseCredential(readFileSync(file(name), 'utf8'));

  function sign(cred: ClientCredential): SignedHeader {
    const header = new RequestSigner(cred).sign(METHOD, BODY);
    noteSecret(header.mac);
    return header;
  }

  /** A verifier started now, then the header signed (one signed before it started is refused, spec §6.4). */
  async function verify(keyring: string, header: SignedHeader | (() => SignedHeader)): Promise<HeaderVerdict> {
    const ring = parseKeyring(readFileSync(file(keyring), 'utf8'));
    const verifier = new RequestVerifier({ keys: staticKeySource(ring, AUDIENCE) });
    const h = typeof header === 'function' ? header() : header;
    return verifier.verifyHeader(pair(h.envelope, h.mac), METHOD, true);
  }

  async function expectAccepted(keyring: string, header: () => SignedHeader): Promise<void> {
    const verdict = await verify(keyring, header);
    expect(verdict.ok ? 'ok' : verdict.reason).to.equal('ok');
  }

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-cli-'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keygen writes a 0600 root keyring and prints its key id and path, not its secret', function () {
    const r = ok('keygen', '--out', 'root.json');
    const ring = root();
    expect(ring.keys).to.have.length(1);
    expect(r.stdout).to.include(ring.keys[0]!.keyId);
    expect(r.stdout).to.include('root.json');
    expect(mode('root.json')).to.equal(0o600);
  });

  it('keygen refuses to overwrite an existing file unless --force', function () {
    const before = readFileSync(file('root.json'), 'utf8');
    const r = run('keygen', '--out', 'root.json');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/refusing to overwrite/);
    expect(readFileSync(file('root.json'), 'utf8')).to.equal(before);

    ok('keygen', '--out', 'scratch.json');
    const first = readFileSync(file('scratch.json'), 'utf8');
    ok('keygen', '--out', 'scratch.json', '--force');
    expect(readFileSync(file('scratch.json'), 'utf8')).to.not.equal(first);
    expect(mode('scratch.json')).to.equal(0o600);
  });

  it('derive writes a 0600 credential that signs requests the root keyring accepts', async function () {
    const r = ok('derive', '--root', 'root.json', '--audience', AUDIENCE, '--principal', 'billing', '--role', 'reader', '--role', 'admin', '--out', 'cred.json');
    expect(mode('cred.json')).to.equal(0o600);
    const cred = credential('cred.json');
    expect(cred).to.include({ principal: 'billing', audience: AUDIENCE, keyId: root().keys[0]!.keyId });
    expect(cred.roles).to.deep.equal(['admin', 'reader']);
    expect(r.stdout).to.include(cred.keyId);
    await expectAccepted('root.json', () => sign(cred));
  });

  it('derive without --principal writes a service keyring, without the root secret, that accepts the request', async function () {
    ok('derive', '--root', 'root.json', '--audience', AUDIENCE, '--out', 'service.json');
    expect(mode('service.json')).to.equal(0o600);
    const text = readFileSync(file('service.json'), 'utf8');
    const service = parseKeyring(text);
    expect(service.format).to.equal('reqauth-service-keyring/v1');
    expect(text).to.not.include(root().keys[0]!.secret.toString('base64url'));
    await expectAccepted('service.json', () => sign(credential('cred.json')));
  });

  it('derive refuses to overwrite a root keyring with a derived file', function () {
    const before = readFileSync(file('root.json'), 'utf8');
    const r = run('derive', '--root', 'root.json', '--audience', AUDIENCE, '--out', 'root.json');
    expect(r.status).to.equal(1);
    expect(readFileSync(file('root.json'), 'utf8')).to.equal(before);
  });

  it('rotate keeps old credentials verifying and new credentials use the new key id', async function () {
    const oldKeyId = root().keys[0]!.keyId;
    const r = ok('rotate', '--root', 'root.json');
    const ring = root();
    const active = ring.keys.find((k) => k.status === 'active')!;
    expect(active.keyId).to.not.equal(oldKeyId);
    expect(r.stdout).to.include(active.keyId);
    expect(ring.keys.find((k) => k.keyId === oldKeyId)?.status).to.equal('verify');
    expect(mode('root.json')).to.equal(0o600);

    await expectAccepted('root.json', () => sign(credential('cred.json')));
    ok('derive', '--root', 'root.json', '--audience', AUDIENCE, '--principal', 'billing', '--out', 'cred2.json');
    expect(credential('cred2.json').keyId).to.equal(active.keyId);
    await expectAccepted('root.json', () => sign(credential('cred2.json')));

    // A service keyring re-derived after the rotation takes both keys.
    ok('derive', '--root', 'root.json', '--audience', AUDIENCE, '--out', 'service.json');
    await expectAccepted('service.json', () => sign(credential('cred.json')));
    await expectAccepted('service.json', () => sign(credential('cred2.json')));
  });

  it('rotate refuses a service keyring (it has no root secret)', function () {
    const r = run('rotate', '--root', 'service.json');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/service keyring/);
  });

  it('revoke --principal makes verification fail with revoked_principal, also for a watching service', async function () {
    ok('derive', '--root', 'root.json', '--audience', AUDIENCE, '--principal', 'mallory', '--out', 'mallory.json');
    const mallory = credential('mallory.json');
    const watched = new KeyringFile(file('service.json'), { audience: AUDIENCE });
    try {
      const verifier = new RequestVerifier({ keys: watched });
      const header1 = sign(mallory);
      const before = await verifier.verifyHeader(pair(header1.envelope, header1.mac), METHOD, true);
      expect(before.ok).to.equal(true);

      const inode = statSync(file('service.json')).ino;
      ok('revoke', '--root', 'service.json', '--principal', 'mallory');
      expect(statSync(file('service.json')).ino, 'replaced by rename').to.not.equal(inode);
      expect(mode('service.json')).to.equal(0o600);
      expect(watched.reload()).to.equal(true);
      const header2 = sign(mallory);
      const after = await verifier.verifyHeader(pair(header2.envelope, header2.mac), METHOD, true);
      expect(after.ok ? 'ok' : after.reason).to.equal('revoked_principal');
    } finally {
      watched.close();
    }

    ok('revoke', '--root', 'root.json', '--principal', 'mallory');
    const verdict = await verify('root.json', sign(mallory));
    expect(verdict.ok ? 'ok' : verdict.reason).to.equal('revoked_principal');
    await expectAccepted('root.json', () => sign(credential('cred.json')));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('revoke --key-id denies a key; retire removes one', async function () {
    const oldKeyId = credential('cred.json').keyId;
    ok('revoke', '--root', 'service.json', '--key-id', oldKeyId);
    const denied = await verify('service.json', sign(credential('cred.json')));
    expect(denied.ok ? 'ok' : denied.reason).to.equal('revoked_key');

    ok('retire', '--root', 'root.json', '--key-id', oldKeyId);
    expect(root().keys.map((k) => k.keyId)).to.not.include(oldKeyId);
    const retired = await verify('root.json', sign(credential('cred.json')));
    expect(retired.ok ? 'ok' : retired.reason).to.equal('unknown_key');
    await expectAccepted('root.json', () => sign(credential('cred2.json')));

    const active = root().keys[0]!.keyId;
    const r = run('retire', '--root', 'root.json', '--key-id', active);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/active key/);
  });

  it('inspect prints the fields of a metadata value or bare envelope made by RequestSigner (base64 and base64url)', function () {
    const cred = credential('cred2.json');
    const header = new RequestSigner(cred, { now: () => 1_700_000_000_123 }).sign(METHOD, BODY, {
      onBehalfOf: 'user:42',
      credential: Buffer.from('opaque token'),
    });
    noteSecret(header.mac);
    const decoded = decodeEnvelope(header.envelope);
    if (!decoded.ok) throw new Error(decoded.reason);
    const encodings = [header.value, header.envelope].flatMap((b) => [b.toString('base64'), b.toString('base64url')]);
    for (const encoded of encodings) {
      const r = ok('inspect', encoded);
      const doc = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(doc).to.deep.equal({
        version: 1,
        keyId: cred.keyId,
        principal: 'billing',
        roles: [],
        onBehalfOf: 'user:42',
        audience: AUDIENCE,
        method: METHOD,
        nonce: Buffer.from(decoded.envelope.nonce).toString('hex'),
        issuedAtMs: 1_700_000_000_123,
        issuedAt: '2023-11-14T22:13:20.123Z',
        bodyDigest: createHash('sha256').update(BODY).digest('hex'),
        credential: { length: 12, kind: 'unknown', reason: 'malformed_credential' },
      });
      expect(r.stdout).to.not.include('opaque token');
    }
  });

  it('inspect exits 1 with the reason code on a malformed envelope', function () {
    const header = sign(credential('cred2.json'));
    const truncated = header.envelope.subarray(0, header.envelope.length - 3).toString('base64');
    const r = run('inspect', truncated);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('malformed_envelope');
    expect(run('inspect', 'not base64!').status).to.equal(1);
  });

  it('usage errors exit 2 with a pointer to --help', function () {
    for (const args of [
      [],
      ['frobnicate'],
      ['keygen'],
      ['keygen', '--out', 'x.json', '--bogus'],
      ['derive', '--root', 'root.json', '--out', 'x.json'],
      ['derive', '--root', 'root.json', '--audience', AUDIENCE, '--role', 'admin', '--out', 'x.json'],
      ['rotate'],
      ['retire', '--root', 'root.json'],
      ['revoke', '--root', 'root.json'],
      ['inspect'],
      ['keygen', 'extra', '--out', 'x.json'],
    ]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/--help/);
      expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
    }
    expect(readdirSync(dir)).to.not.include('x.json');
  });

  it('help describes every command and the file formats', function () {
    const r = ok('--help');
    for (const c of ['keygen', 'derive', 'rotate', 'retire', 'revoke', 'inspect']) expect(r.stdout).to.include(`reqauth ${c}`);
    for (const f of ['reqauth-root-keyring/v1', 'reqauth-service-keyring/v1', 'reqauth-credential/v1']) expect(r.stdout).to.include(f);
    expect(ok('help').stdout).to.equal(r.stdout);
    expect(ok('derive', '--help').stdout).to.include('--principal');
    expect(ok('help', 'revoke').stdout).to.include('--key-id');
  });

  it('--version prints the package version', function () {
    const r = ok('--version');
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout).to.equal(`${manifest.version}\n`);
  });

  it('runtime failures exit 1 with a message that quotes no file content', function () {
    const r = run('derive', '--root', 'missing.json', '--audience', AUDIENCE, '--out', 'y.json');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('ENOENT');
    const bad = run('derive', '--root', 'cred.json', '--audience', AUDIENCE, '--out', 'y.json');
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/cred\.json: keyring/);
  });

  it('never printed a secret, key or MAC', function () {
    collectSecrets();
    expect(secrets.size).to.be.greaterThan(10);
    expect(outputs.length).to.be.greaterThan(40);
    assertNoSecrets(outputs.join('\n'));
  });
});
