// The shared replay store for several replicas, on Redis (docs/spec.md §6.4; README,
// "Running several replicas"). One atomic round trip per request: a Lua script
// (src/replay/redis.lua.ts) that keeps every rule of the ReplayStore contract with Redis's own
// clock. The Redis client (`redis`, node-redis) is an optional peer dependency: this module
// never imports it; it is loaded only when a store is created from a URL, and a caller may pass
// its own client (standalone, Cluster or Sentinel) instead.
import { createHash } from 'node:crypto';
import { ReplayStore, ReplayVerdict, ReplayWindow, restartFloor } from './store';
import { CHECK_AND_REMEMBER, INITIALIZE, STATS } from './redis.lua';

/** A key or argument of a Redis script call. */
export type RedisArgument = string | Buffer;

/**
 * What the store needs of a client: node-redis's `evalSha` and `eval`, which a standalone
 * client, a Cluster (routed by the first key) and a Sentinel client all have.
 */
export interface RedisScriptClient {
  evalSha(sha1: string, options: { keys: RedisArgument[]; arguments: RedisArgument[] }): Promise<unknown>;
  eval(script: string, options: { keys: RedisArgument[]; arguments: RedisArgument[] }): Promise<unknown>;
  /** Used, when present, to check `maxmemory-policy` once. */
  configGet?(parameter: string): Promise<unknown>;
}

/** Something the store reports, once per occurrence (never per call). */
export type RedisReplayStoreEvent =
  | { readonly kind: 'unavailable'; readonly error: Error }
  | { readonly kind: 'recovered' }
  /** Redis had lost its data (or was never used): the floor now refuses every request issued before. */
  | { readonly kind: 'data-loss' }
  /** A principal's nonces had been evicted; its floor now refuses what they covered. */
  | { readonly kind: 'principal-lost' }
  /** No reply for `stallResetMs` while calls waited: the store's own connection was replaced. */
  | { readonly kind: 'reset' }
  | { readonly kind: 'eviction-policy'; readonly policy: string }
  | { readonly kind: 'policy-unknown'; readonly error: Error };

export interface RedisReplayStoreOptions {
  /**
   * The audience this store serves: its keys live under the hash tag `{keyPrefix:audience}`,
   * so every key a call touches is in one Redis Cluster slot (one audience, one slot).
   */
  audience: string;
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). Loads `redis` lazily. */
  url?: string;
  /**
   * More options for node-redis's `createClient` (TLS `socket` options, `username`,
   * `password`, …). The store sets `disableOfflineQueue` and a reconnect strategy.
   */
  clientOptions?: Record<string, unknown>;
  /** Your own connected client (createClient, createCluster, createSentinel) instead of a URL. */
  client?: RedisScriptClient;
  /** Default `reqauth`. */
  keyPrefix?: string;
  /**
   * A principal's share, as in MemoryReplayStore: size it at the busiest principal's request
   * rate times the window (max age + max future). Default 200,000.
   */
  maxEntriesPerPrincipal?: number;
  /** Each call's bound; past it the request is refused `replay_cache_unavailable`. Default 50 ms. */
  timeoutMs?: number;
  /**
   * Calls sent and not yet answered, at most: past it, calls are refused at once, so a slow
   * Redis cannot pile up calls or memory. Default 1,000.
   */
  maxInFlight?: number;
  /**
   * With no reply at all for this long while calls wait (a paused server, a black hole), the
   * store replaces its own connection. Not for a client you pass. Default 1,000 ms.
   */
  stallResetMs?: number;
  /**
   * The verifier's window, until it attaches (`attach`, at its construction). It sizes the
   * floor a store found empty raises; a store created before its verifier and connected
   * before it attaches would otherwise use the default (120 s + 30 s). Default: that.
   */
  window?: ReplayWindow;
  /** As MemoryReplayStore's `strictRestart`, applied when Redis is found to have lost its data. */
  strictRestart?: boolean;
  /** Default: a process warning for each event but `recovered`. */
  onEvent?: (event: RedisReplayStoreEvent) => void;
  /**
   * Tests only: the script's clock, in place of Redis's `TIME`. Never set it in production:
   * replicas' clocks would then move the floors for everyone.
   * @internal
   */
  testClock?: () => number;
}

/** A call the store refused to make or could not complete: refused `replay_cache_unavailable`. */
export class ReplayStoreUnavailableError extends Error {
  override readonly name = 'ReplayStoreUnavailableError';
}

const VERDICTS: readonly ReplayVerdict[] = ['fresh', 'replayed', 'forgotten'];
const DEFAULT_WINDOW: ReplayWindow = { maxAgeMs: 120_000, maxFutureMs: 30_000 };

interface OwnedClient extends RedisScriptClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  close?(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * A ReplayStore shared by every replica of one audience. Fails closed: an unreachable, slow or
 * paused Redis refuses calls (`replay_cache_unavailable`) within `timeoutMs`, and service
 * resumes by itself when Redis answers again; a Redis that comes back empty is detected by the
 * script, which raises the store's floor as for a new process (spec §6.4).
 */
export class RedisReplayStore implements ReplayStore {
  private client: RedisScriptClient | undefined;
  private readonly owned: boolean;
  private readonly indexKey: string;
  private readonly noncePrefix: string;
  private readonly share: string;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly stallResetMs: number;
  private readonly strictRestart: boolean;
  private readonly testClock: (() => number) | undefined;
  private readonly onEvent: (event: RedisReplayStoreEvent) => void;
  private readonly url: string | undefined;
  private readonly clientOptions: Record<string, unknown>;
  private restartOffset: string;
  private span: string;
  private inFlight = 0;
  /** When calls started timing out with no reply since; undefined while Redis answers. */
  private stalledSince: number | undefined;
  private healthy = true;
  /** A reset was reported in this outage: one report per outage, however many resets. */
  private resetReported = false;
  private policyChecked = false;
  private closed = false;

  constructor(options: RedisReplayStoreOptions) {
    const { audience } = options;
    const prefix = options.keyPrefix ?? 'reqauth';
    if (typeof audience !== 'string' || /[{}]/.test(audience) || /[{}]/.test(prefix)) {
      throw new TypeError('RedisReplayStore: audience and keyPrefix are required and may not contain { or }');
    }
    if ((options.url === undefined) === (options.client === undefined)) throw new TypeError('RedisReplayStore: give a url or a client, not both');
    const share = options.maxEntriesPerPrincipal ?? 200_000;
    const timeoutMs = options.timeoutMs ?? 50;
    const maxInFlight = options.maxInFlight ?? 1_000;
    for (const [name, v] of [['maxEntriesPerPrincipal', share], ['timeoutMs', timeoutMs], ['maxInFlight', maxInFlight]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`RedisReplayStore: ${name} must be a positive integer`);
    }
    const tag = `{${prefix}:${audience}}`;
    this.indexKey = `${tag}:i`;
    this.noncePrefix = `${tag}:n:`;
    this.share = String(share);
    this.timeoutMs = timeoutMs;
    this.maxInFlight = maxInFlight;
    this.stallResetMs = options.stallResetMs ?? 1_000;
    this.strictRestart = options.strictRestart === true;
    this.testClock = options.testClock;
    this.onEvent = options.onEvent ?? warn;
    this.url = options.url;
    this.clientOptions = options.clientOptions ?? {};
    const window = options.window ?? DEFAULT_WINDOW;
    this.restartOffset = String(restartFloor(0, window, this.strictRestart));
    this.span = String(window.maxAgeMs + window.maxFutureMs);
    this.owned = options.client === undefined;
    // A missing `redis` package is a misconfiguration: say so now, not at the first call.
    this.client = options.client ?? this.connect();
  }

  /** The verifier's window: how far a loss of data must raise the floor, and key lifetimes. */
  attach(window: ReplayWindow): void {
    this.restartOffset = String(restartFloor(0, window, this.strictRestart));
    this.span = String(window.maxAgeMs + window.maxFutureMs);
  }

  checkAndRemember(principal: string, nonce: Uint8Array, expiresAtMs: number): Promise<ReplayVerdict> {
    if (this.closed) throw new ReplayStoreUnavailableError('replay store closed');
    const client = this.client;
    if (!client) throw new ReplayStoreUnavailableError('replay store closed');
    if (this.owned && !(client as OwnedClient).isReady) {
      // Still connecting: to a server that refuses (the client retries by itself), or to one
      // that accepted and never answers the handshake (only a new connection gets past that).
      this.noteStall();
      throw new ReplayStoreUnavailableError('replay store not connected');
    }
    if (this.inFlight >= this.maxInFlight) {
      this.noteStall();
      throw new ReplayStoreUnavailableError('too many replay store calls in flight');
    }
    // The empty member is the principal's floor; the verifier's nonces are 16 bytes.
    if (nonce.byteLength === 0) throw new ReplayStoreUnavailableError('empty nonce');
    const keys = [this.indexKey, this.noncePrefix + principal];
    const args: RedisArgument[] = [
      principal,
      Buffer.isBuffer(nonce) ? nonce : Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength),
      String(expiresAtMs),
      this.share,
      this.restartOffset,
      this.span,
      this.noncePrefix,
      this.testClock ? String(this.testClock()) : '',
    ];
    this.inFlight++;
    let sent: Promise<unknown>;
    try {
      sent = runScript(client, CHECK_AND_REMEMBER_SHA, CHECK_AND_REMEMBER, keys, args);
    } catch (err) {
      this.inFlight--;
      throw err;
    }
    return new Promise<ReplayVerdict>((resolve, reject) => {
      let settled = false;
      // The reply may already sit in the socket when the timer fires after a busy event loop:
      // setImmediate runs after this turn's I/O, so only a reply that truly is late times out.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            settled = true;
            this.noteStall();
            reject(new ReplayStoreUnavailableError(`replay store did not answer within ${this.timeoutMs} ms`));
          }),
        this.timeoutMs,
      );
      sent.then(
        (reply) => {
          this.inFlight--;
          this.answered();
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const verdict = this.verdict(reply);
          if (verdict) resolve(verdict);
          else reject(new ReplayStoreUnavailableError('unexpected reply from the replay store script'));
        },
        (err: unknown) => {
          this.inFlight--;
          this.stalledSince = undefined; // Redis (or the client) answered, with an error
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.unavailable(err);
          reject(new ReplayStoreUnavailableError('replay store call failed'));
        },
      );
    });
  }

  /**
   * Waits until the store is connected and has checked that Redis still holds its data (a
   * store found empty raises its floor now). Resolves false if that did not happen within
   * `timeoutMs`: calls are then refused until it does. For start-up, before serving.
   */
  async ready(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      const client = this.client;
      if (client && (!this.owned || (client as OwnedClient).isReady)) {
        try {
          await this.initialize(client);
          return true;
        } catch {
          // not yet
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  private async initialize(client: RedisScriptClient): Promise<void> {
    const reply = await runScript(client, INITIALIZE_SHA, INITIALIZE, [this.indexKey], [this.restartOffset, this.testClock ? String(this.testClock()) : '']);
    if (Number(reply) === 1) this.onEvent({ kind: 'data-loss' });
  }

  /** Entries, principals and the store's floor, walking the index: for operators and the soak. */
  async stats(): Promise<{ entries: number; principals: number; floorMs: number }> {
    const client = this.client;
    if (!client) throw new ReplayStoreUnavailableError('replay store closed');
    const reply = (await runScript(client, STATS_SHA, STATS, [this.indexKey], [this.noncePrefix])) as unknown[];
    return { entries: Number(reply[0]), principals: Number(reply[1]), floorMs: Number(reply[2]) };
  }

  /** Calls sent and not answered yet. */
  get pending(): number {
    return this.inFlight;
  }

  /** Closes the store's own connection (a client you passed is yours to close). */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (this.owned && client) await closeClient(client as OwnedClient);
  }

  private verdict(reply: unknown): ReplayVerdict | undefined {
    if (!Array.isArray(reply)) return undefined;
    if (Number(reply[1]) === 1) this.onEvent({ kind: 'data-loss' });
    if (Number(reply[2]) === 1) this.onEvent({ kind: 'principal-lost' });
    return VERDICTS[Number(reply[0])];
  }

  private answered(): void {
    this.stalledSince = undefined;
    if (!this.healthy) {
      this.healthy = true;
      this.resetReported = false;
      this.onEvent({ kind: 'recovered' });
    }
    if (!this.policyChecked) {
      this.policyChecked = true;
      void this.checkEvictionPolicy();
    }
  }

  private unavailable(err: unknown): void {
    if (!this.healthy) return;
    this.healthy = false;
    this.onEvent({ kind: 'unavailable', error: err instanceof Error ? err : new Error(String(err)) });
  }

  /**
   * Calls are timing out, or the in-flight bound is reached, with no reply since: after
   * `stallResetMs` of that, the store's own connection is replaced, which fails every call
   * it still holds (a paused or black-holed server never closes the socket by itself).
   */
  private noteStall(): void {
    const now = Date.now();
    if (this.stalledSince === undefined) {
      this.stalledSince = now;
      this.unavailable(new ReplayStoreUnavailableError('replay store not answering'));
      return;
    }
    if (!this.owned || this.closed || now - this.stalledSince < this.stallResetMs) return;
    this.stalledSince = now;
    const old = this.client as OwnedClient;
    if (!this.resetReported) {
      this.resetReported = true;
      this.onEvent({ kind: 'reset' });
    }
    this.client = this.connect();
    try {
      old.destroy();
    } catch {
      // already closed
    }
  }

  private connect(): OwnedClient {
    const redis = loadRedis();
    const socket = (this.clientOptions.socket ?? {}) as Record<string, unknown>;
    const client = redis.createClient({
      ...this.clientOptions,
      ...(this.url === undefined ? {} : { url: this.url }),
      // A call while disconnected fails at once, rather than waiting in a queue.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2_000,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
        ...socket,
      },
    }) as OwnedClient;
    // Without a listener an 'error' event would throw and end the process.
    client.on('error', (err) => this.unavailable(err));
    // On every (re)connection: a Redis that came back empty is found now, not at a request.
    client.on('ready', () => void this.initialize(client).catch(() => undefined));
    client.connect().catch((err: unknown) => this.unavailable(err));
    return client;
  }

  /** noeviction is recommended (README): eviction costs refusals, though never a replay. */
  private async checkEvictionPolicy(): Promise<void> {
    const client = this.client;
    if (!client?.configGet) return;
    try {
      const reply = (await client.configGet('maxmemory-policy')) as Record<string, string> | undefined;
      const policy = reply?.['maxmemory-policy'];
      if (policy !== undefined && policy !== 'noeviction') this.onEvent({ kind: 'eviction-policy', policy });
    } catch (err) {
      this.onEvent({ kind: 'policy-unknown', error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const CHECK_AND_REMEMBER_SHA = sha1(CHECK_AND_REMEMBER);
const STATS_SHA = sha1(STATS);
const INITIALIZE_SHA = sha1(INITIALIZE);

/** EVALSHA, and EVAL (which also loads the script) when this server does not have it yet. */
function runScript(client: RedisScriptClient, sha: string, script: string, keys: RedisArgument[], args: RedisArgument[]): Promise<unknown> {
  return client.evalSha(sha, { keys, arguments: args }).catch((err: unknown) => {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(script, { keys, arguments: args });
    throw err;
  });
}

async function closeClient(client: OwnedClient): Promise<void> {
  try {
    if (client.isReady && client.close) await client.close();
    else client.destroy();
  } catch {
    try {
      client.destroy();
    } catch {
      // already closed
    }
  }
}

interface RedisModule {
  createClient(options: Record<string, unknown>): unknown;
}

function loadRedis(): RedisModule {
  try {
    // Lazy: the core library never loads the client unless a Redis store is created.
    return require('redis') as RedisModule;
  } catch (err) {
    throw new Error(`RedisReplayStore needs the optional peer dependency "redis" (npm install redis): ${(err as Error).message}`);
  }
}

/**
 * What kind of error, never its message (spec §8): a connection error's code (ECONNREFUSED),
 * a Redis error's leading word (WRONGPASS, OOM, NOSCRIPT), or the error's class.
 */
function errorKind(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
  return /^[A-Z][A-Z0-9_]+(?=\s|$)/.exec(err.message)?.[0] ?? err.name;
}

function warn(event: RedisReplayStoreEvent): void {
  if (event.kind === 'recovered') return;
  const text: Record<RedisReplayStoreEvent['kind'], string> = {
    unavailable: 'replay store (Redis) unavailable: requests are refused replay_cache_unavailable until it answers',
    recovered: '',
    'data-loss': 'replay store (Redis) found itself empty (lost its data, or first use): its floor now refuses every request issued before now',
    'principal-lost': "replay store (Redis) had lost a principal's nonces (eviction?): that principal's earlier requests are refused",
    reset: 'replay store (Redis) did not answer: its connection was replaced',
    'eviction-policy': 'replay store (Redis) maxmemory-policy is not noeviction: evictions will refuse honest requests (never accept a replay)',
    'policy-unknown': 'replay store (Redis): could not read maxmemory-policy (CONFIG not permitted?); set noeviction',
  };
  const detail = event.kind === 'eviction-policy' ? ` (${event.policy})` : 'error' in event ? ` (${errorKind(event.error)})` : '';
  process.emitWarning(text[event.kind] + detail, { type: 'ReqauthReplayStoreWarning', code: `REQAUTH_REPLAY_${event.kind.toUpperCase().replace(/-/g, '_')}` });
}
