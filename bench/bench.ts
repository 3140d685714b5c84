// `npm run bench [-- --quick | --profile | --only CASE ...]` (options: bench/options.ts).
//
// What it measures, in one run (issue 10):
// - grpc: the example ledger service over 127.0.0.1 in five configurations (bench/configs.ts:
//   plain grpc-js, a no-op interceptor pair, the floor = that pair + one unique 200 B binary
//   metadata entry, reqauth, a jose HS256 JWT pair), on unary 100 B and 64 KiB at
//   concurrency 1 and 64, a client stream of 100 x 100 B, a server stream of 100 x 100 B and
//   unary 1 MiB. Per configuration: throughput and its ratio to plain and to the floor,
//   CPU µs per call in the client and in the server, p50/p99 latency, the spread over rounds.
// - responses (issue 12 item 6): signed responses against the same calls without — unary
//   GetBalance and a server stream of 100 ListTransactions responses, reqauth (the methods
//   sign, the client requires it) against reqauth-unsigned (bench/configs.ts), with plain.
// - forged: the reqauth server's CPU per request for honest requests (no credential,
//   accepted) and for forged ones until their refusal (random principals; a macaroon with
//   256 third-party caveats).
// - memory: fresh plain and reqauth servers' RSS and heap after N calls, and the replay
//   cache's heap per remembered nonce.
// - micro: signing and verifying 1 MiB against one SHA-256 pass (bench/micro.ts); macaroon
//   verification against npm `macaroon` and jose (bench/macaroon.ts); audit store queries
//   (bench/audit-store.ts).
// Prints tables (stdout; progress on stderr) and writes bench/results.json.
//
// Layout: this process only orchestrates. Each configuration has its own server process and
// its own client process (bench/proc.ts says why), all up for the whole run: an idle grpc-js
// process costs no CPU, so the pairs not being measured do not disturb the one that is, and
// every pair stays warm instead of paying a restart per round.
//
// Fairness on a shared, noisy 2-core machine:
// - Each case warms every configuration up, then fixes the number of calls per run from the
//   warm-up rates (so CPU per call is taken over the same N calls everywhere), then runs
//   rounds; each round runs every configuration once, back to back, in an order that rotates
//   and reverses from round to round, so drift loads all of them alike.
// - Ratios are per round (configuration / plain of the same round), reported as the median
//   and the min-max over rounds. CPU per call is process.cpuUsage over exactly the run's
//   calls, read inside each process. Latencies are pooled over the rounds.
// - Every counted call is checked to have reached its handler (the servers count), and any
//   failed call aborts the bench: a refused call never counts as a fast one.
//
// --profile: instead of measuring, takes fixed-N CPU profiles (node:inspector, in each
// process, around exactly the profiled calls; alternating rounds) of plain (or
// --profile-base) and reqauth for each selected case (default unary-100B-c1), writes them as
// .cpuprofile files, and prints the frames where reqauth spends self time per call that the
// base does not.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditBenchResult, auditStoreBench } from './audit-store';
import type { CaseKind, RunResult } from './client';
import { ConfigName } from './configs';
import { macaroonBenches } from './macaroon';
import { microBenches, MicroResult } from './micro';
import { BenchOptions, parseOptions, SECTIONS, selected } from './options';
import { Child } from './proc';
import { diffProfiles, ProfileDiff } from './profile';
import { coreOps, HeaderVariant, makeMaterial, Material } from './reqauth-setup';
import { BALANCE_REQUEST_BYTES, LISTED_BYTES } from './messages';
import { median, pairedDiff, pairedRatio, percentiles, spread, Spread } from './stats';
import * as report from './report';

// ------------------------------------------------------------------ cases

export interface GrpcCase {
  readonly id: string;
  readonly kind: CaseKind;
  /** Request message bytes (unary, client stream) or response bytes (server stream). */
  readonly bytes: number;
  readonly messages: number;
  readonly concurrency: number;
  readonly describe: string;
}

const KiB = 1024;
const MiB = 1024 * 1024;

export const GRPC_CASES: readonly GrpcCase[] = [
  { id: 'unary-100B-c1', kind: 'unary', bytes: 100, messages: 1, concurrency: 1, describe: 'unary, 100 B request, concurrency 1' },
  { id: 'unary-100B-c64', kind: 'unary', bytes: 100, messages: 1, concurrency: 64, describe: 'unary, 100 B request, concurrency 64' },
  { id: 'unary-64KiB-c1', kind: 'unary', bytes: 64 * KiB, messages: 1, concurrency: 1, describe: 'unary, 64 KiB request, concurrency 1' },
  { id: 'unary-64KiB-c64', kind: 'unary', bytes: 64 * KiB, messages: 1, concurrency: 64, describe: 'unary, 64 KiB request, concurrency 64' },
  { id: 'client-stream-100x100B-c1', kind: 'client-stream', bytes: 100, messages: 100, concurrency: 1, describe: 'client stream of 100 requests of 100 B, concurrency 1 (a call = a stream)' },
  { id: 'server-stream-100x100B-c1', kind: 'server-stream', bytes: LISTED_BYTES, messages: 100, concurrency: 1, describe: 'server stream of 100 responses of 100 B, concurrency 1 (a call = a stream)' },
  { id: 'unary-1MiB-c1', kind: 'unary', bytes: MiB, messages: 1, concurrency: 1, describe: 'unary, 1 MiB request, concurrency 1 (end to end)' },
];

/**
 * The response-signing section's cases (issue 12 item 6): methods whose responses reqauth
 * signs, in the configurations of RESPONSE_CONFIGS below.
 */
export const RESPONSE_CASES: readonly GrpcCase[] = [
  { id: 'signed-unary-c1', kind: 'balance', bytes: BALANCE_REQUEST_BYTES, messages: 1, concurrency: 1, describe: 'unary GetBalance, a signed response, concurrency 1' },
  {
    id: 'signed-server-stream-100x100B-c1',
    kind: 'server-stream',
    bytes: LISTED_BYTES,
    messages: 100,
    concurrency: 1,
    describe: 'server stream of 100 signed responses of 100 B (ListTransactions), concurrency 1',
  },
];

/** Plain for the ratios, then reqauth without and with response signing. */
const RESPONSE_CONFIGS: readonly ConfigName[] = ['plain', 'reqauth-unsigned', 'reqauth'];

// ------------------------------------------------------------------ processes

interface Pair {
  readonly config: ConfigName;
  readonly server: Child;
  readonly client: Child;
}

const SERVER_JS = path.join(__dirname, 'server.js');
const CLIENT_JS = path.join(__dirname, 'client.js');

/** Starts every process at once (start-up is most of a short run), then connects each pair. */
async function startPairs(configs: readonly ConfigName[], material: Material): Promise<Pair[]> {
  const env = { BENCH_MATERIAL: JSON.stringify(material) };
  const starting = configs.flatMap((c) => [
    Child.start(`${c} server`, SERVER_JS, { ...env, BENCH_CONFIG: c }, ['--expose-gc']),
    Child.start(`${c} client`, CLIENT_JS, { ...env, BENCH_CONFIG: c }),
  ]);
  const settled = await Promise.allSettled(starting);
  const children = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  try {
    if (failed) throw failed.reason;
    const pairs = configs.map((config, i) => ({ config, server: children[2 * i]!, client: children[2 * i + 1]! }));
    await Promise.all(pairs.map((p) => p.client.call('connect', { target: `127.0.0.1:${p.server.info['port']}` })));
    return pairs;
  } catch (err) {
    await Promise.all(children.map((c) => c.stop()));
    throw err;
  }
}

async function stopPairs(pairs: readonly Pair[]): Promise<void> {
  await Promise.all(pairs.flatMap((p) => [p.client.stop(), p.server.stop()]));
}

interface Served {
  transfers: number;
  balances: number;
  lists: number;
  imports: number;
  importedMessages: number;
  unauthenticated: number;
}

interface CpuReport {
  readonly cpuUs: number;
  readonly served: Served;
}

/** Throws unless the handlers ran exactly once per counted call (and saw a principal where one is due). */
function checkServed(what: string, kind: CaseKind | 'refused', before: Served, after: Served, calls: number, messages: number): void {
  const d = (k: keyof Served) => after[k] - before[k];
  const expect: Partial<Served> =
    kind === 'unary' ? { transfers: calls } : kind === 'balance' ? { balances: calls } : kind === 'server-stream' ? { lists: calls } : kind === 'client-stream' ? { imports: calls, importedMessages: calls * messages } : { transfers: 0 };
  for (const [k, v] of Object.entries({ unauthenticated: 0, ...expect })) {
    if (d(k as keyof Served) !== v) throw new Error(`${what}: expected ${k} +${v}, the server counted +${d(k as keyof Served)}`);
  }
}

// ------------------------------------------------------------------ the grpc cases

interface Measured {
  readonly callsPerSec: number;
  readonly clientCpuUsPerCall: number;
  readonly serverCpuUsPerCall: number;
  readonly latencies: Float64Array;
}

async function measure(pair: Pair, c: GrpcCase, calls: number, progressEvery = 0, onProgress?: (line: string) => void): Promise<Measured> {
  const before = await pair.server.call<CpuReport>('cpu');
  const res = await pair.client.call<RunResult>('run', { kind: c.kind, bytes: c.bytes, messages: c.messages, concurrency: c.concurrency, calls, progressEvery }, onProgress);
  const after = await pair.server.call<CpuReport>('cpu');
  checkServed(`${c.id} ${pair.config}`, c.kind, before.served, after.served, res.calls, c.messages);
  return { callsPerSec: res.calls / res.seconds, clientCpuUsPerCall: res.cpuUs / res.calls, serverCpuUsPerCall: (after.cpuUs - before.cpuUs) / res.calls, latencies: res.latencies };
}

/**
 * Runs a case for `o.warmupMs` and at least a number of calls (fewer for heavier calls), so
 * the JIT has settled before anything is measured; returns the rate of the run's second half
 * (for calibration).
 */
async function warmUp(o: BenchOptions, pair: Pair, c: GrpcCase): Promise<number> {
  const weight = c.messages > 1 ? 10 : c.bytes >= MiB ? 20 : c.bytes >= 64 * KiB ? 4 : 1;
  const half = { kind: c.kind, bytes: c.bytes, messages: c.messages, concurrency: c.concurrency, durationMs: o.warmupMs / 2, minCalls: Math.ceil(o.warmupCalls / weight / 2) };
  await pair.client.call<RunResult>('run', half);
  const res = await pair.client.call<RunResult>('run', half);
  return res.calls / res.seconds;
}

/** Round r's order: rotated by r, reversed on odd rounds. */
function roundOrder<T>(items: readonly T[], r: number): T[] {
  const rotated = items.map((_, i) => items[(i + r) % items.length]!);
  return r % 2 ? rotated.reverse() : rotated;
}

export interface ConfigRounds {
  readonly callsPerSec: number[];
  readonly clientCpuUsPerCall: number[];
  readonly serverCpuUsPerCall: number[];
  readonly latencies: Float64Array[];
}

export interface GrpcCaseResult {
  readonly case: GrpcCase;
  readonly callsPerRun: number;
  readonly sides: Partial<Record<ConfigName, ConfigRounds>>;
}

function callsPerRun(o: BenchOptions, c: GrpcCase, rates: number[]): number {
  if (o.fixedCalls !== undefined) return c.bytes >= MiB || c.messages > 1 ? Math.max(1, Math.ceil(o.fixedCalls / 3)) : o.fixedCalls;
  const n = Math.round((median(rates) * o.runMs) / 1000);
  return Math.min(o.maxCalls, Math.max(o.minCalls, n));
}

async function grpcCase(o: BenchOptions, pairs: readonly Pair[], c: GrpcCase, log: (line: string) => void): Promise<GrpcCaseResult> {
  const rates: number[] = [];
  if (o.warmupMs > 0) {
    log(`warm-up, ${o.warmupMs} ms and at least ${o.warmupCalls.toLocaleString('en-US')} calls (heavy calls: fewer) per configuration`);
    for (const p of pairs) rates.push(await warmUp(o, p, c));
  }
  const n = callsPerRun(o, c, rates);
  const sides: Partial<Record<ConfigName, ConfigRounds>> = {};
  for (const p of pairs) sides[p.config] = { callsPerSec: [], clientCpuUsPerCall: [], serverCpuUsPerCall: [], latencies: [] };
  for (let r = 0; r < o.rounds; r++) {
    log(`round ${r + 1}/${o.rounds}, ${n.toLocaleString('en-US')} calls per configuration`);
    for (const p of roundOrder(pairs, r)) {
      const m = await measure(p, c, n);
      const s = sides[p.config]!;
      s.callsPerSec.push(m.callsPerSec);
      s.clientCpuUsPerCall.push(m.clientCpuUsPerCall);
      s.serverCpuUsPerCall.push(m.serverCpuUsPerCall);
      s.latencies.push(m.latencies);
    }
  }
  return { case: c, callsPerRun: n, sides };
}

/** Signed responses against the same calls without (reqauth / reqauth-unsigned, per round). */
export interface SigningCost {
  readonly throughput: Spread;
  /** reqauth-unsigned's client + server CPU per call / reqauth's. */
  readonly byCpu: Spread;
  /** CPU µs per call that signing adds, per side. */
  readonly cpuAdded: { readonly client: Spread; readonly server: Spread };
}

export function signingCost(res: GrpcCaseResult): SigningCost | undefined {
  const signed = res.sides.reqauth;
  const unsigned = res.sides['reqauth-unsigned'];
  if (!signed || !unsigned) return undefined;
  return { throughput: pairedRatio(signed.callsPerSec, unsigned.callsPerSec), byCpu: pairedRatio(totalCpu(unsigned), totalCpu(signed)), cpuAdded: above(signed, unsigned) };
}

export interface ConfigSummary {
  readonly callsPerSec: Spread;
  readonly vsPlain: Spread;
  readonly vsFloor: Spread | undefined;
  readonly vsJwt: Spread | undefined;
  /**
   * Plain's client + server CPU per call / this configuration's, per round: the throughput
   * ratio a CPU-bound machine would see, and much steadier than wall-clock throughput when
   * other work shares the machine.
   */
  readonly cpuVsPlain: Spread;
  readonly cpuUsPerCall: { readonly client: Spread; readonly server: Spread };
  /** CPU µs per call above plain's and above the floor's, per round. */
  readonly cpuAbovePlain: { readonly client: Spread; readonly server: Spread };
  readonly cpuAboveFloor: { readonly client: Spread; readonly server: Spread } | undefined;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly samples: number };
}

const totalCpu = (s: ConfigRounds) => s.clientCpuUsPerCall.map((c, i) => c + s.serverCpuUsPerCall[i]!);

const above = (s: ConfigRounds, base: ConfigRounds) => ({
  client: pairedDiff(s.clientCpuUsPerCall, base.clientCpuUsPerCall),
  server: pairedDiff(s.serverCpuUsPerCall, base.serverCpuUsPerCall),
});

export function summarize(res: GrpcCaseResult): Partial<Record<ConfigName, ConfigSummary>> {
  const out: Partial<Record<ConfigName, ConfigSummary>> = {};
  const plain = res.sides.plain!;
  for (const [config, s] of Object.entries(res.sides) as [ConfigName, ConfigRounds][]) {
    out[config] = {
      callsPerSec: spread(s.callsPerSec),
      vsPlain: pairedRatio(s.callsPerSec, plain.callsPerSec),
      vsFloor: res.sides.floor ? pairedRatio(s.callsPerSec, res.sides.floor.callsPerSec) : undefined,
      vsJwt: res.sides.jwt ? pairedRatio(s.callsPerSec, res.sides.jwt.callsPerSec) : undefined,
      cpuVsPlain: pairedRatio(totalCpu(plain), totalCpu(s)),
      cpuUsPerCall: { client: spread(s.clientCpuUsPerCall), server: spread(s.serverCpuUsPerCall) },
      cpuAbovePlain: above(s, plain),
      cpuAboveFloor: res.sides.floor ? above(s, res.sides.floor) : undefined,
      latencyMs: percentiles(s.latencies),
    };
  }
  return out;
}

// ------------------------------------------------------------------ forged requests

const VARIANTS: readonly HeaderVariant[] = ['honest', 'forged-principal', 'forged-macaroon-256'];

export interface ForgedResult {
  readonly calls: number;
  readonly rounds: number;
  readonly concurrency: number;
  /** Server CPU µs per request, by variant. */
  readonly serverUsPerCall: Record<HeaderVariant, Spread>;
  readonly headerBytes: Record<HeaderVariant, number>;
  /** Per round: forged / honest server CPU per request. */
  readonly vsHonest: Record<Exclude<HeaderVariant, 'honest'>, Spread>;
}

async function forgedPhase(o: BenchOptions, pair: Pair, log: (line: string) => void): Promise<ForgedResult> {
  const { calls, concurrency, rounds } = o.forged;
  const perVariant = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<HeaderVariant, number[]>;
  const headerBytes = {} as Record<HeaderVariant, number>;
  const run = async (variant: HeaderVariant, n: number) => {
    const before = await pair.server.call<CpuReport>('cpu');
    const res = await pair.client.call<{ calls: number; headerBytes: number }>('headers', { variant, calls: n, concurrency, bytes: 100 });
    const after = await pair.server.call<CpuReport>('cpu');
    if (variant === 'honest') checkServed(`forged phase, ${variant}`, 'unary', before.served, after.served, res.calls, 1);
    else checkServed(`forged phase, ${variant}`, 'refused', before.served, after.served, res.calls, 1);
    headerBytes[variant] = res.headerBytes;
    return (after.cpuUs - before.cpuUs) / res.calls;
  };
  if (o.warmupMs > 0) {
    log('warm-up');
    for (const v of VARIANTS) await run(v, Math.max(1, Math.round(calls / 2)));
  }
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}, ${calls.toLocaleString('en-US')} requests per variant`);
    for (const v of roundOrder(VARIANTS, r)) perVariant[v].push(await run(v, calls));
  }
  return {
    calls,
    rounds,
    concurrency,
    serverUsPerCall: Object.fromEntries(VARIANTS.map((v) => [v, spread(perVariant[v])])) as Record<HeaderVariant, Spread>,
    headerBytes,
    vsHonest: {
      'forged-principal': pairedRatio(perVariant['forged-principal'], perVariant.honest),
      'forged-macaroon-256': pairedRatio(perVariant['forged-macaroon-256'], perVariant.honest),
    },
  };
}

// ------------------------------------------------------------------ memory

interface MemReport {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly replayEntries?: number;
}

export interface MemorySide {
  /** After two full collections, before any call. */
  readonly before: MemReport;
  /** Right after the calls, as an operator would see it. */
  readonly after: MemReport;
  /** The same, after two full collections. */
  readonly afterGc: MemReport;
  readonly callsPerSec: number;
}

export interface MemoryResult {
  readonly calls: number;
  readonly concurrency: number;
  readonly plain: MemorySide;
  readonly reqauth: MemorySide;
  readonly replayEntries: number;
  /** reqauth's heap growth (after GC) per remembered nonce. */
  /**
   * reqauth's live memory growth (after GC) per remembered nonce: the heap and array buffers
   * (the memory store keeps its nonces in typed arrays, outside the heap).
   */
  readonly heapBytesPerEntry: number;
  /** The same, less plain's heap growth over the same calls. */
  readonly netHeapBytesPerEntry: number;
}

/**
 * Fresh plain and reqauth pairs, or (--tiny, which only checks that the harness works) the
 * running ones.
 */
async function memoryPhase(o: BenchOptions, material: Material, running: readonly Pair[] | undefined, log: (line: string) => void): Promise<MemoryResult> {
  const c: GrpcCase = { id: 'memory', kind: 'unary', bytes: 100, messages: 1, concurrency: o.memory.concurrency, describe: '' };
  const sides: Partial<Record<'plain' | 'reqauth', MemorySide>> = {};
  if (!running) log('starting fresh plain and reqauth pairs');
  const pairs = running ?? (await startPairs(['plain', 'reqauth'], material));
  try {
    // One after the other; the idle pair costs nothing meanwhile.
    for (const pair of pairs) {
      const config = pair.config;
      log(`${config}: ${o.memory.calls.toLocaleString('en-US')} unary calls of 100 B at concurrency ${c.concurrency}`);
      const before = await pair.server.call<MemReport>('mem', { gc: true });
      const every = Math.max(1, Math.round(o.memory.calls / 5));
      const m = await measure(pair, c, o.memory.calls, every, (line) => log(`${config}: ${line}`));
      const after = await pair.server.call<MemReport>('mem', { gc: false });
      const afterGc = await pair.server.call<MemReport>('mem', { gc: true });
      sides[config as 'plain' | 'reqauth'] = { before, after, afterGc, callsPerSec: m.callsPerSec };
    }
  } finally {
    if (!running) await stopPairs(pairs);
  }
  const plain = sides.plain!;
  const reqauth = sides.reqauth!;
  const entries = (reqauth.afterGc.replayEntries ?? 0) - (reqauth.before.replayEntries ?? 0);
  const live = (m: MemReport) => m.heapUsed + m.arrayBuffers;
  const growth = (s: MemorySide) => live(s.afterGc) - live(s.before);
  return {
    calls: o.memory.calls,
    concurrency: o.memory.concurrency,
    plain,
    reqauth,
    replayEntries: entries,
    heapBytesPerEntry: entries ? growth(reqauth) / entries : NaN,
    netHeapBytesPerEntry: entries ? (growth(reqauth) - growth(plain)) / entries : NaN,
  };
}

// ------------------------------------------------------------------ profiles

export interface ProfileResult {
  readonly case: string;
  /** Per configuration, over all rounds. */
  readonly calls: number;
  readonly rounds: number;
  readonly base: ConfigName;
  readonly files: Record<string, string[]>;
  readonly cpuUsPerCall: Record<string, { client: number; server: number }>;
  readonly client: ProfileDiff;
  readonly server: ProfileDiff;
}

/**
 * Profiles the two configurations in alternating rounds (base, reqauth, base, ...), each
 * round a fixed share of the calls, so drift of a shared machine loads both alike; the diff
 * sums every round's profile.
 */
async function profileCase(o: BenchOptions, pairs: readonly Pair[], c: GrpcCase, log: (line: string) => void): Promise<ProfileResult> {
  const files: Record<string, string[]> = {};
  const cpu: Record<string, { client: number[]; server: number[] }> = {};
  const rounds = o.profile.rounds;
  const perRound = Math.max(1, Math.round(o.profile.calls / rounds));
  if (o.warmupMs > 0) {
    for (const p of pairs) {
      log(`${p.config}: warm-up`);
      await warmUp(o, p, c);
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of roundOrder(pairs, r)) {
      log(`round ${r + 1}/${rounds}, ${p.config}: profiling ${perRound.toLocaleString('en-US')} calls`);
      const file = (side: string) => path.join(o.profile.dir, `${c.id}.${p.config}.${side}.r${r + 1}.cpuprofile`);
      await Promise.all([p.client.call('profile-start', { intervalUs: o.profile.intervalUs }), p.server.call('profile-start', { intervalUs: o.profile.intervalUs })]);
      const m = await measure(p, c, perRound);
      await Promise.all([p.client.call('profile-stop', { file: file('client') }), p.server.call('profile-stop', { file: file('server') })]);
      for (const side of ['client', 'server'] as const) (files[`${p.config}.${side}`] ??= []).push(file(side));
      const into = (cpu[p.config] ??= { client: [], server: [] });
      into.client.push(m.clientCpuUsPerCall);
      into.server.push(m.serverCpuUsPerCall);
    }
  }
  const base = o.profile.base;
  const calls = perRound * rounds;
  const diff = (side: string) => diffProfiles(files[`${base}.${side}`]!, calls, files[`reqauth.${side}`]!, calls, 15);
  const cpuUsPerCall = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, { client: median(v.client), server: median(v.server) }]));
  return { case: c.id, calls, rounds, base, files, cpuUsPerCall, client: diff('client'), server: diff('server') };
}

// ------------------------------------------------------------------ main

function sha256UsPerMiB(): number {
  const data = crypto.randomBytes(MiB);
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 4; i++) crypto.createHash('sha256').update(data).digest();
    runs.push(((performance.now() - t0) * 1000) / 4);
  }
  return median(runs.slice(2)); // the first runs warm up
}

function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    grpcJs: packageVersion('@grpc/grpc-js'),
    jose: packageVersion('jose'),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    loadavg: os.loadavg(),
  };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    try {
      // Packages whose "exports" hide package.json: find it next to the entry point.
      let dir = path.dirname(require.resolve(name));
      while (dir !== path.dirname(dir) && !fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
      return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const say = (line: string) => process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}\n`);
  const material = makeMaterial();
  for (const term of [...(o.only ?? []), ...o.skip]) {
    if (!(SECTIONS as readonly string[]).includes(term) && ![...GRPC_CASES, ...RESPONSE_CASES].some((c) => c.id.includes(term))) {
      throw new Error(
        `--only/--skip ${term}: no case or section of that name (cases: ${[...GRPC_CASES, ...RESPONSE_CASES].map((c) => c.id).join(', ')}; sections: ${SECTIONS.join(', ')})`,
      );
    }
  }
  const cases = GRPC_CASES.filter((c) => selected(o, 'grpc', c.id));
  const results: Record<string, unknown> = {};
  const loadBefore = os.loadavg();
  say(`reqauth bench (${o.mode}${o.profile.on ? ', profile' : ''}): ${os.cpus().length} CPUs, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  if (o.profile.on) {
    const profileCases = o.only ? cases : GRPC_CASES.filter((c) => c.id === 'unary-100B-c1');
    const configs: ConfigName[] = [o.profile.base, 'reqauth'];
    say(`starting ${configs.length} server/client pairs (${configs.join(', ')})`);
    const pairs = await startPairs(configs, material);
    const profiles: ProfileResult[] = [];
    try {
      for (const [i, c] of profileCases.entries()) {
        profiles.push(await profileCase(o, pairs, c, (line) => say(`[profile ${i + 1}/${profileCases.length}] ${c.id}: ${line}`)));
      }
    } finally {
      await stopPairs(pairs);
    }
    console.log(report.profiles(profiles, o));
    results['profiles'] = profiles;
  } else {
    const grpc: GrpcCaseResult[] = [];
    const responses: GrpcCaseResult[] = [];
    let forged: ForgedResult | undefined;
    let memory: MemoryResult | undefined;
    let profiles: ProfileResult[] | undefined;
    const hasReqauth = o.configs.includes('reqauth');
    const responseCases = hasReqauth ? RESPONSE_CASES.filter((c) => selected(o, 'responses', c.id)) : [];
    const wantForged = selected(o, 'forged') && hasReqauth;
    const wantMemory = selected(o, 'memory') && hasReqauth;
    // --tiny exercises everything on one set of processes (start-up dominates its time).
    const tiny = o.mode === 'tiny';
    if (cases.length > 0 || responseCases.length > 0 || wantForged || (tiny && wantMemory)) {
      const grid: readonly ConfigName[] = cases.length > 0 ? o.configs : ['plain', 'reqauth'];
      const configs = [...new Set([...grid, ...(responseCases.length > 0 ? RESPONSE_CONFIGS : [])])];
      say(`starting ${configs.length} server/client pairs (${configs.join(', ')})`);
      const pairs = await startPairs(configs, material);
      const pair = (c: ConfigName) => pairs.find((p) => p.config === c)!;
      try {
        for (const [i, c] of cases.entries()) {
          grpc.push(await grpcCase(o, o.configs.map(pair), c, (line) => say(`[${i + 1}/${cases.length}] ${c.id}: ${line}`)));
        }
        for (const [i, c] of responseCases.entries()) {
          responses.push(await grpcCase(o, RESPONSE_CONFIGS.map(pair), c, (line) => say(`[responses ${i + 1}/${responseCases.length}] ${c.id}: ${line}`)));
        }
        if (wantForged) forged = await forgedPhase(o, pair('reqauth'), (line) => say(`[forged] ${line}`));
        if (tiny && wantMemory) memory = await memoryPhase(o, material, [pair('plain'), pair('reqauth')], (line) => say(`[memory] ${line}`));
        if (tiny && hasReqauth && o.configs.includes(o.profile.base)) {
          profiles = [await profileCase(o, [pair(o.profile.base), pair('reqauth')], GRPC_CASES[0]!, (line) => say(`[profile] ${line}`))];
        }
      } finally {
        await stopPairs(pairs);
      }
    }
    if (!tiny && wantMemory) memory = await memoryPhase(o, material, undefined, (line) => say(`[memory] ${line}`));

    let micro: MicroResult[] | undefined;
    if (selected(o, 'micro')) {
      say('[micro] sign/verify 1 MiB vs one SHA-256 pass');
      micro = microBenches(coreOps(material), o.micro);
    }
    const sha256 = grpc.some((g) => g.case.bytes >= 64 * KiB) ? sha256UsPerMiB() : undefined;

    let macaroon: Awaited<ReturnType<typeof macaroonBenches>> | undefined;
    if (selected(o, 'macaroon')) {
      say('[macaroon] verify vs npm macaroon vs jose');
      macaroon = await macaroonBenches(o.macaroon);
    }
    let audit: AuditBenchResult | undefined;
    if (selected(o, 'audit')) {
      say(`[audit] ${o.audit.rows.toLocaleString('en-US')} rows, queries vs full scan`);
      audit = auditStoreBench(o.audit, (line) => say(`[audit] ${line}`));
    }

    const summaries = grpc.map((g) => ({ result: g, summary: summarize(g) }));
    const signing = responses.map((g) => ({ result: g, summary: summarize(g), cost: signingCost(g) }));
    console.log(report.header(o, machine(), loadBefore));
    for (const s of summaries) console.log(report.grpcCase(s.result, s.summary, sha256));
    if (signing.length) console.log(report.responses(signing));
    const targets = report.targets(summaries, forged, memory, sha256, o, signing);
    if (targets.rows.length) console.log(targets.text);
    if (forged) console.log(report.forged(forged));
    if (memory) console.log(report.memory(memory));
    if (micro) console.log(report.micro(micro));
    if (macaroon) console.log(report.macaroon(macaroon.results, o.macaroon));
    if (audit) console.log(report.audit(audit));
    if (profiles) console.log(report.profiles(profiles, o));

    results['grpc'] = summaries.map((s) => ({
      ...s.result.case,
      callsPerRun: s.result.callsPerRun,
      rounds: o.rounds,
      configs: s.summary,
      ...(sha256 && s.result.case.bytes >= 64 * KiB ? { extraSha256Passes: report.extraPasses(s.summary, s.result.case.bytes, sha256) } : {}),
    }));
    results['responses'] = signing.map((s) => ({
      ...s.result.case,
      callsPerRun: s.result.callsPerRun,
      rounds: o.rounds,
      configs: s.summary,
      signedVsUnsigned: s.cost,
    }));
    results['targets'] = targets.rows;
    results['forged'] = forged;
    results['memory'] = memory;
    results['sha256UsPerMiB'] = sha256;
    results['micro'] = micro;
    results['macaroon'] = macaroon && { results: macaroon.results, setup: macaroon.describe, config: o.macaroon };
    results['audit'] = audit;
    results['profiles'] = profiles;
  }

  const seconds = (performance.now() - started) / 1000;
  console.log(`\n(${seconds.toFixed(1)} s; the machine's load average went from ${loadBefore.map((l) => l.toFixed(2)).join(' ')} to ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  const config = {
    mode: o.mode,
    warmupMs: o.warmupMs,
    runMs: o.runMs,
    rounds: o.rounds,
    configs: o.configs,
    only: o.only,
    skip: o.skip,
    forged: o.forged,
    memory: o.memory,
    layout: 'this process orchestrates; each configuration has its own server process and its own client process, all up for the whole run',
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify({ machine: machine(), config, date: new Date().toISOString(), seconds, ...results }, replacer, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), o.out) || o.out}`);
}

/** Latency samples stay out of the JSON (their percentiles are in it). */
function replacer(_key: string, value: unknown): unknown {
  return value instanceof Float64Array ? undefined : value;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
