// `reqauth audit`, run as a child process against the compiled dist/cli/reqauth.js.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database = require('better-sqlite3');
import { AuditStore } from '../../src/audit/store';

const CLI = join(__dirname, '..', '..', 'cli', 'reqauth.js');
const TRANSFER = '/ledger.v1.LedgerService/Transfer';
const BALANCE = '/ledger.v1.LedgerService/GetBalance';
const TRACE = (n: number) => n.toString(16).padStart(32, '0');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('reqauth audit (CLI)', function () {
  let dir: string;
  let db: string;
  const now = Date.now();

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-audit-cli-'));
    db = join(dir, 'audit.db');
    const store = new AuditStore(db);
    store.insert([
      { timeMs: now - 3 * 3_600_000, decision: 'allow', method: TRANSFER, principal: 'frontend', user: 'alice', role: 'teller', traceId: TRACE(1) },
      { timeMs: now - 30 * 60_000, decision: 'allow', method: BALANCE, principal: 'frontend', user: 'bob', role: 'teller', traceId: TRACE(2) },
      { timeMs: now - 20 * 60_000, decision: 'deny', reason: 'missing_role', method: TRANSFER, principal: 'reporting', user: 'alice', role: 'reader', traceId: TRACE(3) },
      { timeMs: now - 10 * 60_000, decision: 'deny', reason: 'bad_digest', method: TRANSFER, principal: 'frontend', user: 'alice', role: 'teller', traceId: TRACE(4) },
      { timeMs: now - 60_000, decision: 'deny', reason: 'malformed_envelope', method: '/evil\u001b[2J/Method', traceId: TRACE(5) },
      // Another service's Transfer, and values longer than any column: for short names and the 120-column table.
      {
        timeMs: now - 4 * 3_600_000,
        decision: 'deny',
        reason: 'macaroon_discharge_ambiguous',
        method: '/payments.v2.InternationalPaymentsService/TransferWithinRegion',
        principal: 'settlement-batch-runner-eu',
        user: 'a-user-with-a-very-long-identifier@example.com',
        role: 'auditor,importer,teller',
        traceId: TRACE(6),
      },
      { timeMs: now - 5 * 3_600_000, decision: 'allow', method: '/payments.v2.Payments/Transfer', principal: 'frontend', traceId: TRACE(7) },
    ]);
    store.close();
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a table, newest first, that fits 120 columns whatever the values', function () {
    const r = run('audit', '--db', db);
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^time \(UTC\)\s+decision\s+reason\s+principal\s+user\s+method$/);
    expect(lines[1]).to.match(/^-+( +-+)+$/);
    expect(lines).to.have.length(2 + 7);
    for (const line of lines) expect(line.length, line).to.be.at.most(120);
    expect(lines[2]).to.include('malformed_envelope');
    expect(lines[3]).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+deny\s+bad_digest\s+frontend\s+alice\s+LedgerService\/Transfer$/);
    // Long values are cut, visibly.
    expect(lines[7]).to.include('macaroon_discharge_ambi…').and.include('settlement-ba…').and.include('InternationalPaymentsService/Tra…');
    // A control character from a request never reaches the terminal raw.
    expect(r.stdout).not.to.include('\u001b');
    expect(lines[2]).to.include('evil\\u001b[2J/Method');
  });

  it('--wide prints every value in full, with role and trace id', function () {
    const r = run('audit', '--db', db, '--wide');
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^time\s+decision\s+reason\s+principal\s+user\s+role\s+method\s+trace id$/);
    expect(lines[3]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\s+deny\s+bad_digest\s+frontend\s+alice\s+teller\s+\/ledger\.v1\.LedgerService\/Transfer\s+0{31}4$/);
    expect(lines[7]).to.include('a-user-with-a-very-long-identifier@example.com').and.include('/payments.v2.InternationalPaymentsService/TransferWithinRegion');
    expect(run('audit', '--db', db, '--wide', '--json').status).to.equal(2);
  });

  it('filters: principal, user, method, decision, reason, since, limit, combined', function () {
    const traces = (...args: string[]) => {
      const r = run('audit', '--db', db, '--json', ...args);
      expect(r.status, r.stderr).to.equal(0);
      return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { traceId: string }).traceId.slice(-1));
    };
    expect(traces('--principal', 'frontend')).to.deep.equal(['4', '2', '1', '7']);
    expect(traces('--user', 'alice')).to.deep.equal(['4', '3', '1']);
    expect(traces('--method', BALANCE)).to.deep.equal(['2']);
    expect(traces('--decision', 'deny')).to.deep.equal(['5', '4', '3', '6']);
    expect(traces('--reason', 'bad_digest')).to.deep.equal(['4']);
    expect(traces('--reason', 'missing_role', '--user', 'alice')).to.deep.equal(['3']);
    expect(traces('--since', '1h')).to.deep.equal(['5', '4', '3', '2']);
    expect(traces('--since', '15m')).to.deep.equal(['5', '4']);
    expect(traces('--since', '2d')).to.have.length(7);
    expect(traces('--since', '30s')).to.deep.equal([]);
    expect(traces('--limit', '2')).to.deep.equal(['5', '4']);
    expect(traces('--user', 'alice', '--decision', 'deny', '--since', '1h')).to.deep.equal(['4', '3']);
    expect(traces('--principal', 'frontend', '--user', 'alice', '--method', TRANSFER, '--decision', 'allow')).to.deep.equal(['1']);
  });

  it('--method takes a short name: Method in any service, Service/Method in any package; case matters', function () {
    const traces = (...args: string[]) =>
      run('audit', '--db', db, '--json', ...args)
        .stdout.trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { traceId: string }).traceId.slice(-1));
    expect(traces('--method', 'Transfer')).to.deep.equal(['4', '3', '1', '7']);
    expect(traces('--method', 'LedgerService/Transfer')).to.deep.equal(['4', '3', '1']);
    expect(traces('--method', 'Payments/Transfer')).to.deep.equal(['7']);
    expect(traces('--method', 'GetBalance')).to.deep.equal(['2']);
    expect(traces('--method', 'transfer')).to.deep.equal([]);
    expect(traces('--method', 'Trans*')).to.deep.equal([]);
    expect(traces('--method', 'Transfer', '--decision', 'deny')).to.deep.equal(['4', '3']);
  });

  it('--json prints one JSON object per line with every field', function () {
    const r = run('audit', '--db', db, '--json', '--principal', 'reporting');
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    const row = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(row).to.deep.equal({
      time: new Date(now - 20 * 60_000).toISOString(),
      timeMs: now - 20 * 60_000,
      decision: 'deny',
      reason: 'missing_role',
      principal: 'reporting',
      user: 'alice',
      role: 'reader',
      audience: null,
      method: TRANSFER,
      traceId: TRACE(3),
      spanId: null,
      keyId: null,
      macaroonId: null,
      chain: null,
    });
  });

  it('says so when nothing matches', function () {
    const r = run('audit', '--db', db, '--principal', 'nobody');
    expect(r.status).to.equal(0);
    expect(r.stdout.trim()).to.equal('no matching decisions');
  });

  it('a missing or foreign database is exit 1 with a clear message', function () {
    const missing = run('audit', '--db', join(dir, 'nope.db'));
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(/^reqauth audit: no audit store at .*nope\.db \(file not found\)\n$/);
    const other = join(dir, 'other.db');
    const raw = new Database(other);
    raw.exec('CREATE TABLE t (x)');
    raw.close();
    const foreign = run('audit', '--db', other);
    expect(foreign.status).to.equal(1);
    expect(foreign.stderr).to.match(/not a reqauth audit store/);
  });

  it('usage errors are exit 2', function () {
    for (const args of [[], ['--decision', 'maybe'], ['--since', '1y'], ['--since', 'h'], ['--limit', '0'], ['--limit', 'ten'], ['--bogus']]) {
      const r = run('audit', ...(args.length === 0 ? [] : ['--db', db, ...args]));
      expect(r.status, args.join(' ')).to.equal(2);
      expect(r.stderr).to.match(/^reqauth audit: .*\(see 'reqauth audit --help'\)\n$/);
    }
  });

  it('is listed in reqauth --help and has its own --help', function () {
    const overview = run('--help');
    expect(overview.status).to.equal(0);
    expect(overview.stdout).to.match(/^ {2}audit +query the audit store/m);
    expect(overview.stdout).to.include('reqauth audit --db FILE');
    const help = run('audit', '--help');
    expect(help.status).to.equal(0);
    expect(help.stdout).to.include('--since AGE').and.include('30s, 15m, 1h, 2d');
  });
});
