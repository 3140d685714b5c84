// Keyrings (spec §6.2): rotation with overlap, retirement, the deny list, the JSON files, and
// the watched keyring file that swaps keys in without a restart and never quotes its content.
import { expect } from 'chai';
import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReqauthConfigError } from '../../src/errors';
import { KeyringFile, staticKeySource, verificationKeys, VerificationKeys } from '../../src/keys/key-source';
import {
  activeKey,
  generateRootKeyring,
  keyringToJson,
  parseKeyring,
  retireKey,
  RootKeyring,
  rotateRootKeyring,
  serviceKeyringFor,
  withDenied,
} from '../../src/keys/keyring';
import { deriveAudienceKey } from '../../src/keys/derive';
import { hex } from '../support/vectors';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

describe('generateRootKeyring makes one active 32-byte key', () => {
  it('has exactly one key, active, with a well-formed id and an empty deny list', () => {
    const ring = generateRootKeyring(new Date('2025-01-01T00:00:00Z'));
    expect(ring.format).to.equal('reqauth-root-keyring/v1');
    expect(ring.keys).to.have.length(1);
    expect(ring.keys[0]!.status).to.equal('active');
    expect(ring.keys[0]!.secret).to.have.length(32);
    expect(ring.keys[0]!.keyId).to.match(KEY_ID).and.match(/^k20250101T000000-/);
    expect(ring.keys[0]!.created).to.equal('2025-01-01T00:00:00.000Z');
    expect(ring.deny).to.deep.equal({ keyIds: [], principals: [] });
  });

  it('two keyrings made at the same instant share neither key id nor secret', () => {
    const now = new Date();
    const a = generateRootKeyring(now);
    const b = generateRootKeyring(now);
    expect(a.keys[0]!.keyId).not.to.equal(b.keys[0]!.keyId);
    expect(hex(a.keys[0]!.secret)).not.to.equal(hex(b.keys[0]!.secret));
  });
});

describe('rotateRootKeyring adds a new active key and keeps the old ones verifying', () => {
  it('puts the new key first as active and demotes the old key to verify, unchanged', () => {
    const ring = generateRootKeyring();
    const rotated = rotateRootKeyring(ring);
    expect(rotated.keys).to.have.length(2);
    expect(rotated.keys.map((k) => k.status)).to.deep.equal(['active', 'verify']);
    expect(rotated.keys[1]!.keyId).to.equal(ring.keys[0]!.keyId);
    expect(hex(rotated.keys[1]!.secret)).to.equal(hex(ring.keys[0]!.secret));
    expect(activeKey(rotated).keyId).to.equal(rotated.keys[0]!.keyId);
    expect(activeKey(rotated).keyId).not.to.equal(ring.keys[0]!.keyId);
  });

  it('leaves the original keyring untouched', () => {
    const ring = generateRootKeyring();
    rotateRootKeyring(ring);
    expect(ring.keys).to.have.length(1);
    expect(ring.keys[0]!.status).to.equal('active');
  });

  it('the old audience key is still derivable after rotation (the overlap)', () => {
    const ring = generateRootKeyring();
    const before = serviceKeyringFor(ring, 'ledger');
    const after = serviceKeyringFor(rotateRootKeyring(ring), 'ledger');
    const old = after.keys.find((k) => k.keyId === ring.keys[0]!.keyId)!;
    expect(hex(old.audienceKey)).to.equal(hex(before.keys[0]!.audienceKey));
    expect(old.status).to.equal('verify');
  });
});

describe('retireKey removes a key, but never the active one', () => {
  it('removes a verify key, so it is no longer known', () => {
    const ring = rotateRootKeyring(generateRootKeyring());
    const oldId = ring.keys[1]!.keyId;
    const retired = retireKey(ring, oldId);
    expect(retired.keys.map((k) => k.keyId)).to.deep.equal([ring.keys[0]!.keyId]);
    expect(verificationKeys(retired, 'ledger').audienceKey(oldId)).to.equal(undefined);
  });

  it('refuses to retire the active key', () => {
    const ring = rotateRootKeyring(generateRootKeyring());
    expect(() => retireKey(ring, ring.keys[0]!.keyId)).to.throw(ReqauthConfigError, /active/);
  });

  it('refuses to retire a key it does not hold', () => {
    expect(() => retireKey(generateRootKeyring(), 'k-nope')).to.throw(ReqauthConfigError);
  });
});

describe('withDenied adds key ids and principals to the deny list', () => {
  it('merges without duplicates and is seen by the verification keys', () => {
    const ring = generateRootKeyring();
    const kid = ring.keys[0]!.keyId;
    const denied = withDenied(withDenied(ring, { principals: ['mallory'] }), { keyIds: [kid], principals: ['mallory', 'eve'] });
    expect(denied.deny).to.deep.equal({ keyIds: [kid], principals: ['mallory', 'eve'] });
    const keys = verificationKeys(denied, 'ledger');
    expect(keys.isKeyDenied(kid)).to.equal(true);
    expect(keys.isPrincipalDenied('mallory')).to.equal(true);
    expect(keys.isPrincipalDenied('eve')).to.equal(true);
    expect(keys.isPrincipalDenied('alice')).to.equal(false);
    expect(ring.deny).to.deep.equal({ keyIds: [], principals: [] }); // the original is untouched
  });

  it('applies to service keyrings too', () => {
    const service = withDenied(serviceKeyringFor(generateRootKeyring(), 'ledger'), { principals: ['mallory'] });
    expect(verificationKeys(service, 'ledger').isPrincipalDenied('mallory')).to.equal(true);
  });
});

describe('serviceKeyringFor derives exactly the audience keys deriveAudienceKey does', () => {
  it('for every key of the root keyring, with its status, and no root secret', () => {
    const ring = rotateRootKeyring(rotateRootKeyring(generateRootKeyring()));
    const service = serviceKeyringFor(ring, 'ledger');
    expect(service.format).to.equal('reqauth-service-keyring/v1');
    expect(service.audience).to.equal('ledger');
    expect(service.keys.map((k) => [k.keyId, hex(k.audienceKey), k.status])).to.deep.equal(
      ring.keys.map((k) => [k.keyId, hex(deriveAudienceKey(k.secret, k.keyId, 'ledger')), k.status]),
    );
    const text = keyringToJson(service);
    for (const k of ring.keys) expect(text).not.to.include(k.secret.toString('base64url'));
  });

  it('derives different keys for different audiences', () => {
    const ring = generateRootKeyring();
    expect(hex(serviceKeyringFor(ring, 'ledger').keys[0]!.audienceKey)).not.to.equal(hex(serviceKeyringFor(ring, 'billing').keys[0]!.audienceKey));
  });

  it('a root keyring and its service keyring give the same verification keys', () => {
    const ring = rotateRootKeyring(generateRootKeyring());
    const fromRoot = staticKeySource(ring, 'ledger').current();
    const fromService = staticKeySource(serviceKeyringFor(ring, 'ledger'), 'ledger').current();
    for (const k of ring.keys) expect(hex(fromRoot.audienceKey(k.keyId)!)).to.equal(hex(fromService.audienceKey(k.keyId)!));
  });

  it('a service keyring for one audience cannot serve another', () => {
    expect(() => verificationKeys(serviceKeyringFor(generateRootKeyring(), 'ledger'), 'billing')).to.throw(ReqauthConfigError);
  });
});

describe('parseKeyring(keyringToJson(k)) gives back k', () => {
  it('for a rotated root keyring with a deny list', () => {
    const ring = withDenied(rotateRootKeyring(generateRootKeyring()), { keyIds: ['k-old'], principals: ['mallory'] });
    expect(parseKeyring(keyringToJson(ring))).to.deep.equal(ring);
  });

  it('for a service keyring', () => {
    const service = withDenied(serviceKeyringFor(rotateRootKeyring(generateRootKeyring()), 'ledger'), { principals: ['eve'] });
    expect(parseKeyring(keyringToJson(service))).to.deep.equal(service);
  });

  it('reads a file without a deny list as an empty deny list', () => {
    const ring = generateRootKeyring();
    const doc = JSON.parse(keyringToJson(ring)) as Record<string, unknown>;
    delete doc['deny'];
    expect(parseKeyring(JSON.stringify(doc))).to.deep.equal(ring);
  });
});

describe('parseKeyring refuses bad files with a message that never quotes a secret', () => {
  // A fixed secret whose text is easy to search for in messages.
  const secret = Buffer.from('f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff10', 'hex').toString('base64url');
  const key = (extra: Record<string, unknown> = {}) => ({ keyId: 'k1', status: 'active', created: '2025-01-01T00:00:00.000Z', secret, ...extra });
  const root = (keys: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ format: 'reqauth-root-keyring/v1', keys, ...extra });

  const bad: [string, string][] = [
    ['a syntax error right after the secret', `{"format":"reqauth-root-keyring/v1","keys":[{"keyId":"k1","status":"active","secret":"${secret}" oops}]}`],
    ['a syntax error right after the secret (unterminated string)', `{"keys":[{"secret":"${secret}`],
    ['a syntax error just before the secret', `{"keys":[{"secret": ,"${secret}"}]}`],
    ['a secret with a character outside base64url', root([key({ secret: secret + '!' })])],
    ['a secret one character short', root([key({ secret: secret.slice(0, -2) })])],
    ['a secret with a padded tail', root([key({ secret: secret + '==' })])],
    ['a secret that is a number', `{"format":"reqauth-root-keyring/v1","keys":[{"keyId":"k1","status":"active","secret":123${secret.replace(/[^0-9]/g, '')}}]}`],
    ['two active keys', root([key(), key({ keyId: 'k2' })])],
    ['no active key', root([key({ status: 'verify' })])],
    ['a bad status', root([key({ status: 'enabled' })])],
    ['a duplicated key id', root([key(), key({ status: 'verify' })])],
    ['a key id with a slash', root([key({ keyId: 'k/1' })])],
    ['an unknown format', JSON.stringify({ format: 'reqauth-root-keyring/v2', keys: [key()] })],
    ['keys not an array', root({ k1: key() })],
    ['an empty keys array', root([])],
    ['a deny list of numbers', root([key()], { deny: { keyIds: [1], principals: [] } })],
    ['a service keyring without audience', JSON.stringify({ format: 'reqauth-service-keyring/v1', keys: [{ keyId: 'k1', status: 'active', audienceKey: secret + 'x' }] })],
    ['a JSON array', `[${JSON.stringify(key())}]`],
  ];

  /** Every 6-character piece of the secret: "any part of it". */
  const pieces = Array.from({ length: secret.length - 5 }, (_, i) => secret.slice(i, i + 6));

  for (const [name, text] of bad) {
    it(`${name}: ReqauthConfigError without the secret`, () => {
      let error: unknown;
      try {
        parseKeyring(text);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ReqauthConfigError);
      const message = (error as Error).message + String((error as Error).stack);
      for (const piece of pieces) expect(message).not.to.include(piece);
    });
  }

  it('accepts the same key when the file is well formed (so the refusals above are about the flaw)', () => {
    const ring = parseKeyring(root([key()])) as RootKeyring;
    expect(ring.keys[0]!.secret.toString('base64url')).to.equal(secret);
  });
});

describe('KeyringFile swaps keys in when the file changes, and keeps them when it cannot', () => {
  let dir: string;
  let path: string;
  const open: KeyringFile[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-keyring-'));
    path = join(dir, 'ledger.keyring.json');
  });
  afterEach(() => {
    for (const f of open.splice(0)) f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replace the file the way editors and deploy tools do: write aside, rename over. */
  function replaceFile(text: string): void {
    const aside = `${path}.tmp`;
    writeFileSync(aside, text);
    renameSync(aside, path);
  }

  function watch(options: { onError?: (e: Error) => void; onReload?: (k: VerificationKeys) => void; pollIntervalMs?: number } = {}) {
    const file = new KeyringFile(path, { audience: 'ledger', pollIntervalMs: options.pollIntervalMs ?? 50, ...options });
    open.push(file);
    return file;
  }

  function waitFor<T>(what: string, register: (resolve: (v: T) => void) => void, ms = 3_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      register((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Keeps every libuv threadpool thread busy for some tens of milliseconds. */
  function occupyThreadpool(): Promise<unknown> {
    const threads = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
    return Promise.all(Array.from({ length: threads }, () => new Promise((r) => pbkdf2('busy', 'salt', 50_000, 32, 'sha256', r))));
  }


  it('loads the keys at construction', () => {
    const ring = generateRootKeyring();
    replaceFile(keyringToJson(serviceKeyringFor(ring, 'ledger')));
    const file = watch();
    expect(hex(file.current().audienceKey(ring.keys[0]!.keyId)!)).to.equal(hex(deriveAudienceKey(ring.keys[0]!.secret, ring.keys[0]!.keyId, 'ledger')));
  });

  it('refuses to start without a loadable keyring, without quoting the file', () => {
    expect(() => new KeyringFile(path, { audience: 'ledger' })).to.throw(ReqauthConfigError, /ENOENT/);
    const text = keyringToJson(generateRootKeyring());
    replaceFile(text.slice(0, -10));
    const secretText = (JSON.parse(text) as { keys: { secret: string }[] }).keys[0]!.secret;
    expect(() => new KeyringFile(path, { audience: 'ledger' }))
      .to.throw(ReqauthConfigError)
      .with.property('message')
      .that.does.not.include(secretText.slice(0, 8));
  });

  it('reload() picks up a rotated keyring', () => {
    const ring = generateRootKeyring();
    replaceFile(keyringToJson(ring));
    const file = watch();
    const rotated = rotateRootKeyring(ring);
    const newId = rotated.keys[0]!.keyId;
    expect(file.current().audienceKey(newId)).to.equal(undefined);
    replaceFile(keyringToJson(rotated));
    expect(file.reload()).to.equal(true);
    expect(hex(file.current().audienceKey(newId)!)).to.equal(hex(deriveAudienceKey(rotated.keys[0]!.secret, newId, 'ledger')));
    expect(file.current().audienceKey(ring.keys[0]!.keyId)).not.to.equal(undefined);
  });

  it('polling picks up a rotated keyring without reload() (pollIntervalMs 50)', async () => {
    const ring = generateRootKeyring();
    replaceFile(keyringToJson(ring));
    let onReload: (k: VerificationKeys) => void = () => {};
    const file = watch({ onReload: (k) => onReload(k) });
    const before = file.current().generation;
    const rotated = rotateRootKeyring(ring);
    const reloaded = waitFor<VerificationKeys>('the poll', (resolve) => (onReload = resolve));
    replaceFile(keyringToJson(rotated));
    const keys = await reloaded;
    expect(keys.generation).to.be.greaterThan(before);
    expect(file.current()).to.equal(keys);
    expect(file.current().audienceKey(rotated.keys[0]!.keyId)).not.to.equal(undefined);
  });

  it('a change made right after start-up, before any poll ran, is not missed', async () => {
    const ring = generateRootKeyring();
    const rotated = rotateRootKeyring(ring);
    replaceFile(keyringToJson(ring));
    // Asynchronous stats queue behind this work, so the change below lands before any of them.
    const busy = occupyThreadpool();
    const reloaded = waitFor<VerificationKeys>('the reload', (resolve) => {
      watch({ onReload: resolve });
      replaceFile(keyringToJson(rotated));
    });
    await busy;
    const keys = await reloaded;
    expect(keys.audienceKey(rotated.keys[0]!.keyId)).not.to.equal(undefined);
  });

  it('a corrupt file keeps the previous keys and reports an error that does not quote it', async () => {
    const ring = generateRootKeyring();
    replaceFile(keyringToJson(ring));
    let onError: (e: Error) => void = () => {};
    const errors: Error[] = [];
    const file = watch({ onError: (e) => (errors.push(e), onError(e)) });
    const before = file.current();

    const rotatedText = keyringToJson(rotateRootKeyring(ring));
    const newSecret = (JSON.parse(rotatedText) as { keys: { secret: string }[] }).keys[0]!.secret;
    const corrupt = rotatedText.replace(`"${newSecret}"`, `"${newSecret}" ,,`); // syntax error right after a secret

    const reported = waitFor<Error>('onError from the poll', (resolve) => (onError = resolve));
    replaceFile(corrupt);
    const error = await reported;
    expect(error).to.be.instanceOf(ReqauthConfigError);
    expect(error.message).not.to.include(newSecret.slice(0, 8));
    expect(file.current()).to.equal(before); // same object: the previous keys stay in force
    expect(file.reload()).to.equal(false);
    expect(file.current()).to.equal(before);
    expect(errors.length).to.be.at.least(2);
  });

  it('an unreadable (deleted) file keeps the previous keys', () => {
    replaceFile(keyringToJson(generateRootKeyring()));
    const errors: Error[] = [];
    const file = watch({ onError: (e) => errors.push(e), pollIntervalMs: 60_000 });
    const before = file.current();
    rmSync(path);
    expect(file.reload()).to.equal(false);
    expect(file.current()).to.equal(before);
    expect(errors.map((e) => e.message).join()).to.match(/ENOENT/);
  });

  it('after close() the file is no longer polled', async () => {
    const ring = generateRootKeyring();
    replaceFile(keyringToJson(ring));
    let reloads = 0;
    const file = watch({ onReload: () => reloads++ });
    const before = file.current();
    file.close();
    replaceFile(keyringToJson(rotateRootKeyring(ring)));
    await sleep(400); // eight poll intervals
    expect(reloads).to.equal(0);
    expect(file.current()).to.equal(before);
  });
});
