// `npm run demo` is the project's main job: it must keep working end to end.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

describe('npm run demo', function () {
  this.timeout(120_000);
  let parent: string;
  let kept: string;
  before(() => {
    parent = mkdtempSync(path.join(tmpdir(), 'reqauth-demo-test-'));
    kept = path.join(parent, 'kept');
  });
  after(() => rmSync(parent, { recursive: true, force: true }));

  it('runs the honest client and every attack as expected, keeps what --keep asks for, and exits 0', () => {
    // Exactly as `npm run demo` runs it: OpenTelemetry preloaded, no exporter configured.
    const dist = path.join(__dirname, '..');
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
    const r = spawnSync(process.execPath, ['--require', path.join(dist, 'examples', 'otel-preload.js'), path.join(dist, 'examples', 'demo.js'), '--keep', kept], {
      encoding: 'utf8',
      timeout: 110_000,
      env,
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('honest client: all calls OK');
    expect(r.stdout).to.match(/attacks: (\d+)\/\1 as expected/);
    expect(r.stdout).to.not.include('UNEXPECTED');
    // The audit table comes from the embedded store: refusals with reasons, in 120 columns.
    expect(r.stdout).to.match(/deny\s+replayed_nonce\s+frontend\s+-\s+LedgerService\/Transfer\n/);
    expect(r.stdout).to.match(/allow\s+-\s+frontend\s+alice\s/);
    expect(r.stdout).to.match(/deny\s+caveat_failed\s+frontend\s+alice\s/);
    // Signed responses (spec §13): the client catches a tampered response itself.
    expect(r.stdout).to.match(/as expected\s+honest balance, signed and verified\s+OK\s+response verified/);
    expect(r.stdout).to.match(/as expected\s+response: balance rewritten.*DATA_LOSS\s+response refused bad_response_tag/);
    for (const line of r.stdout.split('\n')) expect(line.length, line).to.be.at.most(120);
    // --keep DIR: the keys and the audit store stay, and the printed next commands work.
    for (const f of ['root.json', 'service.json', 'frontend.json', 'reporting.json', 'macaroons.json', 'audit.db']) expect(existsSync(path.join(kept, f)), f).to.equal(true);
    const next = r.stdout.slice(r.stdout.indexOf('Next, try:'));
    expect(next).to.include(`npx reqauth audit --db ${path.join(kept, 'audit.db')} --reason replayed_nonce --json`);
    const audit = spawnSync(process.execPath, [path.join(dist, 'cli', 'reqauth.js'), 'audit', '--db', path.join(kept, 'audit.db'), '--reason', 'replayed_nonce', '--json'], { encoding: 'utf8' });
    expect(audit.status, audit.stderr).to.equal(0);
    expect(audit.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { reason: string; method: string }).method)).to.deep.equal(['/ledger.v1.LedgerService/Transfer']);
  });

  it('--keep refuses a directory that is not empty, touching nothing', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'examples', 'demo.js'), '--keep', kept], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/not empty/);
  });
});
