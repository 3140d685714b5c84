// The bench's client: one child process per configuration, started by bench.ts.
//
// Environment: BENCH_CONFIG (plain|noop|floor|reqauth|jwt), BENCH_MATERIAL (bench/reqauth-setup.ts
// Material, JSON). Commands (bench/proc.ts): `connect` to that configuration's server; `run`
// drives calls of one case and measures this process's CPU and each call's latency; `headers`
// sends pre-built reqauth headers (honest or forged) raw; `profile-start` / `profile-stop`.
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { LedgerService, LedgerServiceClient } from '../examples/ledger/definition';
import { clientOptions, ConfigName, isConfig } from './configs';
import { fatal, progress, serve } from './proc';
import { startProfile, stopProfile } from './profile';
import { HeaderVariant, headerBytes, Material, PRINCIPAL, requestHeaders } from './reqauth-setup';
import { BALANCE_REQUEST, TRANSFER_PATH, transactionOfSize } from './messages';

/** `balance`: unary GetBalance, whose response reqauth signs (the response-signing section). */
export type CaseKind = 'unary' | 'balance' | 'client-stream' | 'server-stream';

export interface RunArgs {
  readonly kind: CaseKind;
  /** Serialized size of each request message (unary, client-stream) or response (server-stream). */
  readonly bytes: number;
  /** Messages per call for the streaming kinds. */
  readonly messages: number;
  readonly concurrency: number;
  /** Exactly this many calls (measured runs) ... */
  readonly calls?: number;
  /** ... or as many as fit in this time (warm-up and calibration), ... */
  readonly durationMs?: number;
  /** ... but at least this many, unless that takes more than 3 x durationMs (JIT warm-up). */
  readonly minCalls?: number;
  /** Report progress every this many completed calls. */
  readonly progressEvery?: number;
}

export interface RunResult {
  readonly calls: number;
  readonly seconds: number;
  /** This process's user + system CPU over the run. */
  readonly cpuUs: number;
  /** One per call, ms; only for runs with a fixed call count. */
  readonly latencies: Float64Array;
}

/** Bounds a time-bounded run's calls (and so its memory and work). */
const MAX_TIMED_CALLS = 2_000_000;

const CLIENT_OPTIONS: grpc.ClientOptions = { 'grpc.max_receive_message_length': 8 * 1024 * 1024 };

type Done = (err: Error | null | undefined) => void;

/**
 * `concurrency` callers, each starting its next call when its previous one completes, until
 * `calls` were started or `durationMs` has passed. A failed call fails the run: a refused
 * call must never count as a fast one.
 */
function drive(
  concurrency: number,
  calls: number | undefined,
  durationMs: number | undefined,
  one: (done: Done) => void,
  progressEvery = 0,
  minCalls = 0,
): Promise<Omit<RunResult, 'cpuUs'>> {
  return new Promise((resolve, reject) => {
    const limit = calls ?? MAX_TIMED_CALLS;
    const latencies = calls === undefined ? undefined : new Float64Array(calls);
    let started = 0;
    let completed = 0;
    let active = Math.min(concurrency, limit);
    let failed = false;
    const t0 = performance.now();
    const deadline = durationMs === undefined ? Infinity : t0 + durationMs;
    const hardDeadline = durationMs === undefined ? Infinity : t0 + 3 * durationMs;
    const timeUp = (): boolean => {
      if (durationMs === undefined) return false;
      const now = performance.now();
      return now >= hardDeadline || (now >= deadline && started >= minCalls);
    };
    const issue = (): void => {
      if (failed || started >= limit || timeUp()) {
        if (--active === 0 && !failed) {
          const seconds = (performance.now() - t0) / 1000;
          resolve({ calls: completed, seconds, latencies: latencies ?? new Float64Array(0) });
        }
        return;
      }
      started++;
      const begin = performance.now();
      let settled = false;
      one((err) => {
        if (settled) return;
        settled = true;
        if (err) {
          if (!failed) reject(err);
          failed = true;
          return;
        }
        if (latencies) latencies[completed] = performance.now() - begin;
        completed++;
        if (progressEvery > 0 && completed % progressEvery === 0) progress(`${completed.toLocaleString('en-US')} / ${limit.toLocaleString('en-US')} calls`);
        issue();
      });
    };
    if (active === 0) resolve({ calls: 0, seconds: 0, latencies: new Float64Array(0) });
    for (let i = 0, n = active; i < n; i++) issue();
  });
}

function callError(what: string, err: grpc.ServiceError): Error {
  return new Error(`${what} failed: ${err.code} ${err.details}`);
}

/** One call of the given kind, as a function of its completion callback. */
function caseCall(client: LedgerServiceClient, args: RunArgs): (done: Done) => void {
  const tx = args.kind === 'balance' ? undefined : transactionOfSize(args.bytes);
  switch (args.kind) {
    case 'unary': {
      const request = { transaction: tx };
      return (done) => client.transfer(request, (err) => done(err ? callError('Transfer', err) : null));
    }
    case 'balance': {
      const request = BALANCE_REQUEST;
      return (done) => client.getBalance(request, (err) => done(err ? callError('GetBalance', err) : null));
    }
    case 'client-stream': {
      const message = { transaction: tx };
      const n = args.messages;
      return (done) => {
        const call = client.importTransactions((err, res) => {
          if (err) return done(callError('ImportTransactions', err));
          done(res?.imported === n ? null : new Error(`ImportTransactions: ${res?.imported} of ${n} messages imported`));
        });
        for (let i = 0; i < n; i++) call.write(message);
        call.end();
      };
    }
    case 'server-stream': {
      const request = { account: 'acc-alice', limit: args.messages };
      return (done) => {
        let got = 0;
        const call = client.listTransactions(request);
        call.on('data', () => got++);
        call.on('error', (err: grpc.ServiceError) => done(callError('ListTransactions', err)));
        call.on('end', () => done(got === args.messages ? null : new Error(`ListTransactions: ${got} of ${args.messages} responses`)));
      };
    }
  }
}

async function main(): Promise<void> {
  const config = process.env['BENCH_CONFIG'] ?? '';
  const material = JSON.parse(process.env['BENCH_MATERIAL'] ?? 'null') as Material | null;
  if (!isConfig(config) || !material) throw new Error('client.ts needs BENCH_CONFIG and BENCH_MATERIAL');
  const options: grpc.ClientOptions = { ...CLIENT_OPTIONS, ...(await clientOptions(config as ConfigName, material, PRINCIPAL)) };
  // Set by `connect` (the parent starts clients and servers at once, so the port comes later).
  let target = '';
  let client: LedgerServiceClient | undefined;
  // A plain client for pre-built (raw) requests: identity serializers, no interceptor.
  let raw: grpc.Client | undefined;
  const connected = (): LedgerServiceClient => {
    if (!client) throw new Error('not connected');
    return client;
  };

  serve(
    { config },
    {
      async connect(a) {
        target = (a as { target: string }).target;
        client = new LedgerService(target, grpc.credentials.createInsecure(), options);
        const c = client;
        await new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));
      },
      async run(a) {
        const args = a as unknown as RunArgs;
        const one = caseCall(connected(), args);
        const before = process.cpuUsage();
        const res = await drive(args.concurrency, args.calls, args.durationMs, one, args.progressEvery, args.minCalls);
        const used = process.cpuUsage(before);
        return { ...res, cpuUs: used.user + used.system } satisfies RunResult;
      },
      async headers(a) {
        const { variant, calls, concurrency, bytes } = a as { variant: HeaderVariant; calls: number; concurrency: number; bytes: number };
        const body = Buffer.from(LedgerService.service.Transfer.requestSerialize({ transaction: transactionOfSize(bytes) }));
        const { metadata: headers, valueBytes } = requestHeaders(material, variant, calls, TRANSFER_PATH, body); // outside the timed run
        connected();
        raw ??= new grpc.Client(target, grpc.credentials.createInsecure());
        const expectOk = variant === 'honest';
        const identity = (b: Buffer) => b;
        let i = 0;
        const res = await drive(concurrency, calls, undefined, (done) => {
          raw!.makeUnaryRequest(TRANSFER_PATH, identity, identity, body, headers[i++]!, (err) => {
            if (expectOk) return done(err ? callError(`${variant} request`, err) : null);
            done(err?.code === grpc.status.UNAUTHENTICATED ? null : new Error(`${variant} request: expected UNAUTHENTICATED, got ${err ? err.code : 'OK'}`));
          });
        });
        return { calls: res.calls, seconds: res.seconds, headerBytes: valueBytes };
      },
      info(a) {
        const { bytes } = a as { bytes: number };
        const body = Buffer.from(LedgerService.service.Transfer.requestSerialize({ transaction: transactionOfSize(bytes) }));
        return { reqauthHeaderBytes: headerBytes(material, TRANSFER_PATH, body) };
      },
      'profile-start': (a) => startProfile((a as { intervalUs: number }).intervalUs),
      'profile-stop': (a) => stopProfile((a as { file: string }).file),
      stop() {
        client?.close();
        raw?.close();
      },
    },
  );
}

main().catch(fatal);
