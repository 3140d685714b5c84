// `npm run bench [-- --quick]`: plain grpc-js vs grpc-js with reqauth, on the example
// ledger service over 127.0.0.1, plus reqauth's signing and verifying work on 1 MiB against
// one SHA-256 pass, plus macaroon verification against the npm `macaroon` package and jose
// HS256 JWTs (bench/macaroon.ts; `--no-macaroon` skips it), plus the audit store's queries
// at 1M rows (200k with --quick) against full scans (bench/audit-store.ts; `--no-audit`
// skips it). Prints a table and writes bench/results.json.
//
// Layout: this process is the client; the servers are child processes (bench/server.ts), so
// on a 2-core machine client and server each get a core.
//
// Fairness on a shared, noisy machine:
// - Both servers (plain and reqauth) run at once for the whole bench, and the client
//   alternates between them. An idle grpc-js server costs no CPU, so the one not being
//   measured does not disturb the other; and running both at once means both stay warm
//   (JIT, connection, buffers) instead of paying a restart and re-warm-up per round, which
//   would also add a restart-dependent bias to one side.
// - Each case warms both sides up, then runs several rounds; each round measures both sides
//   back to back, alternating which goes first (ABBA...), so a slow drift of the machine
//   loads both sides alike. Throughput is the median over rounds per side; the ratio is
//   reqauth median / plain median. Latencies are pooled over the measured rounds per side.
// - Every loop is bounded both in time and in call count, and all traffic goes to 127.0.0.1.
import { fork, ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { LedgerService, LedgerServiceClient, REPO_ROOT } from '../examples/ledger/definition';
import { reqauthClientOptions } from '../interceptors';
import {
  generateRootKeyring,
  issueCredential,
  keyringToJson,
  RequestSigner,
  RequestVerifier,
  serviceKeyringFor,
  SignedHeader,
  staticKeySource,
} from '../src';
import { AUDIENCE } from './server';
import { macaroonBenches } from './macaroon';
import { AUDIT_BENCH_CFG, auditStoreBench, AuditBenchResult } from './audit-store';

// ------------------------------------------------------------------ configuration

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
/** `--only c=1` etc.: run only the unary cases whose name contains this (for profiling). */
const ONLY = valueOf('--only');
const SKIP_MICRO = argv.includes('--no-micro');
const SKIP_UNARY = argv.includes('--no-unary');
const SKIP_MACAROON = argv.includes('--no-macaroon');
const SKIP_AUDIT = argv.includes('--no-audit');

function valueOf(flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

const CFG = QUICK
  ? { warmupMs: 300, runMs: 400, rounds: 3, microRounds: 5, microIters: 8 }
  : { warmupMs: 1500, runMs: 1500, rounds: 7, microRounds: 15, microIters: 24 };
/** Macaroon verification vs the npm macaroon package and jose (bench/macaroon.ts). */
const MACAROON_CFG = QUICK ? { warmupMs: 300, runMs: 200, rounds: 5 } : { warmupMs: 1000, runMs: 400, rounds: 15 };
const runMsOverride = valueOf('--run-ms');
if (runMsOverride) CFG.runMs = Number(runMsOverride);
const roundsOverride = valueOf('--rounds');
if (roundsOverride) CFG.rounds = Number(roundsOverride);

/** Calls per measured run, whatever the time: bounds memory (latency samples) and work. */
const MAX_CALLS_PER_RUN = 400_000;
const TARGET_RATIO = 0.9;
/** A filtered audit query must answer in well under a second: this is the bar. */
const AUDIT_TARGET_MS = 100;
const PRINCIPAL = 'bench-client';
const ROLES = ['teller']; // Transfer's (reqauth.v1.access) rule allows role "teller"
const TRANSFER_PATH = '/ledger.v1.LedgerService/Transfer';
const CLIENT_OPTIONS: grpc.ClientOptions = { 'grpc.max_receive_message_length': 8 * 1024 * 1024 };

// ------------------------------------------------------------------ servers

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
}

/** Extra node flags for the server children, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof". */
const SERVER_NODE_ARGS = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);

function startServer(mode: 'plain' | 'reqauth', keyringJson: string): Promise<Child> {
  const proc = fork(path.join(__dirname, 'server.js'), [mode], {
    execArgv: SERVER_NODE_ARGS,
    env: { ...process.env, BENCH_KEYRING: keyringJson },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode} server did not report a port`)), 20_000);
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${mode} server exited early (${code})`)));
    proc.once('message', (m: { port?: number }) => {
      clearTimeout(timer);
      if (typeof m?.port === 'number') resolve({ proc, port: m.port });
      else reject(new Error(`${mode} server sent ${JSON.stringify(m)}`));
    });
  });
}

/** The child's user+system CPU time so far (µs) and Transfers served (asked over IPC, outside timed windows). */
function serverCpu(child: Child): Promise<{ cpuUs: number; transfers: number }> {
  return new Promise((resolve) => {
    const on = (m: { cpu?: NodeJS.CpuUsage; transfers?: number }) => {
      if (!m?.cpu) return;
      child.proc.off('message', on);
      resolve({ cpuUs: m.cpu.user + m.cpu.system, transfers: m.transfers ?? 0 });
    };
    child.proc.on('message', on);
    child.proc.send('cpu');
  });
}

function stopServer(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.proc.exitCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.proc.kill('SIGKILL');
      resolve();
    }, 10_000);
    child.proc.removeAllListeners('exit');
    child.proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.proc.send('stop');
  });
}

// ------------------------------------------------------------------ requests

type TransferRequest = { transaction: { id: string; fromAccount: string; toAccount: string; amount: string; memo: string; attachment: Buffer } };

/** A Transfer request whose serialized size is exactly `size` bytes (adjusting the attachment). */
function transferOfSize(size: number): { request: TransferRequest; bytes: number } {
  const serialize = LedgerService.service.Transfer.requestSerialize as (r: TransferRequest) => Buffer;
  const make = (n: number): TransferRequest => ({
    transaction: { id: 'bench-0001', fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: '100', memo: 'bench', attachment: crypto.randomBytes(Math.max(0, n)) },
  });
  let n = size;
  for (let i = 0; i < 8; i++) {
    const got = serialize(make(n)).length;
    if (got === size) break;
    n -= got - size;
  }
  const request = make(n);
  return { request, bytes: serialize(request).length };
}

// ------------------------------------------------------------------ unary runs

interface RunResult {
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSec: number;
  readonly latenciesMs: Float64Array;
}

/**
 * `concurrency` callers, each issuing its next Transfer when the previous one answers, until
 * `durationMs` has passed or MAX_CALLS_PER_RUN calls were started. Any failed call aborts the
 * bench: a refused call must not be counted as a fast one.
 */
function runUnary(client: LedgerServiceClient, request: TransferRequest, concurrency: number, durationMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const latencies = new Float64Array(MAX_CALLS_PER_RUN);
    let started = 0;
    let completed = 0;
    let active = concurrency;
    let failed = false;
    const t0 = performance.now();
    const deadline = t0 + durationMs;
    const issue = (): void => {
      if (failed || started >= MAX_CALLS_PER_RUN || performance.now() >= deadline) {
        if (--active === 0) {
          const seconds = (performance.now() - t0) / 1000;
          resolve({ calls: completed, seconds, callsPerSec: completed / seconds, latenciesMs: latencies.subarray(0, completed) });
        }
        return;
      }
      started++;
      const begin = performance.now();
      client.transfer(request, (err) => {
        if (err) {
          if (!failed) reject(new Error(`Transfer failed: ${err.code} ${err.details}`));
          failed = true;
          return;
        }
        latencies[completed++] = performance.now() - begin;
        issue();
      });
    };
    for (let i = 0; i < concurrency; i++) issue();
  });
}

interface Side {
  readonly throughput: number[];
  readonly latencies: Float64Array[];
  /** CPU µs per call, per round, in the client (this process) and in the server child. */
  readonly clientCpuUsPerCall: number[];
  readonly serverCpuUsPerCall: number[];
}

type Clients = { plain: LedgerServiceClient; reqauth: LedgerServiceClient };
type Servers = { plain: Child; reqauth: Child };

interface UnaryCaseResult {
  readonly name: string;
  readonly requestBytes: number;
  readonly plain: Side;
  readonly reqauth: Side;
}

async function unaryCase(
  name: string,
  clients: Clients,
  servers: Servers,
  request: TransferRequest,
  requestBytes: number,
  concurrency: number,
): Promise<UnaryCaseResult> {
  // Warm-up, both sides, not recorded.
  await runUnary(clients.plain, request, concurrency, CFG.warmupMs);
  await runUnary(clients.reqauth, request, concurrency, CFG.warmupMs);
  const plain: Side = { throughput: [], latencies: [], clientCpuUsPerCall: [], serverCpuUsPerCall: [] };
  const reqauth: Side = { throughput: [], latencies: [], clientCpuUsPerCall: [], serverCpuUsPerCall: [] };
  for (let r = 0; r < CFG.rounds; r++) {
    const order: ('plain' | 'reqauth')[] = r % 2 === 0 ? ['plain', 'reqauth'] : ['reqauth', 'plain'];
    for (const side of order) {
      const serverBefore = await serverCpu(servers[side]);
      const clientBefore = process.cpuUsage();
      const res = await runUnary(clients[side], request, concurrency, CFG.runMs);
      const clientUsed = process.cpuUsage(clientBefore);
      const serverAfter = await serverCpu(servers[side]);
      const serverUsed = serverAfter.cpuUs - serverBefore.cpuUs;
      // Every call counted must have reached the handler (no refusal counted as a success).
      if (serverAfter.transfers - serverBefore.transfers !== res.calls) {
        throw new Error(`${side}: ${res.calls} calls answered but the handler ran ${serverAfter.transfers - serverBefore.transfers} times`);
      }
      const into = side === 'plain' ? plain : reqauth;
      into.clientCpuUsPerCall.push((clientUsed.user + clientUsed.system) / res.calls);
      into.serverCpuUsPerCall.push(serverUsed / res.calls);
      into.throughput.push(res.callsPerSec);
      into.latencies.push(Float64Array.from(res.latenciesMs));
    }
  }
  return { name, requestBytes, plain, reqauth };
}

// ------------------------------------------------------------------ 1 MiB microbenchmarks

const hashOnce: (data: Uint8Array) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash: (a: string, d: Uint8Array, e: 'buffer') => Buffer }).hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

interface MicroResult {
  readonly name: string;
  /** Median ms per operation over the rounds. */
  readonly sha256Ms: number;
  readonly reqauthMs: number;
  readonly sha256Rounds: number[];
  readonly reqauthRounds: number[];
}

function timeIt(iters: number, fn: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) fn(i);
  return (performance.now() - t0) / iters;
}

/**
 * sign: RequestSigner.sign(method, body) — the body's SHA-256 plus the envelope and its MAC.
 * verify: RequestVerifier.verifyHeader + VerifiedHeader.checkBody over the same body. The
 * headers are signed ahead of time, outside the timed loop, each with its own fresh nonce,
 * and the verifier keeps its default MemoryReplayCache: every timed verification is a real
 * first sighting (replay check included), never a replay.
 * Both against one SHA-256 pass over the same bytes (node:crypto), interleaved per round.
 */
function microBenches(signer: RequestSigner, verifier: RequestVerifier): MicroResult[] {
  const body = crypto.randomBytes(1024 * 1024);
  const iters = CFG.microIters;
  let sink = 0;
  // Warm-up.
  for (let i = 0; i < iters; i++) {
    sink += hashOnce(body)[0]!;
    sink += signer.sign(TRANSFER_PATH, body).mac[0]!;
  }
  const sign: MicroResult = { name: 'sign 1MiB vs sha256', sha256Ms: 0, reqauthMs: 0, sha256Rounds: [], reqauthRounds: [] };
  const verify: MicroResult = { name: 'verify 1MiB vs sha256', sha256Ms: 0, reqauthMs: 0, sha256Rounds: [], reqauthRounds: [] };
  const verifyAll = (headers: SignedHeader[]) => (i: number) => {
    const h = headers[i]!;
    const verdict = verifier.verifyHeader([h.value], TRANSFER_PATH, true);
    if (verdict instanceof Promise || !verdict.ok) throw new Error(`verify failed: ${JSON.stringify(verdict)}`);
    if (verdict.header.checkBody(body)) throw new Error('checkBody failed');
  };
  verifyAll(Array.from({ length: iters }, () => signer.sign(TRANSFER_PATH, body)))(0); // warm the path
  for (let r = 0; r < CFG.microRounds; r++) {
    const headers = Array.from({ length: iters }, () => signer.sign(TRANSFER_PATH, body)); // untimed
    const hashFirst = r % 2 === 0;
    const hash = () => timeIt(iters, () => (sink += hashOnce(body)[0]!));
    if (hashFirst) sign.sha256Rounds.push(hash());
    sign.reqauthRounds.push(timeIt(iters, () => (sink += signer.sign(TRANSFER_PATH, body).mac[0]!)));
    if (!hashFirst) sign.sha256Rounds.push(hash());
    if (hashFirst) verify.sha256Rounds.push(hash());
    verify.reqauthRounds.push(timeIt(iters, verifyAll(headers)));
    if (!hashFirst) verify.sha256Rounds.push(hash());
  }
  if (sink === -1) console.log(sink); // keep the results alive
  for (const m of [sign, verify]) {
    (m as { sha256Ms: number }).sha256Ms = median(m.sha256Rounds);
    (m as { reqauthMs: number }).reqauthMs = median(m.reqauthRounds);
  }
  return [sign, verify];
}

// ------------------------------------------------------------------ statistics & output

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentiles(chunks: Float64Array[]): { p50: number; p99: number; samples: number } {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  all.sort();
  const pick = (q: number) => (total === 0 ? NaN : all[Math.min(total - 1, Math.floor(q * total))]!);
  return { p50: pick(0.5), p99: pick(0.99), samples: total };
}

const verdict = (ratio: number) => (ratio >= TARGET_RATIO ? 'PASS' : 'MISS');
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, ri) => {
    const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const started = performance.now();
  const ring = generateRootKeyring();
  const credential = issueCredential(ring, AUDIENCE, PRINCIPAL, ROLES);
  const serviceRingJson = keyringToJson(serviceKeyringFor(ring, AUDIENCE));

  const cases: object[] = [];
  const rows: string[][] = [['case', 'plain', 'reqauth', 'ratio', 'target', 'plain p50/p99 ms', 'reqauth p50/p99 ms']];
  const cpuRows: string[][] = [['case (CPU µs per call, median of rounds)', 'client plain', 'client reqauth', 'server plain', 'server reqauth']];
  const unaryResults: UnaryCaseResult[] = [];

  if (!SKIP_UNARY) {
    const [plainServer, reqauthServer] = await Promise.all([startServer('plain', serviceRingJson), startServer('reqauth', serviceRingJson)]);
    const clients = {
      plain: new LedgerService(`127.0.0.1:${plainServer.port}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS),
      reqauth: new LedgerService(`127.0.0.1:${reqauthServer.port}`, grpc.credentials.createInsecure(), {
        ...CLIENT_OPTIONS,
        ...reqauthClientOptions({ credential }),
      }),
    };
    try {
      const sizes = [
        { label: '100B', ...transferOfSize(100) },
        { label: '64KiB', ...transferOfSize(64 * 1024) },
      ];
      for (const concurrency of [1, 64]) {
        for (const size of sizes) {
          const name = `unary c=${concurrency} ${size.label}`;
          if (ONLY && !name.includes(ONLY)) continue;
          process.stderr.write(`  ${name} ...\n`);
          unaryResults.push(await unaryCase(name, clients, { plain: plainServer, reqauth: reqauthServer }, size.request, size.bytes, concurrency));
        }
      }
    } finally {
      clients.plain.close();
      clients.reqauth.close();
      await Promise.all([stopServer(plainServer), stopServer(reqauthServer)]);
    }
  }

  for (const c of unaryResults) {
    const plain = median(c.plain.throughput);
    const reqauth = median(c.reqauth.throughput);
    const ratio = reqauth / plain;
    const lp = percentiles(c.plain.latencies);
    const lr = percentiles(c.reqauth.latencies);
    rows.push([`${c.name} (calls/s)`, fmt(plain), fmt(reqauth), ratio.toFixed(3), `${verdict(ratio)} >=${TARGET_RATIO}`, `${lp.p50.toFixed(3)} / ${lp.p99.toFixed(3)}`, `${lr.p50.toFixed(3)} / ${lr.p99.toFixed(3)}`]);
    const cpu = {
      client: { plain: median(c.plain.clientCpuUsPerCall), reqauth: median(c.reqauth.clientCpuUsPerCall) },
      server: { plain: median(c.plain.serverCpuUsPerCall), reqauth: median(c.reqauth.serverCpuUsPerCall) },
    };
    cpuRows.push([c.name, fmt(cpu.client.plain), fmt(cpu.client.reqauth), fmt(cpu.server.plain), fmt(cpu.server.reqauth)]);
    cases.push({
      name: c.name,
      unit: 'calls/s',
      cpuUsPerCall: cpu,
      requestBytes: c.requestBytes,
      plain,
      reqauth,
      ratio,
      target: TARGET_RATIO,
      pass: ratio >= TARGET_RATIO,
      latencyMs: { plain: { p50: lp.p50, p99: lp.p99, samples: lp.samples }, reqauth: { p50: lr.p50, p99: lr.p99, samples: lr.samples } },
      rounds: { plain: c.plain.throughput, reqauth: c.reqauth.throughput },
    });
  }

  if (!SKIP_MICRO) {
    process.stderr.write('  sign/verify 1MiB ...\n');
    const signer = new RequestSigner(credential);
    const verifier = new RequestVerifier({ keys: staticKeySource(ring, AUDIENCE) });
    for (const m of microBenches(signer, verifier)) {
      const ratio = m.sha256Ms / m.reqauthMs;
      rows.push([`${m.name} (ms/op)`, m.sha256Ms.toFixed(3), m.reqauthMs.toFixed(3), ratio.toFixed(3), `${verdict(ratio)} >=${TARGET_RATIO}`, '', '']);
      cases.push({
        name: m.name,
        unit: 'ms/op (plain = one SHA-256 pass; ratio = sha256 / reqauth)',
        plain: m.sha256Ms,
        reqauth: m.reqauthMs,
        ratio,
        target: TARGET_RATIO,
        pass: ratio >= TARGET_RATIO,
        rounds: { plain: m.sha256Rounds, reqauth: m.reqauthRounds },
        replayCache: 'default MemoryReplayCache; headers pre-signed outside the timed loop, fresh nonce each',
      });
    }
  }

  if (!SKIP_MACAROON) {
    process.stderr.write('  macaroon verify vs npm macaroon vs jose ...\n');
    const { results, describe } = await macaroonBenches(MACAROON_CFG);
    for (const m of results) {
      const pass = m.ratio >= m.target;
      rows.push([`${m.name} (ops/s)`, fmt(m.theirs), fmt(m.ours), m.ratio.toFixed(3), `${pass ? 'PASS' : 'MISS'} >=${m.target}`, '', '']);
      cases.push({
        name: m.name,
        unit: `ops/s (plain = the other implementation, ${m.other}; reqauth = ours; ratio = ours / theirs)`,
        plain: m.theirs,
        reqauth: m.ours,
        ratio: m.ratio,
        target: m.target,
        pass,
        rounds: { plain: m.roundsTheirs, reqauth: m.roundsOurs },
        config: MACAROON_CFG,
        setup: describe,
      });
    }
  }

  let audit: AuditBenchResult | undefined;
  if (!SKIP_AUDIT) {
    const auditCfg = QUICK ? AUDIT_BENCH_CFG.quick : AUDIT_BENCH_CFG.full;
    process.stderr.write(`  audit store: ${auditCfg.rows.toLocaleString('en-US')} rows, queries vs full scan ...\n`);
    audit = auditStoreBench(auditCfg, (line) => process.stderr.write(line + '\n'));
    for (const q of audit.queries) {
      const ratio = q.fullScanMs / q.indexedMs;
      const pass = q.indexedMs < AUDIT_TARGET_MS;
      rows.push([`audit ${q.name} (ms/query)`, q.fullScanMs.toFixed(1), q.indexedMs.toFixed(3), ratio.toFixed(0), `${pass ? 'PASS' : 'MISS'} <${AUDIT_TARGET_MS}ms`, '', '']);
      cases.push({
        name: `audit ${q.name}`,
        unit: `ms/query over ${audit.fill.rows} rows, newest first, limit 100 (plain = the same SQL forced to a full scan, NOT INDEXED; reqauth = AuditStore.query with its indexes; ratio = full scan / indexed; pass = indexed under ${AUDIT_TARGET_MS} ms)`,
        plain: q.fullScanMs,
        reqauth: q.indexedMs,
        ratio,
        targetMs: AUDIT_TARGET_MS,
        pass,
        rows: audit.fill.rows,
        rowsReturned: q.rowsReturned,
        query: q.query,
        plan: q.plan,
        rounds: { plain: q.fullScanRuns, reqauth: q.indexedRuns },
      });
    }
  }

  const cpus = os.cpus();
  const machine = {
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    grpcJs: grpcJsVersion(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    loadavg: os.loadavg(),
  };
  const config = { quick: QUICK, ...CFG, maxCallsPerRun: MAX_CALLS_PER_RUN, layout: 'client in this process, plain and reqauth servers as child processes, both up for the whole run' };
  console.log(`\nreqauth bench (${QUICK ? 'quick' : 'full'}): node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}`);
  console.log(`rounds ${CFG.rounds} x ${CFG.runMs} ms per side per case after ${CFG.warmupMs} ms warm-up; medians; ratio = reqauth / plain (1 MiB rows: sha256 / reqauth)`);
  if (!SKIP_MACAROON) {
    console.log(
      `macaroon rows: plain = the OTHER implementation's ops/s (npm macaroon, or jose HS256 JWT), reqauth = ours, ratio = ours / theirs;\n` +
        `  each op parses the token text and verifies (root with 5 first-party caveats + a third-party caveat, one bound discharge;\n` +
        `  first-party caveats accepted by exact match, so verification is measured, not a policy); ` +
        `${MACAROON_CFG.rounds} rounds x ${MACAROON_CFG.runMs} ms per side, rotating order, medians`,
    );
  }
  if (audit) {
    const f = audit.fill;
    console.log(
      `audit rows: ${f.rows.toLocaleString('en-US')} decisions in a temp store (filled in ${f.seconds.toFixed(1)} s, ${fmt(f.rowsPerSec)} rows/s, ${(f.dbBytes / 1048576).toFixed(0)} MiB); ` +
        `plain = full-scan ms, reqauth = indexed ms (median of ${audit.config.scanRuns} / ${audit.config.runs}), ratio = full scan / indexed`,
    );
  }
  console.log('');
  console.log(table(rows));
  if (cpuRows.length > 1) console.log(`\n${table(cpuRows)}`);
  const totalSeconds = (performance.now() - started) / 1000;
  console.log(`\n(${totalSeconds.toFixed(1)} s)`);

  const out = path.join(REPO_ROOT, 'bench', 'results.json');
  const auditFill = audit ? { config: audit.config, fill: audit.fill } : undefined;
  fs.writeFileSync(out, JSON.stringify({ machine, config, date: new Date().toISOString(), seconds: totalSeconds, cases, audit: auditFill }, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), out) || out}`);
}

function grpcJsVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve('@grpc/grpc-js/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
