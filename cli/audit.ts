// reqauth audit: query the embedded audit store (src/audit/store) written by AuditSpanExporter.
import { existsSync } from 'node:fs';
import type { AuditQuery, AuditRecord } from '../src/audit/store';
import { CliError, Command, optionalString, UsageError } from './common';

export const audit: Command = {
  name: 'audit',
  summary: 'query the audit store: who called what, as whom, allowed or denied and why',
  usage: [
    'Usage: reqauth audit --db FILE [--principal P] [--user U] [--method M] [--decision allow|deny] [--since 1h] [--limit N] [--json]',
    '',
    'Prints the decisions recorded in an audit store (the SQLite file AuditSpanExporter',
    'writes), newest first, as a table (time, decision, reason, principal, user, role,',
    'method, trace id) or, with --json, as one JSON object per line.',
    '',
    'Options:',
    '  --db FILE        the audit store (opened read-only)',
    '  --principal P    only calls by this principal',
    '  --user U         only calls made for this user (on behalf of)',
    '  --method M       only this method, as its full path: /ledger.v1.LedgerService/Transfer',
    '  --decision D     allow or deny',
    '  --since AGE      only the last AGE: a number and a unit, s m h or d (30s, 15m, 1h, 2d)',
    '  --limit N        at most N rows (default 100)',
    '  --json           JSON lines instead of a table',
    '',
    'Filters combine (all must match). A missing or foreign FILE exits 1. Needs the',
    'better-sqlite3 package (an optional peer dependency of reqauth).',
  ].join('\n'),
  options: {
    db: { type: 'string' },
    principal: { type: 'string' },
    user: { type: 'string' },
    method: { type: 'string' },
    decision: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  run(values, _positionals, io) {
    const db = optionalString(values, 'db');
    if (db === undefined) throw new UsageError('missing required --db');
    const query: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = {};
    for (const name of ['principal', 'user', 'method'] as const) {
      const v = optionalString(values, name);
      if (v !== undefined) query[name] = v;
    }
    const decision = optionalString(values, 'decision');
    if (decision !== undefined) {
      if (decision !== 'allow' && decision !== 'deny') throw new UsageError(`--decision must be allow or deny, not '${decision}'`);
      query.decision = decision;
    }
    const since = optionalString(values, 'since');
    if (since !== undefined) query.sinceMs = Date.now() - parseAge(since);
    const limit = optionalString(values, 'limit');
    if (limit !== undefined) {
      if (!/^[1-9][0-9]{0,6}$/.test(limit) || Number(limit) > 1_000_000) throw new UsageError('--limit must be an integer from 1 to 1000000');
      query.limit = Number(limit);
    }

    if (!existsSync(db)) throw new CliError(`no audit store at ${db} (file not found)`);
    const rows = readRows(db, query);
    if (values['json'] === true) {
      for (const r of rows) io.out(JSON.stringify({ time: new Date(r.timeMs).toISOString(), ...r }));
      return;
    }
    if (rows.length === 0) {
      io.out('no matching decisions');
      return;
    }
    io.out(table(rows));
  },
};

/** `30s`, `15m`, `1h`, `2d` → milliseconds. */
export function parseAge(text: string): number {
  const m = /^([0-9]{1,9})([smhd])$/.exec(text);
  if (!m) throw new UsageError(`--since must be a number and a unit s, m, h or d (e.g. 30s, 15m, 1h, 2d), not '${text}'`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function readRows(path: string, query: AuditQuery): AuditRecord[] {
  // Loaded here, not at the top: the other commands must work without better-sqlite3.
  let mod: typeof import('../src/audit/store');
  try {
    mod = require('../src/audit/store') as typeof import('../src/audit/store');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_DLOPEN_FAILED') {
      throw new CliError('the audit store needs the better-sqlite3 package: npm install better-sqlite3 (and allow its install script)');
    }
    throw err;
  }
  let store: InstanceType<typeof mod.AuditStore>;
  try {
    store = new mod.AuditStore(path, { readonly: true });
  } catch (err) {
    if (err instanceof mod.AuditStoreError) throw new CliError(err.message);
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) throw new CliError(`cannot open audit store ${path}: ${code}`);
    throw err;
  }
  try {
    return store.query(query);
  } finally {
    store.close();
  }
}

const HEADERS = ['time', 'decision', 'reason', 'principal', 'user', 'role', 'method', 'trace id'];

function table(rows: readonly AuditRecord[]): string {
  const cells = rows.map((r) => [
    new Date(r.timeMs).toISOString(),
    r.decision,
    r.reason ?? '-',
    r.principal ?? '-',
    r.user ?? '-',
    r.role ?? '-',
    r.method,
    r.traceId ?? '-',
  ].map(printable));
  const all = [HEADERS, ...cells];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * Values come from requests (the method path of a refused call, the asserted user): escape
 * control characters so a stored value cannot drive the terminal it is printed on.
 */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
