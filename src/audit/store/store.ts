// The embedded audit store (issue 5 item 3): reqauth decisions in one SQLite table, indexed
// for the questions a security team asks ("who called Transfer for alice in the last hour,
// and what was refused and why"). Optional: it needs the `better-sqlite3` peer dependency,
// and nothing in the core library imports this module (it is the `reqauth/audit-store`
// entry point).
//
// Bounds: every string is cut to `maxStringLength` characters before it is stored, and rows
// older than `retentionDays` are deleted on open and then at most once per `pruneIntervalMs`
// (checked on insert). Durability: WAL mode with synchronous=NORMAL: a committed batch
// survives a crash of the process; a power loss can lose the last batches, never corrupt.
import Database = require('better-sqlite3');

/** One stored decision. Absent facts are `null`. */
export interface AuditRecord {
  /** When the decision was made (ms since the epoch). */
  readonly timeMs: number;
  readonly decision: string;
  readonly reason: string | null;
  readonly principal: string | null;
  readonly user: string | null;
  /** The principal's roles, comma-joined (`reqauth.role`). */
  readonly role: string | null;
  readonly audience: string | null;
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  readonly traceId: string | null;
  readonly spanId: string | null;
  readonly keyId: string | null;
  readonly macaroonId: string | null;
  /** The delegation chain, `alice>frontend>backend`. */
  readonly chain: string | null;
}

/** A record to insert: the optional facts may be left out. */
export type AuditRecordInput = Pick<AuditRecord, 'timeMs' | 'decision' | 'method'> & Partial<Omit<AuditRecord, 'timeMs' | 'decision' | 'method'>>;

export interface AuditQuery {
  readonly principal?: string;
  readonly user?: string;
  /**
   * The full method path, matched exactly (`/ledger.v1.LedgerService/Transfer`), or a
   * method's short name: `Transfer` matches that method in any service,
   * `LedgerService/Transfer` in any package.
   */
  readonly method?: string;
  readonly decision?: 'allow' | 'deny';
  /** The reason code of a refusal (`bad_digest`, `missing_role`, …). */
  readonly reason?: string;
  /** Only decisions at or after this time (ms since the epoch). */
  readonly sinceMs?: number;
  /** At most this many rows (default 100, at most 1,000,000). */
  readonly limit?: number;
}

export interface AuditStoreOptions {
  /** Open an existing store for queries only: no schema changes, no pruning, no inserts. */
  readonly readonly?: boolean;
  /** Strings longer than this are cut (with a trailing `…`). Default 512. */
  readonly maxStringLength?: number;
  /**
   * Delete rows older than this many days, on open and then periodically. Default 30;
   * `Infinity` keeps everything.
   */
  readonly retentionDays?: number;
  /** How often inserts check for expired rows. Default one hour. */
  readonly pruneIntervalMs?: number;
  /** The clock, for retention (tests). Default `Date.now`. */
  readonly now?: () => number;
}

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1_000_000;
export const DEFAULT_MAX_STRING_LENGTH = 512;
export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;
const SCHEMA_VERSION = 1;
const TABLE = 'reqauth_audit';
/** Rows deleted per statement when pruning, so a writer never holds the lock for long. */
const PRUNE_CHUNK = 10_000;

/**
 * The table and its indexes. Every query filters on zero or more of principal, user, method
 * and decision, optionally bounds the time from below, and wants the newest rows first: so
 * each filter column has an index `(column, time_ms)`, which answers "column = X [AND
 * time_ms >= T] ORDER BY time_ms DESC LIMIT n" by walking one index range backwards and
 * stopping after n rows, and `(time_ms)` serves queries with only a time bound (and
 * retention). With two filters SQLite picks one of those indexes (ANALYZE statistics, kept
 * fresh by PRAGMA optimize, tell it which is more selective) and checks the other per row.
 * `(principal, decision, time_ms)` is there for the common "denials of this principal"
 * question when the principal is a busy service whose rows are nearly all `allow`.
 */
export const SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT,
    principal TEXT,
    user TEXT,
    role TEXT,
    audience TEXT,
    method TEXT NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    key_id TEXT,
    macaroon_id TEXT,
    chain TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_time ON ${TABLE} (time_ms)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_principal_time ON ${TABLE} (principal, time_ms)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_principal_decision_time ON ${TABLE} (principal, decision, time_ms)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_user_time ON ${TABLE} (user, time_ms)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_method_time ON ${TABLE} (method, time_ms)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_decision_time ON ${TABLE} (decision, time_ms)`,
  // Added after schema 1 shipped; IF NOT EXISTS adds it to older stores on their next writable open.
  `CREATE INDEX IF NOT EXISTS ${TABLE}_reason_time ON ${TABLE} (reason, time_ms)`,
];

const COLUMNS = [
  ['timeMs', 'time_ms'],
  ['decision', 'decision'],
  ['reason', 'reason'],
  ['principal', 'principal'],
  ['user', 'user'],
  ['role', 'role'],
  ['audience', 'audience'],
  ['method', 'method'],
  ['traceId', 'trace_id'],
  ['spanId', 'span_id'],
  ['keyId', 'key_id'],
  ['macaroonId', 'macaroon_id'],
  ['chain', 'chain'],
] as const;

const SELECT_LIST = COLUMNS.map(([field, column]) => (field === column ? column : `${column} AS ${field}`)).join(', ');
const FILTERS = ['principal', 'user', 'method', 'decision', 'reason'] as const;

/** Thrown for a file that is not an audit store, or a store of a newer schema. */
export class AuditStoreError extends Error {
  override readonly name = 'AuditStoreError';
}

export class AuditStore {
  readonly path: string;
  readonly readonly: boolean;
  readonly maxStringLength: number;
  readonly retentionDays: number;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly pruneIntervalMs: number;
  private readonly insertOne: Database.Statement | undefined;
  private readonly insertMany: ((rows: readonly AuditRecordInput[]) => void) | undefined;
  private readonly queries = new Map<number, Database.Statement>();
  private lastPruneMs = 0;
  private closed = false;

  /**
   * Opens (creating if needed, unless `readonly`) the store at `path`; `':memory:'` for a
   * private in-memory store.
   */
  constructor(path: string, options: AuditStoreOptions = {}) {
    this.path = path;
    this.readonly = options.readonly ?? false;
    this.maxStringLength = positiveInteger(options.maxStringLength ?? DEFAULT_MAX_STRING_LENGTH, 'maxStringLength');
    this.retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    if (!(this.retentionDays > 0)) throw new RangeError('retentionDays must be a positive number (or Infinity)');
    this.pruneIntervalMs = options.pruneIntervalMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
    this.db = new Database(path, { readonly: this.readonly, fileMustExist: this.readonly });
    try {
      this.db.pragma('busy_timeout = 5000');
      if (this.readonly) {
        this.checkSchema();
        return;
      }
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new AuditStoreError(`${path}: audit store schema ${version} is newer than this reqauth (${SCHEMA_VERSION})`);
      if (version === 0 && this.hasOtherTables()) throw new AuditStoreError(`${path} is an SQLite database, but not a reqauth audit store`);
      this.db.transaction(() => {
        for (const sql of SCHEMA_SQL) this.db.exec(sql);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
      const placeholders = COLUMNS.map(([field]) => '@' + field).join(', ');
      this.insertOne = this.db.prepare(`INSERT INTO ${TABLE} (${COLUMNS.map(([, c]) => c).join(', ')}) VALUES (${placeholders})`);
      this.insertMany = this.db.transaction((rows: readonly AuditRecordInput[]) => {
        for (const row of rows) this.insertOne!.run(this.bound(row));
      });
      this.prune();
      // Fresh statistics for the planner when they are missing or stale (cheap: bounded).
      this.db.pragma('optimize = 0x10002');
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  /** Inserts the rows in one transaction. Strings are cut to `maxStringLength`. */
  insert(rows: readonly AuditRecordInput[]): void {
    if (this.closed) throw new AuditStoreError('audit store is closed');
    if (!this.insertMany) throw new AuditStoreError('audit store is open read-only');
    if (rows.length > 0) this.insertMany(rows);
    if (this.now() - this.lastPruneMs >= this.pruneIntervalMs) this.prune();
  }

  /**
   * Deletes rows older than the retention period (a no-op with `retentionDays: Infinity` or
   * read-only). Returns how many rows went. Runs on open and from `insert` at most once per
   * `pruneIntervalMs`; call it yourself to prune on another schedule.
   */
  prune(): number {
    if (this.readonly || this.closed) return 0;
    this.lastPruneMs = this.now();
    if (!Number.isFinite(this.retentionDays)) return 0;
    const cutoff = this.lastPruneMs - this.retentionDays * DAY_MS;
    const del = this.db.prepare(`DELETE FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} WHERE time_ms < ? LIMIT ${PRUNE_CHUNK})`);
    let total = 0;
    for (;;) {
      const { changes } = del.run(cutoff);
      total += changes;
      if (changes < PRUNE_CHUNK) return total;
    }
  }

  /** Matching decisions, newest first. */
  query(q: AuditQuery = {}): AuditRecord[] {
    const { statement, params } = this.prepareQuery(q);
    return statement.all(params) as AuditRecord[];
  }

  /** SQLite's plan for `query(q)`, one line per step (EXPLAIN QUERY PLAN `detail`). */
  explain(q: AuditQuery = {}): string[] {
    const { sql, params } = this.querySql(q);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail);
  }

  /** How many rows the store holds. */
  count(): number {
    return this.db.prepare(`SELECT count(*) FROM ${TABLE}`).pluck().get() as number;
  }

  /** Refreshes the planner's statistics (ANALYZE), e.g. after a bulk load. */
  analyze(): void {
    this.db.exec('ANALYZE');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.readonly) this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  // ---------------------------------------------------------------- internals

  private prepareQuery(q: AuditQuery): { statement: Database.Statement; params: Record<string, unknown> } {
    if (this.closed) throw new AuditStoreError('audit store is closed');
    const { sql, params, mask } = this.querySql(q);
    let statement = this.queries.get(mask);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.queries.set(mask, statement);
    }
    return { statement, params };
  }

  private querySql(q: AuditQuery): { sql: string; params: Record<string, unknown>; mask: number } {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    let mask = 0;
    FILTERS.forEach((name, i) => {
      const value = q[name];
      if (value === undefined) return;
      if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
      if (name === 'method' && !value.startsWith('/')) {
        // A short name: the path's tail after a '/' (Transfer), or after a '.' or the leading
        // '/' (LedgerService/Transfer). GLOB, as method names are case-sensitive (LIKE is not).
        // No index serves a suffix match: the other filters and the time bound narrow it.
        const literal = value.replace(/[*?[]/g, (c) => `[${c}]`);
        if (value.includes('/')) {
          where.push('(method GLOB @methodTail OR method = @methodPath)');
          params['methodTail'] = `*.${literal}`;
          params['methodPath'] = `/${value}`;
        } else {
          where.push('method GLOB @methodTail');
          params['methodTail'] = `*/${literal}`;
        }
        mask |= 1 << (FILTERS.length + (value.includes('/') ? 2 : 1));
        return;
      }
      where.push(`${name} = @${name}`);
      // Stored values were cut to maxStringLength: cut the filter the same way.
      params[name] = truncate(value, this.maxStringLength);
      mask |= 1 << i;
    });
    if (q.sinceMs !== undefined) {
      if (!Number.isFinite(q.sinceMs)) throw new TypeError('sinceMs must be a finite number');
      where.push('time_ms >= @sinceMs');
      params['sinceMs'] = Math.floor(q.sinceMs);
      mask |= 1 << FILTERS.length;
    }
    const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) throw new RangeError(`limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
    params['limit'] = limit;
    const sql =
      `SELECT ${SELECT_LIST} FROM ${TABLE}` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY time_ms DESC, id DESC LIMIT @limit`;
    return { sql, params, mask };
  }

  private bound(row: AuditRecordInput): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [field] of COLUMNS) {
      const value = (row as unknown as Record<string, unknown>)[field];
      if (field === 'timeMs') {
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError('timeMs must be a finite number');
        out[field] = Math.round(value);
      } else if (value === undefined || value === null) {
        out[field] = field === 'decision' || field === 'method' ? '' : null;
      } else {
        out[field] = truncate(String(value), this.maxStringLength);
      }
    }
    return out;
  }

  private checkSchema(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const table = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(TABLE);
    if (!table || version === 0) throw new AuditStoreError(`${this.path} is not a reqauth audit store`);
    if (version > SCHEMA_VERSION) throw new AuditStoreError(`${this.path}: audit store schema ${version} is newer than this reqauth (${SCHEMA_VERSION})`);
  }

  private hasOtherTables(): boolean {
    const rows = this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    return rows.some((name) => name !== TABLE);
  }
}

/** Cuts `s` to at most `max` UTF-16 units, ending in `…` when cut, never splitting a pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // don't leave half a surrogate pair
  return s.slice(0, end) + '…';
}

function positiveInteger(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer`);
  return n;
}
