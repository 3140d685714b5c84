// Several replicas, one Redis (issue: several replicas): two real example-server processes
// started with `--replay-store redis://…`. A request captured on its way to one replica is
// refused by the other; the same request raced to both runs once. The control: the same two
// processes on their own in-memory stores accept the cross-replica replay — which is why a
// shared store exists.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LedgerService } from '../../examples/ledger/definition';
import { reqauthClientOptions } from '../../interceptors';
import { generateRootKeyring, issueCredential, keyringToJson } from '../../src';
import { Captured, rawUnary, recorder } from '../support/attacker';
import { unary } from '../support/harness';
import { RedisServer, requireRedisServer, startRedisServer } from '../support/redis-server';

const SERVER = path.resolve(__dirname, '../../examples/ledger/server.js');
const GET_BALANCE = '/ledger.v1.LedgerService/GetBalance';

interface Replica {
  readonly target: string;
  /** Audit decisions it printed (--audit-json), in order. */
  readonly decisions: { decision: string; reason?: string }[];
  stop(): Promise<void>;
}

async function startReplica(keys: string, replayStore: string): Promise<Replica> {
  const child: ChildProcess = spawn(process.execPath, [SERVER, '--port', '0', '--keys', keys, '--audience', 'ledger', '--audit-json', '--replay-store', replayStore, '--replay-timeout-ms', '1000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const decisions: Replica['decisions'] = [];
  let buffered = '';
  child.stdout!.on('data', (c: Buffer) => {
    buffered += c.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) decisions.push(JSON.parse(line) as Replica['decisions'][number]);
  });
  const target = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`replica did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`replica exited ${code}: ${err}`)));
  });
  return {
    target,
    decisions,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Whether a call ran. Refusals are UNAUTHENTICATED (a replay) or UNAVAILABLE (the store, on a loaded machine). */
const accepted = (p: Promise<unknown>) =>
  p.then(
    () => true,
    (err: grpc.ServiceError) => (err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.UNAVAILABLE ? false : Promise.reject(err)),
  );

describe('several replicas sharing one Redis refuse a request replayed against any of them', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let dir: string;
  let keys: string;
  const ring = generateRootKeyring();
  before(async function () {
    requireRedisServer(this);
    redis = await startRedisServer();
    dir = mkdtempSync(path.join(tmpdir(), 'reqauth-replicas-'));
    keys = path.join(dir, 'root.json');
    writeFileSync(keys, keyringToJson(ring));
  });
  after(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Honest calls to `first`, each captured on the wire. */
  async function capture(first: Replica, n: number): Promise<Captured[]> {
    const rec = recorder();
    const opts = reqauthClientOptions({ credential: issueCredential(ring, 'ledger', 'frontend', ['teller']) });
    const client = new LedgerService(first.target, grpc.credentials.createInsecure(), { ...opts, interceptors: [...(opts.interceptors ?? []), rec.interceptor] });
    await new Promise((r) => setTimeout(r, 20)); // past the store's first-use floor
    for (let i = 0; i < n; i++) await unary(client.getBalance.bind(client), { account: `acc-${i}` });
    client.close();
    return rec.calls;
  }

  for (const shared of [true, false]) {
    it(shared ? 'on Redis: replays to the other replica, and to the same one, are refused' : 'control, memory stores: the other replica accepts the replay', async () => {
      const store = shared ? redis.url : 'memory';
      const [a, b] = await Promise.all([startReplica(keys, store), startReplica(keys, store)]);
      try {
        const calls = await capture(a, 10);
        const acrossReplicas = await Promise.all(calls.map((c) => accepted(rawUnary(b.target, GET_BALANCE, c.metadata, c.frames[0]!))));
        const sameReplica = await Promise.all(calls.map((c) => accepted(rawUnary(a.target, GET_BALANCE, c.metadata, c.frames[0]!))));
        expect(sameReplica.filter(Boolean)).to.have.length(0);
        if (shared) {
          expect(acrossReplicas.filter(Boolean)).to.have.length(0);
          await new Promise((r) => setTimeout(r, 50));
          expect(b.decisions.map((d) => d.reason)).to.deep.equal(Array(10).fill('replayed_nonce'));
        } else {
          expect(acrossReplicas.filter(Boolean)).to.have.length(10);
        }
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });
  }

  it('on Redis: a request raced to both replicas at once runs once, never twice', async () => {
    const [a, b] = await Promise.all([startReplica(keys, redis.url), startReplica(keys, redis.url)]);
    try {
      // Signed but never delivered: the recorder keeps what a client sent towards a dead port.
      const signer = issueCredential(ring, 'ledger', 'frontend', ['teller']);
      const opts = reqauthClientOptions({ credential: signer });
      const rec = recorder();
      const dead = new LedgerService('127.0.0.1:1', grpc.credentials.createInsecure(), { ...opts, interceptors: [...(opts.interceptors ?? []), rec.interceptor] });
      await Promise.all(Array.from({ length: 20 }, (_, i) => unary(dead.getBalance.bind(dead), { account: `race-${i}` }, new grpc.Metadata(), { deadline: Date.now() + 300 }).catch(() => undefined)));
      dead.close();
      expect(rec.calls).to.have.length(20);
      const outcomes = await Promise.all(
        rec.calls.map(async (c) => {
          const both = await Promise.all([a, b].map((r) => accepted(rawUnary(r.target, GET_BALANCE, c.metadata, c.frames[0]!))));
          return both.filter(Boolean).length;
        }),
      );
      expect(Math.max(...outcomes), 'never twice').to.equal(1);
      expect(outcomes.filter((n) => n === 1).length, 'once (UNAVAILABLE only under a starved CPU)').to.be.greaterThan(15);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
