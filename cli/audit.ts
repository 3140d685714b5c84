// reqauth audit: query the embedded audit store (src/audit/store) written by AuditSpanExporter.
import { existsSync } from 'node:fs';
import type { AuditQuery, AuditRecord } from '../src/audit/store';
import { CliError, Command, optionalString, UsageError } from './common';
import { escaped, printableJson } from './printable';

export const audit: Command = {
  name: 'audit',
  summary: 'query the audit store: who called what, as whom, allowed or denied and why',
  usage: [
    'Usage: reqauth audit --db FILE [--principal P] [--user U] [--method M] [--decision allow|deny]',
    '                     [--reason R] [--since 1h] [--limit N] [--wide | --json]',
    '',
    'Prints the decisions recorded in an audit store (the SQLite file AuditSpanExporter',
    'writes), newest first, as a table that fits 120 columns (time in UTC, decision, reason,',
    'principal, user, Service/Method; long values cut with …), with --wide as a table of every',
    'value in full plus role and trace id, or with --json as one JSON object per line.',
    '',
    'Options:',
    '  --db FILE        the audit store (opened read-only)',
    '  --principal P    only calls by this principal',
    '  --user U         only calls made for this user (on behalf of)',
    '  --method M       only this method: its full path /ledger.v1.LedgerService/Transfer, or',
    '                   its short name Transfer or LedgerService/Transfer',
    '  --decision D     allow or deny',
    '  --reason R       only refusals for this reason (bad_digest, missing_role, ...)',
    '  --since AGE      only the last AGE: a number and a unit, s m h or d (30s, 15m, 1h, 2d)',
    '  --limit N        at most N rows (default 100)',
    '  --wide           every column, nothing cut (role, full method path, trace id)',
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
    reason: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    wide: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  run(values, _positionals, io) {
    const db = optionalString(values, 'db');
    if (db === undefined) throw new UsageError('missing required --db');
    const query: { -readonly [K in keyof AuditQuery]: AuditQuery[K] } = {};
    for (const name of ['principal', 'user', 'method', 'reason'] as const) {
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
    if (values['json'] === true && values['wide'] === true) throw new UsageError('--json and --wide do not combine');
    if (values['json'] === true) {
      for (const r of rows) io.out(printableJson({ time: new Date(r.timeMs).toISOString(), ...r }));
      return;
    }
    if (rows.length === 0) {
      io.out('no matching decisions');
      return;
    }
    io.out(values['wide'] === true ? wideTable(rows) : table(rows));
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

/** Every value in full: wider than a terminal, for copying trace ids and full paths. */
function wideTable(rows: readonly AuditRecord[]): string {
  const headers = ['time', 'decision', 'reason', 'principal', 'user', 'role', 'method', 'trace id'];
  const cells = rows.map((r) =>
    [new Date(r.timeMs).toISOString(), r.decision, r.reason ?? '-', r.principal ?? '-', r.user ?? '-', r.role ?? '-', r.method, r.traceId ?? '-'].map(escaped),
  );
  return layout(headers, cells);
}

/**
 * The default table, at most 120 columns whatever the values: the time to the second (UTC),
 * the method as Service/Method, and each column cut to a budget (`…` marks a cut). Role and
 * trace id are in --wide and --json.
 */
function table(rows: readonly AuditRecord[]): string {
  const headers = ['time (UTC)', 'decision', 'reason', 'principal', 'user', 'method'];
  const budget = [19, 8, 24, 14, 12, 33];
  const cells = rows.map((r) =>
    [
      new Date(r.timeMs).toISOString().slice(0, 19).replace('T', ' '),
      r.decision,
      r.reason ?? '-',
      r.principal ?? '-',
      r.user ?? '-',
      shortMethod(r.method),
    ].map((c, i) => cut(escaped(c), budget[i]!)),
  );
  return layout(headers, cells);
}

/** `/ledger.v1.LedgerService/Transfer` -> `LedgerService/Transfer` (the package dropped). */
function shortMethod(path: string): string {
  const m = /^\/(?:[^/]*\.)?([^./]+\/[^/]+)$/.exec(path);
  return m ? m[1]! : path;
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, width - 1) + '…';
}

function layout(headers: string[], cells: string[][]): string {
  const all = [headers, ...cells];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
