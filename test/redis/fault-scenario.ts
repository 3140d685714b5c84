// Run as a child process by faults.test.ts, under Node's default (fatal) unhandled rejections
// and without a test runner's handlers: a real grpc-js server whose replay store is a real
// redis-server, taken down, paused, black-holed, restarted empty and put to sleep. Prints one
// JSON report; any unhandled rejection or 'error' event ends the process and fails the test.
import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { RedisReplayStore, RedisReplayStoreEvent } from '../../src/replay/redis';
import { recorder, rawUnary } from '../support/attacker';
import { startHarness, unary } from '../support/harness';
import { startRedisServer } from '../support/redis-server';

const TIMEOUT_MS = 50;
const MAX_IN_FLIGHT = 64;
const SPAN = 150_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Tally {
  ok: number;
  unavailable: number;
  other: Record<string, number>;
  maxLatencyMs: number;
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = {};
  const events: string[] = [];
  const onEvent = (e: RedisReplayStoreEvent) => events.push(e.kind);
  const redis = await startRedisServer({ args: ['--enable-debug-command', 'yes'] });
  const store = new RedisReplayStore({ audience: 'ledger', url: redis.url, timeoutMs: TIMEOUT_MS, maxInFlight: MAX_IN_FLIGHT, stallResetMs: 300, onEvent });
  const h = await startHarness({ server: { replayStore: store } });
  const rec = recorder();
  const c = h.client(h.credential('frontend', ['teller']), { interceptors: [rec.interceptor] });
  let seq = 0;
  /** The accounts of calls that succeeded: each call asks for its own, `acc-N.`. */
  const succeeded = new Set<string>();
  const call = async (): Promise<[string, number]> => {
    const started = performance.now();
    const account = `acc-${seq++}.`;
    try {
      await unary(c.getBalance.bind(c), { account });
      succeeded.add(account);
      return ['ok', performance.now() - started];
    } catch (err) {
      const code = (err as grpc.ServiceError).code;
      return [code === grpc.status.UNAVAILABLE ? 'unavailable' : grpc.status[code]!, performance.now() - started];
    }
  };
  const tally = async (calls: Promise<[string, number]>[]): Promise<Tally> => {
    const t: Tally = { ok: 0, unavailable: 0, other: {}, maxLatencyMs: 0 };
    for (const [outcome, ms] of await Promise.all(calls)) {
      if (outcome === 'ok') t.ok++;
      else if (outcome === 'unavailable') t.unavailable++;
      else t.other[outcome] = (t.other[outcome] ?? 0) + 1;
      t.maxLatencyMs = Math.max(t.maxLatencyMs, Math.round(ms));
    }
    return t;
  };
  const handled = () => h.calls.length;
  /** Polls until a call succeeds: how long service took to come back, with no restart. */
  const recovery = async (): Promise<number> => {
    const started = Date.now();
    while (Date.now() - started < 10_000) {
      if ((await call())[0] === 'ok') return Date.now() - started;
      await sleep(20);
    }
    return -1;
  };
  const wasAccepted = (frame: Buffer) => [...succeeded].some((account) => frame.includes(Buffer.from(account)));
  /**
   * Replays every recorded call exactly, twice. A call accepted before must never be accepted
   * again; one refused UNAVAILABLE never ran, so it may run once — never twice.
   */
  const replayAll = async (from: number) => {
    const before = h.audit.length;
    const captured = rec.calls.slice(from);
    let acceptedAgain = 0;
    let acceptedOnce = 0;
    let acceptedTwice = 0;
    const newlyAccepted = new Set<number>();
    for (const round of [1, 2]) {
      for (const [i, cap] of captured.entries()) {
        try {
          await rawUnary(h.target, '/ledger.v1.LedgerService/GetBalance', cap.metadata, cap.frames[0]!);
          if (wasAccepted(cap.frames[0]!)) acceptedAgain++;
          else if (round === 2 && newlyAccepted.has(i)) acceptedTwice++;
          else {
            newlyAccepted.add(i);
            acceptedOnce++;
          }
        } catch {
          // refused
        }
      }
    }
    const reasons: Record<string, number> = {};
    for (const e of h.audit.slice(before)) reasons[e.reason ?? e.decision] = (reasons[e.reason ?? e.decision] ?? 0) + 1;
    const original = captured.filter((cap) => wasAccepted(cap.frames[0]!)).length;
    return { captured: captured.length, originallyAccepted: original, acceptedAgain, refusedThenRunOnce: acceptedOnce, acceptedTwice, reasons };
  };

  await recovery(); // first use: the store initialises its floor
  await sleep(5);
  const healthyFrom = rec.calls.length;
  report['healthy'] = await tally(Array.from({ length: 20 }, call));

  // Down: connection refused. Fails fast, the handler never runs.
  await redis.kill();
  const handledBeforeDown = handled();
  report['down'] = await tally(Array.from({ length: 50 }, call));
  report['downHandlerCalls'] = handled() - handledBeforeDown;

  // Back, empty (no persistence): service resumes by itself; nothing accepted before is accepted again.
  await redis.start();
  report['recoveryAfterRestartMs'] = await recovery();
  report['replayAfterEmptyRestart'] = await replayAll(healthyFrom);

  // Paused (SIGSTOP): every call is refused within its timeout, the in-flight bound holds,
  // the store replaces its connection, and service resumes after SIGCONT.
  await sleep(5);
  const pausedFrom = rec.calls.length;
  report['beforePause'] = await tally(Array.from({ length: 20 }, call));
  redis.pause();
  let maxPending = 0;
  const pausedCalls: Promise<[string, number]>[] = [];
  const rssBefore = process.memoryUsage().rss;
  const handledBeforePause = handled();
  for (let i = 0; i < 40; i++) {
    for (let j = 0; j < 10; j++) pausedCalls.push(call());
    maxPending = Math.max(maxPending, store.pending);
    await sleep(25);
  }
  report['paused'] = await tally(pausedCalls);
  // The store's own bound, without gRPC around it: each call settles within its timeout.
  const direct = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const started = performance.now();
      await Promise.resolve()
        .then(() => store.checkAndRemember('direct', Buffer.alloc(16, i), Date.now() + SPAN))
        .catch(() => undefined);
      return performance.now() - started;
    }),
  );
  report['pausedStoreMaxLatencyMs'] = Math.round(Math.max(...direct));
  report['pausedHandlerCalls'] = handled() - handledBeforePause;
  report['pausedMaxPending'] = maxPending;
  report['pausedRssGrowthMb'] = Math.round((process.memoryUsage().rss - rssBefore) / 1e6);
  redis.resume();
  report['recoveryAfterPauseMs'] = await recovery();
  report['replayAfterPause'] = await replayAll(pausedFrom);

  // Asleep (DEBUG SLEEP): the same, from inside Redis.
  const sleeper = redis.command('DEBUG', 'SLEEP', '0.5').catch(() => undefined);
  await sleep(20);
  report['sleeping'] = await tally(Array.from({ length: 20 }, call));
  await sleeper;
  report['recoveryAfterSleepMs'] = await recovery();

  // Restarted mid-load, empty: only OK or UNAVAILABLE, and no replay of anything accepted.
  const loadFrom = rec.calls.length;
  const loadCalls: Promise<[string, number]>[] = [];
  const loadEnd = Date.now() + 1_500;
  const restarter = (async () => {
    await sleep(400);
    await redis.kill();
    await sleep(300);
    await redis.start();
  })();
  while (Date.now() < loadEnd) {
    for (let j = 0; j < 8; j++) loadCalls.push(call());
    await sleep(5);
  }
  await restarter;
  report['restartMidLoad'] = await tally(loadCalls);
  report['recoveryAfterMidLoadRestartMs'] = await recovery();
  report['replayAfterMidLoadRestart'] = await replayAll(loadFrom);

  // A black hole: a listener that accepts and never answers. Calls are refused within their
  // timeout, the bound holds; when a real Redis appears there, the store finds it by itself.
  const hole = net.createServer((socket) => socket.on('error', () => undefined));
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
  const holePort = (hole.address() as net.AddressInfo).port;
  const holeEvents: string[] = [];
  const holeStore = new RedisReplayStore({ audience: 'ledger', url: `redis://127.0.0.1:${holePort}`, timeoutMs: TIMEOUT_MS, maxInFlight: MAX_IN_FLIGHT, stallResetMs: 300, onEvent: (e) => holeEvents.push(e.kind) });
  const holeOutcomes: Record<string, number> = {};
  let holeMaxMs = 0;
  for (let i = 0; i < 40; i++) {
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const started = performance.now();
        let outcome: string;
        try {
          outcome = await holeStore.checkAndRemember('alice', Buffer.alloc(16, i), Date.now() + SPAN);
        } catch {
          outcome = 'unavailable';
        }
        holeMaxMs = Math.max(holeMaxMs, performance.now() - started);
        holeOutcomes[outcome] = (holeOutcomes[outcome] ?? 0) + 1;
      }),
    );
    await sleep(10);
  }
  report['blackHole'] = { outcomes: holeOutcomes, maxLatencyMs: Math.round(holeMaxMs), pending: holeStore.pending };
  // The hole stops listening (its accepted sockets stay open, silent); a real Redis takes its port.
  hole.close();
  const real = await startRedisAt(holePort);
  const started = Date.now();
  let recoveredMs = -1;
  while (Date.now() - started < 10_000) {
    try {
      await holeStore.checkAndRemember('alice', Buffer.from(`x${Date.now()}`.padEnd(16, 'x')), Date.now() + SPAN);
      recoveredMs = Date.now() - started;
      break;
    } catch {
      await sleep(50);
    }
  }
  report['blackHoleRecoveryMs'] = recoveredMs;
  report['blackHoleEvents'] = [...new Set(holeEvents)];
  report['events'] = [...new Set(events)];
  report['handlerCallsTotal'] = handled();

  await holeStore.close();
  await real.stop();
  await h.close();
  await store.close();
  await redis.stop();
  process.stdout.write(JSON.stringify(report) + '\n');
}

/** A redis-server on a given port (the black hole's, once closed). */
async function startRedisAt(port: number) {
  const { spawn } = await import('node:child_process');
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}

void main().then(() => process.exit(0));
