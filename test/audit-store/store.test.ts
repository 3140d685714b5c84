// The embedded audit store: filters, order, limit, retention, truncation, and the indexes
// SQLite uses for each query pattern (EXPLAIN QUERY PLAN).
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database = require('better-sqlite3');
import { AuditQuery, AuditRecordInput, AuditStore, AuditStoreError, truncate } from '../../src/audit/store';

const TRANSFER = '/ledger.v1.LedgerService/Transfer';
const BALANCE = '/ledger.v1.LedgerService/GetBalance';
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

function row(minutesAgo: number, fields: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return { timeMs: NOW - minutesAgo * MIN, decision: 'allow', method: TRANSFER, principal: 'frontend', user: 'alice', role: 'teller', ...fields };
}

describe('audit store', function () {
  let dir: string;
  let store: AuditStore;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'reqauth-audit-'));
    store = new AuditStore(join(dir, 'audit.db'), { now: () => NOW });
    store.insert([
      row(50, { traceId: 't1' }),
      row(40, { user: 'bob', traceId: 't2' }),
      row(30, { decision: 'deny', reason: 'missing_role', principal: 'backoffice', role: 'auditor', traceId: 't3' }),
      row(20, { method: BALANCE, traceId: 't4' }),
      row(10, { decision: 'deny', reason: 'bad_digest', traceId: 't5' }),
      row(5, { decision: 'deny', reason: 'malformed_envelope', principal: null, user: null, role: null, traceId: 't6' }),
      row(3 * 60, { user: 'alice', traceId: 't7' }),
    ]);
  });

  afterEach(function () {
    if (store.isOpen) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const traces = (q: AuditQuery = {}) => store.query(q).map((r) => r.traceId);

  it('returns every row newest first, with all fields', function () {
    expect(traces()).to.deep.equal(['t6', 't5', 't4', 't3', 't2', 't1', 't7']);
    const [latest] = store.query({ decision: 'deny', principal: 'frontend' });
    expect(latest).to.deep.equal({
      timeMs: NOW - 10 * MIN,
      decision: 'deny',
      reason: 'bad_digest',
      principal: 'frontend',
      user: 'alice',
      role: 'teller',
      audience: null,
      method: TRANSFER,
      traceId: 't5',
      spanId: null,
      keyId: null,
      macaroonId: null,
      chain: null,
    });
  });

  it('filters by principal, user, method and decision', function () {
    expect(traces({ principal: 'backoffice' })).to.deep.equal(['t3']);
    expect(traces({ user: 'bob' })).to.deep.equal(['t2']);
    expect(traces({ method: BALANCE })).to.deep.equal(['t4']);
    expect(traces({ decision: 'deny' })).to.deep.equal(['t6', 't5', 't3']);
    expect(traces({ decision: 'allow' })).to.deep.equal(['t4', 't2', 't1', 't7']);
    expect(traces({ principal: 'nobody' })).to.deep.equal([]);
  });

  it('combines filters (all must match)', function () {
    expect(traces({ principal: 'frontend', decision: 'deny' })).to.deep.equal(['t5']);
    expect(traces({ user: 'alice', method: TRANSFER })).to.deep.equal(['t5', 't3', 't1', 't7']);
    expect(traces({ user: 'alice', method: TRANSFER, decision: 'allow' })).to.deep.equal(['t1', 't7']);
    expect(traces({ principal: 'frontend', user: 'alice', method: TRANSFER, decision: 'deny', sinceMs: NOW - 15 * MIN })).to.deep.equal(['t5']);
    expect(traces({ principal: 'backoffice', user: 'bob' })).to.deep.equal([]);
  });

  it('since keeps decisions at or after the time', function () {
    expect(traces({ sinceMs: NOW - 20 * MIN })).to.deep.equal(['t6', 't5', 't4']);
    expect(traces({ sinceMs: NOW - 60 * MIN, user: 'alice' })).to.deep.equal(['t5', 't4', 't3', 't1']);
    expect(traces({ sinceMs: NOW + 1 })).to.deep.equal([]);
  });

  it('limits the rows (default 100) and refuses a bad limit', function () {
    expect(traces({ limit: 2 })).to.deep.equal(['t6', 't5']);
    expect(traces({ limit: 1, user: 'alice' })).to.deep.equal(['t5']);
    store.insert(Array.from({ length: 150 }, (_, i) => row(100 + i, { traceId: `bulk${i}` })));
    expect(store.query()).to.have.length(100);
    expect(store.query({ limit: 1000 })).to.have.length(157);
    for (const limit of [0, -1, 1.5, 2_000_000]) expect(() => store.query({ limit })).to.throw(RangeError);
  });

  it('orders by time, not by insertion', function () {
    store.insert([row(1, { traceId: 'late-newest' }), row(500, { traceId: 'late-oldest' })]);
    const all = traces();
    expect(all[0]).to.equal('late-newest');
    expect(all[all.length - 1]).to.equal('late-oldest');
  });

  it('cuts long strings to maxStringLength, and filters match the cut value', function () {
    const small = new AuditStore(':memory:', { maxStringLength: 16 });
    try {
      const long = 'u'.repeat(1000);
      small.insert([{ timeMs: NOW, decision: 'deny', method: '/' + 'm'.repeat(100), user: long, chain: 'a>'.repeat(50) + 'z', reason: 'bad_digest' }]);
      const [r] = small.query();
      expect(r!.user).to.equal('u'.repeat(15) + '…');
      expect(r!.method).to.have.length(16);
      expect(r!.chain).to.have.length(16);
      expect(r!.reason).to.equal('bad_digest');
      expect(small.query({ user: long })).to.have.length(1);
    } finally {
      small.close();
    }
    expect(truncate('ab😀cd', 4)).to.equal('ab…'); // never half a surrogate pair
    expect(truncate('short', 10)).to.equal('short');
  });

  it('deletes rows past the retention period on open and periodically on insert', function () {
    store.close();
    const path = join(dir, 'retention.db');
    let now = NOW;
    const first = new AuditStore(path, { retentionDays: Infinity, now: () => now });
    first.insert([row(40 * 24 * 60, { traceId: 'old' }), row(10 * 24 * 60, { traceId: 'ten-days' }), row(1, { traceId: 'new' })]);
    first.close();

    const reopened = new AuditStore(path, { retentionDays: 30, pruneIntervalMs: 3_600_000, now: () => now });
    try {
      expect(reopened.query().map((r) => r.traceId)).to.deep.equal(['new', 'ten-days']); // pruned on open
      now = NOW + 25 * DAY; // 'ten-days' is now 35 days old, but the interval gates the check
      reopened.insert([{ ...row(0, { traceId: 'later' }), timeMs: now }]);
      // The prune that ran at open was 25 days ago: this insert prunes.
      expect(reopened.query().map((r) => r.traceId)).to.deep.equal(['later', 'new']);
      now += 10 * MIN; // within the interval: this insert does not look for expired rows
      reopened.insert([{ ...row(0, { traceId: 'later2' }), timeMs: now }]);
      expect(reopened.count()).to.equal(3);
      now = NOW + 31 * DAY;
      expect(reopened.prune()).to.equal(1); // 'new' is past 30 days: an explicit prune
      expect(reopened.query().map((r) => r.traceId)).to.deep.equal(['later2', 'later']);
    } finally {
      reopened.close();
    }
    expect(() => new AuditStore(':memory:', { retentionDays: 0 })).to.throw(RangeError);
  });

  it('uses WAL mode and refuses foreign or missing files', function () {
    const path = join(dir, 'audit.db');
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).to.equal('wal');
    } finally {
      raw.close();
    }
    const foreign = join(dir, 'other.db');
    const other = new Database(foreign);
    other.exec('CREATE TABLE accounts (id INTEGER)');
    other.close();
    expect(() => new AuditStore(foreign)).to.throw(AuditStoreError, /not a reqauth audit store/);
    expect(() => new AuditStore(foreign, { readonly: true })).to.throw(AuditStoreError, /not a reqauth audit store/);
    const text = join(dir, 'text.db');
    writeFileSync(text, 'not a database at all, just text that is long enough to have a header');
    expect(() => new AuditStore(text, { readonly: true })).to.throw();
    expect(() => new AuditStore(join(dir, 'missing.db'), { readonly: true })).to.throw();
  });

  it('a read-only store answers queries while a writer has it open, and refuses inserts', function () {
    const reader = new AuditStore(join(dir, 'audit.db'), { readonly: true });
    try {
      expect(reader.query({ decision: 'deny' })).to.have.length(3);
      store.insert([row(0, { decision: 'deny', traceId: 't8' })]);
      expect(reader.query({ decision: 'deny' })[0]!.traceId).to.equal('t8');
      expect(() => reader.insert([row(0)])).to.throw(AuditStoreError, /read-only/);
    } finally {
      reader.close();
    }
  });

  describe('EXPLAIN QUERY PLAN', function () {
    const cases: [string, AuditQuery, RegExp][] = [
      ['no filter', {}, /SCAN reqauth_audit USING INDEX reqauth_audit_time\b/],
      ['since only', { sinceMs: NOW - 60 * MIN }, /SEARCH reqauth_audit USING INDEX reqauth_audit_time \(time_ms>\?\)/],
      ['principal', { principal: 'frontend' }, /USING INDEX reqauth_audit_principal_time \(principal=\?\)/],
      ['principal since', { principal: 'frontend', sinceMs: 0 }, /USING INDEX reqauth_audit_principal_time \(principal=\? AND time_ms>\?\)/],
      ['principal + deny since', { principal: 'frontend', decision: 'deny', sinceMs: 0 }, /USING INDEX reqauth_audit_principal_decision_time \(principal=\? AND decision=\? AND time_ms>\?\)/],
      ['user', { user: 'alice' }, /USING INDEX reqauth_audit_user_time \(user=\?\)/],
      ['user since', { user: 'alice', sinceMs: 0 }, /USING INDEX reqauth_audit_user_time \(user=\? AND time_ms>\?\)/],
      ['method', { method: TRANSFER }, /USING INDEX reqauth_audit_method_time \(method=\?\)/],
      ['method since', { method: TRANSFER, sinceMs: 0 }, /USING INDEX reqauth_audit_method_time \(method=\? AND time_ms>\?\)/],
      ['decision', { decision: 'deny' }, /USING INDEX reqauth_audit_decision_time \(decision=\?\)/],
      ['decision since', { decision: 'deny', sinceMs: 0 }, /USING INDEX reqauth_audit_decision_time \(decision=\? AND time_ms>\?\)/],
    ];
    for (const [name, q, expected] of cases) {
      it(`${name}: ${expected.source.replace(/\\b/g, '').replace(/\\/g, '')}`, function () {
        const plan = store.explain(q).join('\n');
        expect(plan).to.match(expected);
        expect(plan).not.to.match(/TEMP B-TREE/); // the index gives the order: no sort
      });
    }

    it('combined filters use one of the filter indexes, never a full scan or a sort', function () {
      for (const q of [
        { user: 'alice', method: TRANSFER },
        { principal: 'frontend', user: 'alice', sinceMs: 0 },
        { principal: 'frontend', user: 'alice', method: TRANSFER, decision: 'deny' as const, sinceMs: 0 },
      ]) {
        const plan = store.explain(q).join('\n');
        expect(plan, JSON.stringify(q)).to.match(/SEARCH reqauth_audit USING INDEX reqauth_audit_(principal|principal_decision|user|method|decision)_time/);
        expect(plan).not.to.match(/TEMP B-TREE|SCAN reqauth_audit$/m);
      }
    });
  });
});
