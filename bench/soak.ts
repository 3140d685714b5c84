// Load and soak: the example ledger service at saturation, with honest traffic mixed with
// replays (to the same and to other replicas), replays older than the window, forgeries and a
// flooding principal; a progress line every few seconds; a verdict at the end.
//
//   npm run soak -- --minutes N [--replicas K] [--replay-store memory|redis://HOST:PORT]
//                   [--concurrency C] [--max-age-ms 10000] [--max-future-ms 5000] [--share 1000] [--store-timeout-ms 50]
//
// The replicas are child processes (bench/soak-replica.ts, startLedgerServer). The window is
// short (15 s by default), so the replay store is "full" — as many entries as one window of
// traffic — within a minute; from then on its size, Redis's memory and the replicas' resident
// memory must stay flat. The run fails (exit 1) on any accepted attack, any honest request
// refused for a reason other than UNAVAILABLE, or growth. Traffic goes to 127.0.0.1 only; the
// run stops by itself at its deadline.
import * as grpc from '@grpc/grpc-js';
import { ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { ENVELOPE_KEY, generateRootKeyring, issueCredential, keyringToJson, RedisReplayStore, RequestSigner } from '../src';

const PATH = '/ledger.v1.LedgerService/GetBalance';
const identity = (b: Buffer) => b;

type Kind = 'honest' | 'flood' | 'replay' | 'replayOld' | 'forgery';
const ATTACKS: readonly Kind[] = ['replay', 'replayOld', 'forgery'];

interface Replica {
  readonly child: ChildProcess;
  readonly client: grpc.Client;
  stats(): Promise<{ rss: number; heapUsed: number; reasons: Record<string, number>; events: Record<string, number>; storeSize?: number }>;
}

interface Sample {
  readonly t: number;
  readonly entries: number;
  /** Fresh nonces accepted within the last window (plus the sampling interval): the most the store may hold. */
  readonly window: number;
  readonly redisBytes: number;
  readonly rss: number;
  readonly heap: number;
}

function encodeGetBalance(account: string): Buffer {
  const s = Buffer.from(account);
  return Buffer.concat([Buffer.from([0x0a, s.length]), s]);
}

async function startReplica(keysPath: string, store: string, maxAge: number, maxFuture: number, share: number, timeoutMs: string): Promise<Replica> {
  const child = fork(path.join(__dirname, 'soak-replica.js'), [keysPath, store, String(maxAge), String(maxFuture), String(share), timeoutMs], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port?: number }) => (m.port ? resolve(m.port) : reject(new Error('replica did not report a port'))));
    child.once('exit', (code) => reject(new Error(`replica exited ${code}`)));
  });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    child,
    client,
    stats: () =>
      new Promise((resolve) => {
        const on = (m: { stats?: Awaited<ReturnType<Replica['stats']>> }) => {
          if (!m.stats) return;
          child.off('message', on);
          resolve(m.stats);
        };
        child.on('message', on);
        child.send('stats');
      }),
  };
}

function send(replica: Replica, value: Buffer, body: Buffer): Promise<number> {
  const md = new grpc.Metadata();
  md.set(ENVELOPE_KEY, value);
  return new Promise((resolve) =>
    replica.client.makeUnaryRequest(PATH, identity, identity, body, md, { deadline: Date.now() + 10_000 }, (err) => resolve(err ? err.code : grpc.status.OK)),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '1' },
      replicas: { type: 'string', default: '1' },
      'replay-store': { type: 'string', default: 'memory' },
      concurrency: { type: 'string', default: '64' },
      'max-age-ms': { type: 'string', default: '10000' },
      'max-future-ms': { type: 'string', default: '5000' },
      share: { type: 'string', default: '1000' },
      'progress-seconds': { type: 'string', default: '5' },
      'store-timeout-ms': { type: 'string', default: '50' },
    },
  });
  const minutes = Number(values.minutes);
  const replicaCount = Number(values.replicas);
  const storeArg = values['replay-store'];
  const concurrency = Number(values.concurrency);
  const maxAge = Number(values['max-age-ms']);
  const maxFuture = Number(values['max-future-ms']);
  const share = Number(values.share);
  const progressMs = Number(values['progress-seconds']) * 1000;
  const storeTimeout = values['store-timeout-ms'];
  if (!(minutes > 0 && minutes <= 24 * 60) || !(replicaCount >= 1 && replicaCount <= 16) || !(concurrency >= 1 && concurrency <= 1024)) {
    console.error('soak: --minutes in (0, 1440], --replicas in [1, 16], --concurrency in [1, 1024]');
    return 2;
  }
  if (replicaCount > 1 && storeArg === 'memory') {
    console.error('soak: several replicas need a shared replay store (--replay-store redis://HOST:PORT): each memory store accepts what another replica saw');
    return 2;
  }
  const span = maxAge + maxFuture;
  const durationMs = minutes * 60_000;
  // Flat from here: a window of traffic is in the store, plus margin for the first sweep.
  const baselineAt = Math.max(2 * span, durationMs / 2);

  const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-soak-'));
  const keysPath = path.join(dir, 'root.json');
  const ring = generateRootKeyring();
  writeFileSync(keysPath, keyringToJson(ring));
  const replicas = await Promise.all(Array.from({ length: replicaCount }, () => startReplica(keysPath, storeArg, maxAge, maxFuture, share, storeTimeout)));
  // Read-only here (stats), but it would initialise an empty Redis: with the replicas' window.
  const redisStore = storeArg === 'memory' ? undefined : new RedisReplayStore({ audience: 'ledger', url: storeArg, window: { maxAgeMs: maxAge, maxFutureMs: maxFuture }, onEvent: () => undefined });
  const redisAdmin = storeArg === 'memory' ? undefined : createClient({ url: storeArg });
  redisAdmin?.on('error', () => undefined);
  await redisAdmin?.connect();
  await redisStore?.ready();
  const emptyRedisBytes = redisAdmin ? Number(/used_memory:(\d+)/.exec(await redisAdmin.info('memory'))![1]) : 0;

  const honest = Array.from({ length: 20 }, (_, i) => new RequestSigner(issueCredential(ring, 'ledger', `honest-${i}`, ['teller'])));
  // The flooder is permitted and dates every request just inside max_future, as in the
  // hardening report: it must fill only its own share.
  const flooder = new RequestSigner(issueCredential(ring, 'ledger', 'flooder', ['teller']), { now: () => Date.now() + maxFuture - 1_000 });

  console.log(
    `soak: ${minutes} min, ${replicaCount} replica(s), replay store ${storeArg === 'memory' ? 'memory' : 'redis'}, concurrency ${concurrency}, window ${maxAge}+${maxFuture} ms, share ${share}; flat from t=${Math.round(baselineAt / 1000)}s`,
  );

  const recent: { value: Buffer; body: Buffer }[] = [];
  const old: { value: Buffer; body: Buffer; at: number }[] = [];
  const outcomes: Record<Kind, Record<string, number>> = { honest: {}, flood: {}, replay: {}, replayOld: {}, forgery: {} };
  let latencies: number[] = [];
  let interval = 0;
  let total = 0;
  const started = Date.now();
  const deadline = started + durationMs;
  const maxCalls = Math.ceil(minutes * 60 * 100_000); // a bound on the loop, whatever the speed
  const tally = (kind: Kind, code: number) => {
    const name = grpc.status[code] ?? String(code);
    outcomes[kind][name] = (outcomes[kind][name] ?? 0) + 1;
  };
  let seq = 0;
  /** Fresh nonces accepted (honest and flood), per second since the start. */
  const acceptedPerSecond: number[] = [];
  const accepted = () => {
    const second = Math.floor((Date.now() - started) / 1000);
    acceptedPerSecond[second] = (acceptedPerSecond[second] ?? 0) + 1;
  };
  const acceptedSince = (ms: number) => {
    let n = 0;
    for (let s = Math.max(0, Math.floor((Date.now() - started - ms) / 1000)); s < acceptedPerSecond.length; s++) n += acceptedPerSecond[s] ?? 0;
    return n;
  };

  const worker = async () => {
    while (Date.now() < deadline && total < maxCalls) {
      total++;
      interval++;
      const replica = replicas[Math.floor(Math.random() * replicas.length)]!;
      const roll = Math.random();
      if (roll < 0.45 || recent.length < 100) {
        const body = encodeGetBalance(`acc-${seq++ % 1000}`);
        const { value } = honest[Math.floor(Math.random() * honest.length)]!.sign(PATH, body);
        const t0 = performance.now();
        const code = await send(replica, value, body);
        latencies.push(performance.now() - t0);
        tally('honest', code);
        if (code === grpc.status.OK) {
          accepted();
          if (recent.length < 2_000) recent.push({ value, body });
          else recent[Math.floor(Math.random() * recent.length)] = { value, body };
          if (seq % 50 === 0 && old.length < 2_000) old.push({ value, body, at: Date.now() });
        }
      } else if (roll < 0.7) {
        const body = encodeGetBalance('acc-flood');
        const code = await send(replica, flooder.sign(PATH, body).value, body);
        tally('flood', code);
        if (code === grpc.status.OK) accepted();
      } else if (roll < 0.85) {
        // A captured request, replayed to any replica (the one it went to, or another).
        const r = recent[Math.floor(Math.random() * recent.length)]!;
        tally('replay', await send(replica, r.value, r.body));
      } else if (roll < 0.9) {
        const due = old.findIndex((o) => Date.now() - o.at > span + 1_000);
        if (due < 0) continue;
        const [o] = old.splice(due, 1);
        tally('replayOld', await send(replica, o!.value, o!.body));
      } else {
        const body = encodeGetBalance(`acc-${seq++ % 1000}`);
        const { value } = honest[Math.floor(Math.random() * honest.length)]!.sign(PATH, body);
        const forged = Buffer.from(value);
        const tamperBody = Math.random() < 0.5;
        if (!tamperBody) forged[forged.length - 1]! ^= 1;
        tally('forgery', await send(replica, forged, tamperBody ? encodeGetBalance('acc-forged') : body));
      }
    }
  };

  const samples: Sample[] = [];
  let lastProgress = started;
  const progress = async () => {
    const now = Date.now();
    const elapsed = (now - started) / 1000;
    const rate = interval / ((now - lastProgress) / 1000);
    lastProgress = now;
    interval = 0;
    const sorted = latencies.sort((a, b) => a - b);
    latencies = [];
    const stats = await Promise.all(replicas.map((r) => r.stats()));
    const reasons: Record<string, number> = {};
    for (const s of stats) for (const [k, v] of Object.entries(s.reasons)) if (k !== 'allow') reasons[k] = (reasons[k] ?? 0) + v;
    let entries = stats.reduce((sum, s) => sum + (s.storeSize ?? 0), 0);
    let redisBytes = 0;
    if (redisStore && redisAdmin) {
      entries = (await redisStore.stats()).entries;
      redisBytes = Number(/used_memory:(\d+)/.exec(await redisAdmin.info('memory'))![1]);
    }
    const rss = Math.max(...stats.map((s) => s.rss));
    samples.push({ t: now - started, entries, window: acceptedSince(span + progressMs + 2_000), redisBytes, rss, heap: Math.max(...stats.map((s) => s.heapUsed)) });
    const events: Record<string, number> = {};
    for (const s of stats) for (const [k, v] of Object.entries(s.events)) events[k] = (events[k] ?? 0) + v;
    const accepted = ATTACKS.reduce((n, k) => n + (outcomes[k]['OK'] ?? 0), 0);
    const attacks = ATTACKS.reduce((n, k) => n + Object.values(outcomes[k]).reduce((a, b) => a + b, 0), 0);
    console.log(
      `[${elapsed.toFixed(0).padStart(4)}s] ${rate.toFixed(0).padStart(6)} req/s  p50 ${percentile(sorted, 0.5).toFixed(1)} ms  p99 ${percentile(sorted, 0.99).toFixed(1)} ms` +
        `  | attacks ${attacks} accepted ${accepted}  | refusals ${JSON.stringify(reasons)}` +
        `  | store ${entries} entries${redisStore ? `, redis ${mb(redisBytes)} MB` : ''}  | rss ${stats.map((s) => mb(s.rss)).join('/')} MB (heap ${stats.map((s) => mb(s.heapUsed)).join('/')})` +
        (Object.keys(events).length > 0 ? `  | store events ${JSON.stringify(events)}` : ''),
    );
  };
  const ticker = setInterval(() => void progress(), progressMs);
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(ticker);
  await progress();

  // The verdict.
  const failures: string[] = [];
  for (const k of ATTACKS) if (outcomes[k]['OK']) failures.push(`${outcomes[k]['OK']} ${k} accepted`);
  const honestBad = Object.entries(outcomes.honest).filter(([code]) => code !== 'OK' && code !== 'UNAVAILABLE');
  if (honestBad.length > 0) failures.push(`honest requests refused: ${JSON.stringify(Object.fromEntries(honestBad))}`);
  const honestTotal = Object.values(outcomes.honest).reduce((a, b) => a + b, 0);
  if ((outcomes.honest['UNAVAILABLE'] ?? 0) > honestTotal * 0.05) failures.push(`more than 5% of honest requests UNAVAILABLE: ${outcomes.honest['UNAVAILABLE']}`);
  if ((outcomes.replayOld['UNAUTHENTICATED'] ?? 0) === 0 && durationMs > 2 * span) failures.push('no replay older than the window was tried');
  // Flat: once the window is full, the store holds at most the last window's fresh nonces (it
  // forgets as fast as it learns), Redis's memory per entry does not grow, nor does the
  // replicas' resident memory beyond noise.
  const base = samples.filter((s) => s.t >= baselineAt);
  if (base.length >= 2) {
    const first = base[0]!;
    const last = base.at(-1)!;
    const worst = base.reduce((w, s) => (s.entries - s.window > w.entries - w.window ? s : w));
    console.log(`flat check: store ${first.entries} entries at t=${Math.round(first.t / 1000)}s, ${last.entries} at the end; most over one window's fresh nonces: ${worst.entries} vs ${worst.window} at t=${Math.round(worst.t / 1000)}s`);
    for (const s of base) if (s.entries > s.window * 1.05 + 200) failures.push(`store holds ${s.entries} entries at t=${Math.round(s.t / 1000)}s, more than the ${s.window} fresh nonces of the last window`);
    const peakHeap = Math.max(...base.map((s) => s.heap));
    console.log(`flat check: replica heap after GC ${mb(first.heap)} MB at t=${Math.round(first.t / 1000)}s, peak ${mb(peakHeap)} MB after (limit ${mb(first.heap * 1.25 + 8e6)} MB)`);
    if (peakHeap > first.heap * 1.25 + 8e6) failures.push(`heap grew from ${mb(first.heap)} MB to ${mb(peakHeap)} MB`);
    const peakRss = Math.max(...base.map((s) => s.rss));
    console.log(`flat check: replica resident memory ${mb(first.rss)} MB at t=${Math.round(first.t / 1000)}s, peak ${mb(peakRss)} MB after (limit ${mb(first.rss * 1.25 + 32e6)} MB)`);
    if (peakRss > first.rss * 1.25 + 32e6) failures.push(`resident memory grew from ${mb(first.rss)} MB to ${mb(peakRss)} MB`);
    if (redisStore) {
      // Redis holds the store's entries and nothing that grows besides: at most ~250 B each
      // (a skiplist sorted set's; small ones are listpacks, far less) over what it used empty.
      const over = (s: Sample) => s.redisBytes - emptyRedisBytes;
      const worstRedis = base.reduce((w, s) => (over(s) - s.entries * 250 > over(w) - w.entries * 250 ? s : w));
      console.log(
        `flat check: redis ${mb(first.redisBytes)} MB at t=${Math.round(first.t / 1000)}s, ${mb(last.redisBytes)} MB at the end; ` +
          `${(over(last) / Math.max(1, last.entries)).toFixed(0)} B per entry over empty (${mb(emptyRedisBytes)} MB) at the end`,
      );
      if (over(worstRedis) > worstRedis.entries * 250 + 1e6) failures.push(`redis holds ${mb(worstRedis.redisBytes)} MB for ${worstRedis.entries} entries at t=${Math.round(worstRedis.t / 1000)}s`);
    }
  } else {
    console.log('flat check: run too short to take a baseline after the window filled');
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`outcomes: ${JSON.stringify(outcomes)}`);
  console.log(`${total} calls in ${seconds.toFixed(0)} s (${(total / seconds).toFixed(0)} req/s)`);
  console.log(failures.length === 0 ? 'soak: PASS' : `soak: FAIL\n  ${failures.join('\n  ')}`);

  for (const r of replicas) {
    r.client.close();
    r.child.send('stop');
  }
  await Promise.all(replicas.map((r) => new Promise((resolve) => (r.child.exitCode !== null ? resolve(null) : r.child.once('exit', resolve)))));
  await redisStore?.close();
  redisAdmin?.destroy();
  rmSync(dir, { recursive: true, force: true });
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
