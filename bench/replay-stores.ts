// The replay stores measured (README, "Running several replicas"):
//
//   npm run bench:replay-stores [-- --seconds 8 --rounds 3 --entries 100000]
//
// 1. Throughput of one replica of the example ledger service (bench/soak-replica.ts) with the
//    memory store and with Redis, honest GetBalance calls at concurrency 64, the two driven in
//    turn in short slices in one run; the ratio is Redis ÷ memory, median over the pairs.
// 2. Redis memory per entry: INFO used_memory before and after N entries, for one busy
//    principal (a skiplist sorted set) and for principals with 100 entries each (listpacks),
//    and MEMORY USAGE of one busy principal's key.
// It starts its own redis-server (no persistence) on a free loopback port.
import * as grpc from '@grpc/grpc-js';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { ENVELOPE_KEY, generateRootKeyring, issueCredential, keyringToJson, RedisReplayStore, RequestSigner } from '../src';
import { startRedisServer } from '../test/support/redis-server';

const PATH = '/ledger.v1.LedgerService/GetBalance';
const identity = (b: Buffer) => b;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Driven {
  /** Completed and failed calls in `ms` at concurrency 64. */
  run(ms: number): Promise<{ ok: number; failed: number }>;
  stop(): Promise<void>;
}

async function replica(keysPath: string, store: string, signer: RequestSigner): Promise<Driven> {
  const child = fork(path.join(__dirname, 'soak-replica.js'), [keysPath, store, '120000', '30000', '200000', '50'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port?: number }) => (m.port ? resolve(m.port) : reject(new Error('no port'))));
    child.once('exit', (code) => reject(new Error(`replica exited ${code}`)));
  });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const body = Buffer.from([0x0a, 0x08, ...Buffer.from('acc-test')]);
  const call = () =>
    new Promise<boolean>((resolve) => {
      const md = new grpc.Metadata();
      md.set(ENVELOPE_KEY, signer.sign(PATH, body).value);
      client.makeUnaryRequest(PATH, identity, identity, body, md, (err) => resolve(!err));
    });
  return {
    async run(ms) {
      let ok = 0;
      let failed = 0;
      const end = Date.now() + ms;
      await Promise.all(Array.from({ length: 64 }, async () => { while (Date.now() < end) (await call()) ? ok++ : failed++; }));
      return { ok, failed };
    },
    async stop() {
      client.close();
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function usedMemory(client: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '3' }, entries: { type: 'string', default: '100000' } } });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const entries = Number(values.entries);
  const redis = await startRedisServer();
  const admin = createClient({ url: redis.url });
  admin.on('error', () => undefined);
  await admin.connect();
  const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-bench-stores-'));
  try {
    // 1. Throughput: both replicas up, driven in turn in short slices (the order alternating),
    //    so each pair of slices sees the same machine; the ratio is the median of the pairs'.
    const keysPath = path.join(dir, 'root.json');
    const ring = generateRootKeyring();
    writeFileSync(keysPath, keyringToJson(ring));
    const signer = new RequestSigner(issueCredential(ring, 'ledger', 'frontend', ['teller']));
    const mem = await replica(keysPath, 'memory', signer);
    const red = await replica(keysPath, redis.url, signer);
    await mem.run(1_000);
    await red.run(1_000);
    const ratios: number[] = [];
    const memRates: number[] = [];
    const redRates: number[] = [];
    let redFailed = 0;
    const slice = (seconds * 1000) / 4;
    for (let r = 0; r < rounds * 4; r++) {
      const [first, second] = r % 2 === 0 ? [mem, red] : [red, mem];
      const a = await first.run(slice);
      const b = await second.run(slice);
      const [m, d] = first === mem ? [a, b] : [b, a];
      redFailed += d.failed;
      memRates.push(m.ok / (slice / 1000));
      redRates.push(d.ok / (slice / 1000));
      ratios.push(d.ok / m.ok);
    }
    await mem.stop();
    await red.stop();
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(
      `one replica, concurrency 64, ${ratios.length} interleaved pairs of ${slice} ms: memory ${median(memRates).toFixed(0)} req/s, redis ${median(redRates).toFixed(0)} req/s (median slices); ` +
        `ratio redis/memory median ${median(ratios).toFixed(2)} (quartiles ${sorted[Math.floor(sorted.length / 4)]!.toFixed(2)}–${sorted[Math.floor((3 * sorted.length) / 4)]!.toFixed(2)}); ${redFailed} redis calls refused UNAVAILABLE`,
    );

    // 2. Bytes per entry.
    const store = new RedisReplayStore({ audience: 'ledger', url: redis.url, onEvent: () => undefined, maxEntriesPerPrincipal: entries + 1, timeoutMs: 10_000 });
    await store.ready();
    const fill = async (principalOf: (i: number) => string) => {
      await admin.flushAll();
      await store.ready();
      const before = await usedMemory(admin);
      const expiry = Date.now() + 150_000;
      for (let i = 0; i < entries; i += 500) {
        await Promise.all(
          Array.from({ length: Math.min(500, entries - i) }, (_, j) => {
            const n = Buffer.alloc(16);
            n.writeUInt32BE(i + j, 0);
            n.writeUInt32BE(0x5eed, 12);
            return store.checkAndRemember(principalOf(i + j), n, expiry + ((i + j) % 1000));
          }),
        );
      }
      const stats = await store.stats();
      return { perEntry: ((await usedMemory(admin)) - before) / stats.entries, entries: stats.entries };
    };
    const busy = await fill(() => 'frontend');
    const usage = Number(await admin.sendCommand(['MEMORY', 'USAGE', '{reqauth:ledger}:n:frontend', 'SAMPLES', '0']));
    console.log(`redis, one principal with ${busy.entries} entries: ${busy.perEntry.toFixed(0)} B per entry (INFO used_memory delta); MEMORY USAGE of its key ${(usage / busy.entries).toFixed(0)} B per entry`);
    const small = await fill((i) => `p${Math.floor(i / 100)}`);
    console.log(`redis, ${small.entries / 100} principals with 100 entries each: ${small.perEntry.toFixed(0)} B per entry (INFO used_memory delta)`);
    await store.close();
  } finally {
    admin.destroy();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
