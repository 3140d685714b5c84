// The audit store at size (issue 5 item 3: "1 million audit rows, a filtered query answers
// in well under a second"). Run from bench/bench.ts (`--no-audit` skips it), or alone:
// `node dist/bench/audit-store.js [--quick] [--rows N]`.
//
// Fills a temporary store (the real AuditStore: its schema, indexes and insert path, in
// batches of 50,000 rows, one transaction and one prepared statement each) with synthetic
// decisions spread over the last 30 days, shaped like a real service's audit: a few busy
// principals (services) and a long tail, many users, dozens of methods, ~3% denials. Then
// times each query pattern as `reqauth audit` runs it (newest first, limit 100): the median
// of several runs, against the same SQL forced to a full table scan (`NOT INDEXED`), which
// is what the query would cost without the indexes. `--quick` uses 200,000 rows.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database = require('better-sqlite3');
import { AuditQuery, AuditRecordInput, AuditStore } from '../src/audit/store';

export interface AuditBenchConfig {
  readonly rows: number;
  /** Timed runs per indexed query (median reported). */
  readonly runs: number;
  /** Timed runs per full-scan query (median reported). */
  readonly scanRuns: number;
}

export interface AuditQueryResult {
  readonly name: string;
  readonly query: AuditQuery;
  readonly rowsReturned: number;
  /** Median ms of the same query forced to a full scan (NOT INDEXED). */
  readonly fullScanMs: number;
  /** Median ms through AuditStore.query (indexed). */
  readonly indexedMs: number;
  readonly indexedRuns: number[];
  readonly fullScanRuns: number[];
  readonly plan: string[];
}

export interface AuditBenchResult {
  readonly config: AuditBenchConfig;
  readonly fill: { rows: number; seconds: number; rowsPerSec: number; dbBytes: number };
  readonly queries: AuditQueryResult[];
}

export const AUDIT_BENCH_CFG = {
  quick: { rows: 200_000, runs: 7, scanRuns: 3 },
  full: { rows: 1_000_000, runs: 15, scanRuns: 3 },
} as const;

const DAY_MS = 86_400_000;
const PRINCIPALS = 40;
const USERS = 20_000;
const METHODS = 48;
const DENY_REASONS = ['bad_digest', 'replayed_nonce', 'missing_role', 'unknown_key', 'bad_mac', 'expired', 'wrong_method'];
const BATCH = 50_000;

/** A small deterministic PRNG (mulberry32): the same data on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const method = (i: number) => `/bench.v1.Service${i % 6}/Method${i}`;
const principal = (i: number) => `svc-${i}`;
const user = (i: number) => `user-${i}`;

export function auditStoreBench(cfg: AuditBenchConfig, log: (line: string) => void = () => {}): AuditBenchResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reqauth-audit-bench-'));
  const file = path.join(dir, 'audit.db');
  const now = Date.now();
  try {
    const store = new AuditStore(file, { retentionDays: Infinity });
    const rand = prng(0x5eed);
    // Skewed principals: svc-0 makes ~half of all calls (the front end), the rest share.
    const pickPrincipal = () => (rand() < 0.5 ? 0 : 1 + Math.floor(rand() * (PRINCIPALS - 1)));
    const start = now - 30 * DAY_MS;
    const started = performance.now();
    let n = 0;
    while (n < cfg.rows) {
      const batch: AuditRecordInput[] = [];
      for (let k = 0; k < BATCH && n < cfg.rows; k++, n++) {
        const deny = rand() < 0.03;
        const anonymous = deny && rand() < 0.3; // refused before the header verified: no claims
        const m = Math.floor(rand() * rand() * METHODS); // a few methods are hot
        batch.push({
          // Decisions arrive in time order (as they do from a live exporter), a few ms jitter.
          timeMs: start + Math.floor((n / cfg.rows) * 30 * DAY_MS + rand() * 5),
          decision: deny ? 'deny' : 'allow',
          reason: deny ? DENY_REASONS[n % DENY_REASONS.length]! : null,
          principal: anonymous ? null : principal(pickPrincipal()),
          user: anonymous ? null : user(Math.floor(rand() * USERS)),
          role: anonymous ? null : 'teller',
          audience: anonymous ? null : 'ledger',
          method: method(m),
          traceId: n.toString(16).padStart(32, '0'),
          spanId: n.toString(16).padStart(16, '0'),
          keyId: anonymous ? null : 'k1',
        });
      }
      store.insert(batch);
      if (n % 200_000 === 0 || n === cfg.rows) log(`    ${n.toLocaleString('en-US')} rows`);
    }
    const fillSeconds = (performance.now() - started) / 1000;
    store.analyze(); // as PRAGMA optimize does for a long-lived store
    const dbBytes = fileSize(file) + fileSize(file + '-wal');

    // Named values that exist: the busiest principal, a mid-traffic one, a user, a method.
    const patterns: [string, AuditQuery][] = [
      ['principal=P AND decision=deny since 1h', { principal: principal(0), decision: 'deny', sinceMs: now - 3_600_000 }],
      ['principal=P AND decision=deny (all time)', { principal: principal(7), decision: 'deny' }],
      ['user=U', { user: user(1234) }],
      ['method=M', { method: method(40) }],
      ['user=U AND method=M', { user: user(1234), method: method(3) }],
      ['decision=deny since 1h', { decision: 'deny', sinceMs: now - 3_600_000 }],
      ['since 1h', { sinceMs: now - 3_600_000 }],
    ];
    const raw = new Database(file, { readonly: true });
    const queries: AuditQueryResult[] = [];
    try {
      for (const [name, q] of patterns) {
        log(`    ${name}`);
        let rowsReturned = store.query(q).length; // warm
        const indexedRuns = Array.from({ length: cfg.runs }, () => time(() => (rowsReturned = store.query(q).length)));
        const { sql, params } = fullScanSql(q);
        const scan = raw.prepare(sql);
        scan.all(params);
        const fullScanRuns = Array.from({ length: cfg.scanRuns }, () => time(() => scan.all(params)));
        queries.push({ name, query: q, rowsReturned, fullScanMs: median(fullScanRuns), indexedMs: median(indexedRuns), indexedRuns, fullScanRuns, plan: store.explain(q) });
      }
    } finally {
      raw.close();
      store.close();
    }
    return { config: cfg, fill: { rows: cfg.rows, seconds: fillSeconds, rowsPerSec: cfg.rows / fillSeconds, dbBytes }, queries };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The query AuditStore runs, with the table forced to a full scan. */
function fullScanSql(q: AuditQuery): { sql: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit ?? 100 };
  for (const k of ['principal', 'user', 'method', 'decision'] as const) {
    if (q[k] !== undefined) {
      where.push(`${k} = @${k}`);
      params[k] = q[k];
    }
  }
  if (q.sinceMs !== undefined) {
    where.push('time_ms >= @sinceMs');
    params['sinceMs'] = q.sinceMs;
  }
  const sql = `SELECT * FROM reqauth_audit NOT INDEXED${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY time_ms DESC, id DESC LIMIT @limit`;
  return { sql, params };
}

function time(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

/** Standalone: `node dist/bench/audit-store.js [--quick] [--rows N]`. */
if (require.main === module) {
  const argv = process.argv.slice(2);
  const base = argv.includes('--quick') ? AUDIT_BENCH_CFG.quick : AUDIT_BENCH_CFG.full;
  const i = argv.indexOf('--rows');
  const cfg = i >= 0 ? { ...base, rows: Number(argv[i + 1]) } : base;
  const r = auditStoreBench(cfg, (l) => process.stderr.write(l + '\n'));
  console.log(`filled ${r.fill.rows.toLocaleString('en-US')} rows in ${r.fill.seconds.toFixed(1)} s (${Math.round(r.fill.rowsPerSec).toLocaleString('en-US')} rows/s), ${(r.fill.dbBytes / 1048576).toFixed(0)} MiB`);
  for (const q of r.queries) {
    console.log(`${q.name.padEnd(44)} indexed ${q.indexedMs.toFixed(3).padStart(8)} ms   full scan ${q.fullScanMs.toFixed(1).padStart(7)} ms   rows ${q.rowsReturned}   ${q.plan.join('; ')}`);
  }
}
