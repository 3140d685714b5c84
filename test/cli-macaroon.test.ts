// `reqauth macaroon …`, run as a child process against the compiled dist/cli/reqauth.js.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMacaroon, serializeMacaroon, type Macaroon } from '../src/macaroon/index.js';
import { authorizeMacaroon, caveat, defaultCaveats } from '../src/macaroon/caveats.js';
import { generateMacaroonKeyring, macaroonKeyringToJson, macaroonKeys, mintUserMacaroon, parseMacaroonKeyring } from '../src/macaroon/keyring.js';

const CLI = join(__dirname, '..', 'cli', 'reqauth.js');
const TRANSFER = '/ledger.v1.LedgerService/Transfer';
const NOW = '2026-11-23T03:00:00Z';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('reqauth macaroon CLI', function () {
  let dir: string;
  /** Every output except the tokens mint and discharge print on purpose. */
  const outputs: string[] = [];
  /** Key bytes: never in any output, tokens included. */
  const keys = new Set<string>();
  /** Signatures of every token made: never in any output but the token itself. */
  const signatures = new Set<string>();

  function spellings(bytes: Uint8Array): string[] {
    const b = Buffer.from(bytes);
    return [b.toString('base64url'), b.toString('base64').replace(/=+$/, ''), b.toString('hex'), b.toString('hex').toUpperCase()];
  }

  function noteKey(name: string): Buffer {
    const key = readFileSync(join(dir, name));
    for (const s of spellings(key)) keys.add(s);
    return key;
  }

  function noteToken(token: string): Macaroon {
    const r = parseMacaroon(token);
    if (!r.ok) expect.fail(`expected a macaroon, got ${r.reason} (${r.detail})`);
    for (const s of spellings(r.macaroon.signature)) signatures.add(s);
    return r.macaroon;
  }

  function assertClean(text: string, allowSignatures = false): void {
    for (const k of keys) expect(text.includes(k), 'output contains key bytes').to.equal(false);
    if (!allowSignatures) for (const s of signatures) expect(text.includes(s), 'output contains a signature').to.equal(false);
  }

  function run(args: string[], input?: string): Result {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 15_000, ...(input === undefined ? {} : { input }) });
    const result = { status: r.status, stdout: r.stdout, stderr: r.stderr };
    assertClean(result.stdout + result.stderr);
    outputs.push(result.stdout, result.stderr);
    return result;
  }

  function ok(...args: string[]): Result {
    const r = run(args);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r;
  }

  function fails(args: string[], status = 1): string {
    const r = run(args);
    expect(r.status, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(status);
    expect(r.stdout).to.equal('');
    return r.stderr;
  }

  /** mint and discharge print one token and nothing else; it carries a signature on purpose. */
  function token(...args: string[]): string {
    const r = spawnSync(process.execPath, [CLI, 'macaroon', ...args], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
    expect(r.stdout).to.match(/^[A-Za-z0-9_-]+\n$/);
    const t = r.stdout.trim();
    assertClean(r.stdout, true);
    assertClean(r.stderr);
    outputs.push(r.stderr);
    noteToken(t);
    return t;
  }

  const verifyArgs = (t: string, ...more: string[]) => ['macaroon', 'verify', '--root-key-file', 'root.key', t, '--now', NOW, ...more];
  const context = ['--audience', 'ledger', '--method', TRANSFER, '--principal', 'frontend', '--key-id', 'k1'];

  let alice: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-cli-macaroon-'));
    for (const name of ['root.key', 'tp.key']) {
      writeFileSync(join(dir, name), randomBytes(32), { mode: 0o600 });
      noteKey(name);
    }
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('mint prints a V2 macaroon that inspect shows without its signature and the library verifies', function () {
    alice = token(
      'mint', '--root-key-file', 'root.key', '--location', 'https://ledger', '--id', 'alice-1',
      '--caveat', caveat.user('alice'),
      '--caveat', caveat.presenter('frontend'),
      '--caveat', caveat.audience('ledger'),
      '--caveat', caveat.method('/ledger.v1.LedgerService/*'),
      '--caveat', caveat.expires(new Date('2026-11-23T04:00:00Z')),
      '--caveat', caveat.requestKey('k1'),
    );
    const doc = JSON.parse(ok('macaroon', 'inspect', alice).stdout) as Record<string, unknown>;
    expect(doc).to.deep.equal({
      format: 'v2',
      location: 'https://ledger',
      identifier: 'alice-1',
      id: 'alice-1',
      caveats: [
        { index: 0, predicate: 'user alice' },
        { index: 1, predicate: 'presenter frontend' },
        { index: 2, predicate: 'audience ledger' },
        { index: 3, predicate: 'method /ledger.v1.LedgerService/*' },
        { index: 4, predicate: 'expires 2026-11-23T04:00:00Z' },
        { index: 5, predicate: 'request-key k1' },
      ],
    });
    const r = authorizeMacaroon(noteToken(alice), noteKey('root.key'), [], { nowMs: Date.parse(NOW), principal: 'frontend', audience: 'ledger', method: TRANSFER, keyId: 'k1' }, defaultCaveats());
    expect(r.ok ? 'ok' : r.reason).to.equal('ok');
  });

  it('verify with the request context exits 0 and prints the verified caveats and claims', function () {
    const doc = JSON.parse(ok(...verifyArgs(alice, ...context)).stdout) as { identifier: string; caveats: { predicate: string; by: string }[]; claims: unknown };
    expect(doc.identifier).to.equal('alice-1');
    expect(doc.caveats.map((c) => c.by)).to.deep.equal(['user', 'presenter', 'audience', 'method', 'expires', 'request-key']);
    expect(doc.claims).to.deep.equal({ user: 'alice', chain: ['alice', 'frontend'], presenter: 'frontend', expires: '2026-11-23T04:00:00Z' });
  });

  it('a caveat the context does not satisfy exits 1 with its reason code', function () {
    const replaced = (flag: string, value: string) => context.map((v, i) => (context[i - 1] === flag ? value : v));
    const cases: [string[], RegExp][] = [
      [replaced('--method', '/billing.v1.BillingService/Pay'), /caveat_failed: caveat 3 of the root \(method\)/],
      [replaced('--principal', 'backend'), /caveat_failed: caveat 1 of the root \(presenter\)/],
      [replaced('--audience', 'billing'), /caveat_failed: caveat 2 of the root \(audience\)/],
      [replaced('--key-id', 'k2'), /caveat_failed: caveat 5 of the root \(request-key\)/],
      [[...context, '--now', '2026-11-23T04:00:00Z'], /caveat_failed: caveat 4 of the root \(expires\): expired/],
    ];
    for (const [flags, reason] of cases) {
      const stderr = fails(verifyArgs(alice, ...flags));
      expect(stderr, flags.join(' ')).to.match(reason);
      expect(stderr.trim().split('\n')).to.have.length(1);
    }
    // A value the typed caveat needs and was not given fails too: no context, no pass.
    expect(fails(verifyArgs(alice, '--principal', 'frontend'))).to.match(/caveat_failed: caveat 2 of the root \(audience\)/);
  });

  it('an unknown caveat fails closed; an exact --allow accepts it; --allow cannot bypass a typed caveat', function () {
    const t = token('mint', '--root-key-file', 'root.key', '--location', 'l', '--id', 'acct', '--caveat', caveat.presenter('frontend'), '--caveat', 'account = 3735928559');
    expect(fails(verifyArgs(t, '--principal', 'frontend'))).to.match(/caveat_unknown: caveat 1 of the root \(account\)/);
    expect(fails(verifyArgs(t, '--principal', 'frontend', '--allow', 'account = 1'))).to.match(/caveat_unknown/);
    const doc = JSON.parse(ok(...verifyArgs(t, '--principal', 'frontend', '--allow', 'account = 3735928559')).stdout) as { caveats: { by: string }[] };
    expect(doc.caveats.map((c) => c.by)).to.deep.equal(['presenter', 'allow']);
    expect(fails(verifyArgs(t, '--allow', 'presenter frontend'), 2)).to.match(/typed caveat/);
  });

  it('mint refuses a built-in NAME written as NAME = VALUE (the value would be "= alice")', function () {
    expect(fails(['macaroon', 'mint', '--root-key-file', 'root.key', '--location', 'l', '--id', 'eq', '--caveat', 'user = alice'], 2)).to.match(/not a valid user caveat/);
  });

  it('a macaroon that names no presenter is refused unless --any-presenter', function () {
    const t = token('mint', '--root-key-file', 'root.key', '--location', 'l', '--id', 'open', '--caveat', caveat.user('bob'));
    expect(fails(verifyArgs(t, '--principal', 'frontend'))).to.match(/caveat_missing: no presenter caveat/);
    expect(JSON.parse(ok(...verifyArgs(t, '--any-presenter')).stdout).claims).to.deep.equal({ user: 'bob', chain: ['bob'] });
  });

  it('a third-party caveat needs a discharge bound to the root; with one, it verifies', function () {
    const root = token(
      'mint', '--root-key-file', 'root.key', '--location', 'https://ledger', '--id', 'alice-2',
      '--caveat', caveat.presenter('frontend'),
      '--third-party', 'https://auth', '--caveat-key-file', 'tp.key', '--caveat-id', 'login-7',
    );
    const shown = JSON.parse(ok('macaroon', 'inspect', root).stdout) as { caveats: unknown[] };
    expect(shown.caveats[1]).to.deep.equal({ index: 1, location: 'https://auth', caveatId: 'login-7', verificationIdLength: 72 });
    expect(fails(verifyArgs(root, '--principal', 'frontend'))).to.match(/^reqauth macaroon verify: macaroon_discharge_missing/);

    const discharge = ['macaroon', 'discharge', '--caveat-key-file', 'tp.key', '--id', 'login-7', '--location', 'https://auth', '--caveat', caveat.user('alice'), '--caveat', caveat.roles('teller')];
    const unbound = token(...discharge.slice(1));
    expect(fails(verifyArgs(root, '--principal', 'frontend', '--discharge', unbound))).to.match(/macaroon_bad_signature: discharge 0/);
    const bound = token(...discharge.slice(1), '--bind', root);
    const doc = JSON.parse(ok(...verifyArgs(root, '--principal', 'frontend', '--discharge', bound)).stdout) as { caveats: { source: unknown; predicate: string }[]; claims: unknown };
    expect(doc.caveats.map((c) => [c.source, c.predicate])).to.deep.equal([['root', 'presenter frontend'], [0, 'user alice'], [0, 'roles teller']]);
    expect(doc.claims).to.deep.equal({ user: 'alice', roles: ['teller'], chain: ['alice', 'frontend'], presenter: 'frontend' });

    // Bound to another root, or for a caveat the root does not have: refused.
    expect(fails(verifyArgs(alice, ...context, '--discharge', bound))).to.match(/macaroon_discharge_unused/);
    expect(fails(['macaroon', 'discharge', '--caveat-key-file', 'tp.key', '--id', 'login-8', '--bind', root])).to.match(/no third-party caveat with this id/);
    // A discharge under the wrong caveat key does not verify.
    const forged = token('discharge', '--caveat-key-file', 'root.key', '--id', 'login-7', '--bind', root);
    expect(fails(verifyArgs(root, '--principal', 'frontend', '--discharge', forged))).to.match(/macaroon_bad_signature: discharge 0/);
  });

  it('a token changed by one character fails, unless only the (unsigned) location hint changed', function () {
    // Sampled positions: every single-byte change is the library's property test
    // (test/macaroon/properties.test.ts); here the CLI's exit codes are what is checked.
    this.timeout(60_000);
    // Classic macaroons do not sign locations (libmacaroons, pymacaroons, go-macaroon alike):
    // a change there is a different hint on the same macaroon, and still verifies.
    const signed = (t: string) => {
      const r = parseMacaroon(t);
      return r.ok ? JSON.stringify([r.macaroon.identifier, r.macaroon.caveats, r.macaroon.signature].map((x) => Buffer.from(JSON.stringify(x)).toString('hex'))) : undefined;
    };
    const original = signed(alice);
    let refused = 0;
    const positions = [...Array.from({ length: Math.ceil(alice.length / 37) }, (_, k) => k * 37), alice.length - 1];
    for (const i of positions) {
      const changed = alice.slice(0, i) + (alice[i] === 'A' ? 'B' : 'A') + alice.slice(i + 1);
      const r = run(verifyArgs(changed, ...context));
      if (signed(changed) === original) {
        expect(r.status, `position ${i}: only the location changed`).to.equal(0);
        continue;
      }
      expect(r.status, `position ${i}`).to.equal(1);
      expect(r.stderr, `position ${i}`).to.match(/macaroon_(malformed|bad_signature)/);
      refused++;
    }
    expect(refused).to.be.greaterThan(positions.length - 4);
  });

  it('V1 and V2 JSON tokens (from the library serializers) are inspected and verified alike', function () {
    const root = token('mint', '--root-key-file', 'root.key', '--location', 'https://ledger', '--id', 'alice-3', '--caveat', caveat.presenter('frontend'), '--third-party', 'https://auth', '--caveat-key-file', 'tp.key', '--caveat-id', 'login-9');
    const discharge = token('discharge', '--caveat-key-file', 'tp.key', '--id', 'login-9', '--caveat', caveat.user('carol'), '--bind', root);
    const [m, d] = [noteToken(root), noteToken(discharge)];
    for (const format of ['v1', 'v2json'] as const) {
      const [rootText, dischargeText] = [serializeMacaroon(m, format), serializeMacaroon(d, format)];
      const shown = JSON.parse(ok('macaroon', 'inspect', rootText).stdout) as Record<string, unknown>;
      expect(shown).to.include({ format, location: 'https://ledger', identifier: 'alice-3' });
      const doc = JSON.parse(ok(...verifyArgs(rootText, '--principal', 'frontend', '--discharge', dischargeText)).stdout) as { claims: unknown };
      expect(doc.claims, format).to.deep.equal({ user: 'carol', chain: ['carol', 'frontend'], presenter: 'frontend' });
    }
    // "-" reads the token from standard input (it stays out of the process list).
    const r = run(['macaroon', 'inspect', '-'], serializeMacaroon(m, 'v2json') + '\n');
    expect(r.status).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ format: 'v2json', identifier: 'alice-3' });
  });

  it('a malformed token exits 1 with its reason code', function () {
    expect(fails(['macaroon', 'inspect', 'not a token'])).to.match(/macaroon_malformed/);
    expect(fails(['macaroon', 'inspect', '{"i":"x","i64":"eA","s64":"' + 'A'.repeat(43) + '"}'])).to.match(/macaroon_malformed: TOKEN: both "i" and "i64"/);
    expect(fails(verifyArgs(alice, ...context, '--discharge', 'AgE'))).to.match(/macaroon_malformed: discharge 0/);
  });

  it('key files: raw bytes; an empty, missing or oversized file is refused without quoting it', function () {
    writeFileSync(join(dir, 'empty.key'), '');
    writeFileSync(join(dir, 'big.key'), Buffer.alloc(5000, 1));
    const mint = (file: string) => ['macaroon', 'mint', '--root-key-file', file, '--location', 'l', '--id', 'x'];
    expect(fails(mint('empty.key'))).to.match(/empty\.key is empty/);
    expect(fails(mint('big.key'))).to.match(/larger than 4096 bytes/);
    expect(fails(mint('missing.key'))).to.match(/ENOENT/);
    // A text key file works (a newline is part of the key, and the CLI says so), and a
    // group-readable one draws a warning.
    writeFileSync(join(dir, 'text.key'), 'correct horse battery staple\n', { mode: 0o644 });
    chmodSync(join(dir, 'text.key'), 0o644);
    noteKey('text.key');
    const r = spawnSync(process.execPath, [CLI, ...mint('text.key'), '--caveat', caveat.presenter('p')], { cwd: dir, encoding: 'utf8' });
    expect(r.status).to.equal(0);
    expect(r.stderr).to.match(/ends with a newline/).and.to.match(/readable by group\/others/);
    noteToken(r.stdout.trim());
    outputs.push(r.stderr);
    const ok2 = run(['macaroon', 'verify', '--root-key-file', 'text.key', r.stdout.trim(), '--principal', 'p']);
    expect(ok2.status, ok2.stderr).to.equal(0);
    const wrong = run(['macaroon', 'verify', '--root-key-file', 'root.key', r.stdout.trim(), '--principal', 'p']);
    expect(wrong.stderr).to.match(/macaroon_bad_signature: the root/);
  });

  it('usage errors exit 2 with a pointer to --help', function () {
    for (const args of [
      ['macaroon'],
      ['macaroon', 'frobnicate'],
      ['macaroon', 'mint'],
      ['macaroon', 'mint', '--root-key-file', 'root.key', '--location', 'l'],
      ['macaroon', 'mint', '--root-key-file', 'root.key', '--location', 'l', '--id', 'x', '--third-party', 'https://auth'],
      ['macaroon', 'mint', '--root-key-file', 'root.key', '--location', 'l', '--id', 'x', '--caveat', 'expires tomorrow'],
      ['macaroon', 'mint', '--root-key-file', 'root.key', '--location', 'l', '--id', 'x', '--caveat', 'method Transfer'],
      ['macaroon', 'inspect'],
      ['macaroon', 'inspect', 'a', 'b'],
      ['macaroon', 'verify', '--root-key-file', 'root.key'],
      ['macaroon', 'verify', 'TOKEN'],
      ['macaroon', 'verify', '--root-key-file', 'root.key', 'TOKEN', '--now', '2026-11-23 03:00'],
      ['macaroon', 'discharge', '--caveat-key-file', 'tp.key'],
      ['macaroon', 'mint', '--bogus'],
    ]) {
      const r = run(args);
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/--help/);
      expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
    }
  });

  it('help names every macaroon command and the key file format', function () {
    const top = ok('--help').stdout;
    for (const c of ['mint', 'inspect', 'verify', 'discharge', 'revoke']) expect(top).to.include(`reqauth macaroon ${c}`);
    expect(top).to.match(/raw key bytes/);
    const group = ok('macaroon', '--help').stdout;
    expect(group).to.match(/raw key bytes/).and.to.include('reqauth macaroon discharge');
    expect(ok('help', 'macaroon').stdout).to.equal(group);
    expect(ok('macaroon', 'help').stdout).to.equal(group);
    expect(ok('help', 'macaroon', 'verify').stdout).to.include('--allow');
    expect(ok('macaroon', 'verify', '--help').stdout).to.include('--principal');
    expect(ok('macaroon', 'help', 'mint').stdout).to.include('--third-party');
  });

  it('revoke adds identifiers, in the form inspect prints as "id", to a macaroon keyring', function () {
    const ring = generateMacaroonKeyring();
    writeFileSync(join(dir, 'macaroons.json'), macaroonKeyringToJson(ring), { mode: 0o600 });
    const m = mintUserMacaroon(ring);
    const id = JSON.parse(ok('macaroon', 'inspect', serializeMacaroon(m)).stdout).id as string;
    expect(id).to.equal(Buffer.from(m.identifier).toString('utf8'));
    ok('macaroon', 'revoke', '--keyring', 'macaroons.json', id, 'base64url:_wBBCg');
    const after = parseMacaroonKeyring(readFileSync(join(dir, 'macaroons.json'), 'utf8'));
    expect(after.revoked).to.deep.equal([id, 'base64url:_wBBCg']);
    expect(macaroonKeys(after).isRevoked(m.identifier)).to.equal(true);
    expect(statSync(join(dir, 'macaroons.json')).mode & 0o777).to.equal(0o600);
    expect(run(['macaroon', 'revoke', '--keyring', 'macaroons.json', 'base64url:not base64']).status).to.equal(2);
    expect(run(['macaroon', 'revoke', '--keyring', 'macaroons.json']).status).to.equal(2);
  });

  it('never printed a key, and never a signature outside the tokens it was asked for', function () {
    expect(keys.size).to.be.greaterThan(8);
    expect(signatures.size).to.be.greaterThan(30);
    expect(outputs.length).to.be.greaterThan(60);
    const all = outputs.join('\n');
    for (const k of keys) expect(all.includes(k)).to.equal(false);
    for (const s of signatures) expect(all.includes(s)).to.equal(false);
  });
});
