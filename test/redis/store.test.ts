// The Redis replay store (spec §6.4) against a real redis-server: the shared contract, then
// what only a shared store meets — a Redis that lost its data, eviction, memory limits, ACL
// users, TLS, Redis Cluster — and that the core library never loads the client.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createClient, createCluster, createSentinel } from 'redis';
import { RedisReplayStore, RedisReplayStoreEvent, RedisReplayStoreOptions } from '../../src/replay/redis';
import { ReplayVerdict } from '../../src/replay/store';
import { nonce, replayStoreContract } from '../support/replay-contract';
import { makePki } from '../support/tls';
import { freePort, REDIS_SERVER, RedisServer, requireRedisServer, startRedisServer } from '../support/redis-server';

const SPAN = 150_000;
let audiences = 0;
const audience = () => `t${++audiences}-${process.pid}`;

/** A store whose events are collected, not printed. */
function store(options: Omit<RedisReplayStoreOptions, 'audience'> & { audience?: string }): { store: RedisReplayStore; events: RedisReplayStoreEvent[] } {
  const events: RedisReplayStoreEvent[] = [];
  // These tests are about the store's rules, not its timeout (test/redis/faults.test.ts is):
  // a generous one keeps a busy CI machine from failing them with replay_cache_unavailable.
  const s = new RedisReplayStore({ audience: audience(), onEvent: (e) => events.push(e), timeoutMs: 2_000, ...options });
  return { store: s, events };
}

async function ready(s: RedisReplayStore): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await s.stats();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error('store never became ready');
}

/** A store past its first use (which raises its floor, as for a store that lost its data). */
async function initialized(s: RedisReplayStore): Promise<void> {
  expect(await s.ready()).to.equal(true);
  await new Promise((r) => setTimeout(r, 2));
}

describe('RedisReplayStore', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  before(async function () {
    requireRedisServer(this);
    redis = await startRedisServer();
  });
  after(async () => redis?.stop());

  replayStoreContract('RedisReplayStore', async ({ start, maxEntriesPerPrincipal }) => {
    const clock = { now: start };
    const aud = audience();
    // A store that has been running (its floor at 0): the contract's clock starts in 1970.
    await redis.command('ZADD', `{reqauth:${aud}}:i`, '0', 's:floor');
    const { store: s } = store({ audience: aud, url: redis.url, testClock: () => clock.now, ...(maxEntriesPerPrincipal ? { maxEntriesPerPrincipal } : {}) });
    await ready(s);
    return { store: s, clock, close: () => s.close() };
  });

  it('concurrent calls with one pair, from two stores (two replicas), are fresh exactly once', async () => {
    const aud = audience();
    const a = store({ audience: aud, url: redis.url }).store;
    const b = store({ audience: aud, url: redis.url }).store;
    await initialized(a);
    await b.ready();
    for (let round = 0; round < 20; round++) {
      const n = nonce('race');
      const expiry = Date.now() + SPAN;
      const verdicts = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).checkAndRemember('alice', n, expiry)));
      expect(verdicts.filter((v) => v === 'fresh')).to.have.length(1);
    }
    await Promise.all([a.close(), b.close()]);
  });

  describe('configuration fails at construction, and says why', () => {
    it('refuses a missing audience, a hash-tag character, both or neither of url and client, bad bounds', () => {
      expect(() => new RedisReplayStore({ url: 'redis://127.0.0.1:1' } as RedisReplayStoreOptions)).to.throw(TypeError);
      expect(() => new RedisReplayStore({ audience: 'a}b', url: 'redis://127.0.0.1:1' })).to.throw(TypeError);
      expect(() => new RedisReplayStore({ audience: 'a' })).to.throw(TypeError);
      expect(() => new RedisReplayStore({ audience: 'a', url: 'redis://127.0.0.1:1', timeoutMs: 0 })).to.throw(RangeError);
      expect(() => new RedisReplayStore({ audience: 'a', url: 'redis://127.0.0.1:1', maxInFlight: 1.5 })).to.throw(RangeError);
    });

    it('the core library never loads the Redis client', () => {
      const index = path.resolve(__dirname, '../../src/index.js');
      const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(index)}); process.stdout.write(String(Object.keys(require.cache).filter((k) => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(k)).length))`], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('0');
    });
  });

  describe('a Redis that lost its data raises the floor past every request it might have seen (spec §6.4)', () => {
    for (const [label, lose] of [
      ['FLUSHALL', async () => void (await redis.command('FLUSHALL'))],
      ['a restart without persistence', async () => (await redis.kill(), await redis.start())],
    ] as const) {
      it(`after ${label}: no replay of an accepted request passes, and new requests do`, async () => {
        const { store: s, events } = store({ url: redis.url, stallResetMs: 200 });
        await initialized(s);
        const accepted: [Buffer, number][] = [];
        for (let i = 0; i < 20; i++) {
          const n = nonce('before');
          const expiry = Date.now() + SPAN;
          if ((await s.checkAndRemember('alice', n, expiry)) === 'fresh') accepted.push([n, expiry]);
        }
        expect(accepted.length).to.be.greaterThan(10);
        events.length = 0;
        await lose();
        await ready(s);
        for (const [n, expiry] of accepted) expect(await s.checkAndRemember('alice', n, expiry)).to.equal('forgotten');
        expect(events.map((e) => e.kind)).to.include('data-loss');
        // A request issued just before the loss was detected is refused too (it may have been seen).
        expect(await s.checkAndRemember('bob', nonce(), Date.now() - 1_000 + SPAN)).to.equal('forgotten');
        await new Promise((r) => setTimeout(r, 5));
        expect(await s.checkAndRemember('alice', nonce('after'), Date.now() + SPAN)).to.equal('fresh');
        await s.close();
      });
    }

    it('a server that forgot the script (SCRIPT FLUSH, a restarted or new node) gets it again: EVALSHA, then EVAL on NOSCRIPT', async () => {
      const { store: s } = store({ url: redis.url });
      await initialized(s);
      const n = nonce();
      const expiry = Date.now() + SPAN;
      expect(await s.checkAndRemember('alice', n, expiry)).to.equal('fresh');
      await redis.command('SCRIPT', 'FLUSH');
      expect(await s.checkAndRemember('alice', n, expiry)).to.equal('replayed');
      expect(await s.checkAndRemember('alice', nonce(), Date.now() + SPAN)).to.equal('fresh');
      await s.close();
    });

    it("a principal whose nonces were evicted refuses what they covered; other principals are untouched", async () => {
      const aud = audience();
      const { store: s, events } = store({ audience: aud, url: redis.url });
      await initialized(s);
      const now = Date.now();
      const mine = nonce('mine');
      expect(await s.checkAndRemember('victim', mine, now + SPAN)).to.equal('fresh');
      expect(await s.checkAndRemember('victim', nonce(), now + SPAN + 20_000)).to.equal('fresh');
      const theirs = nonce('theirs');
      expect(await s.checkAndRemember('other', theirs, now + SPAN)).to.equal('fresh');
      await redis.command('DEL', `{reqauth:${aud}}:n:victim`);
      expect(await s.checkAndRemember('victim', mine, now + SPAN)).to.equal('forgotten');
      expect(events.map((e) => e.kind)).to.include('principal-lost');
      expect(await s.checkAndRemember('other', theirs, now + SPAN)).to.equal('replayed');
      expect(await s.checkAndRemember('other', nonce(), now + SPAN + 1), "below the victim's floor").to.equal('fresh');
      await s.close();
    });
  });

  describe('memory limits: eviction never lets a replay through; noeviction refuses calls when full', () => {
    async function flood(s: RedisReplayStore, principals: number, perPrincipal: number): Promise<{ accepted: [string, Buffer, number][]; failed: number }> {
      const accepted: [string, Buffer, number][] = [];
      let failed = 0;
      for (let round = 0; round < perPrincipal; round++) {
        await Promise.all(
          Array.from({ length: principals }, async (_, p) => {
            const n = nonce(`e${p}`);
            const expiry = Date.now() + SPAN;
            try {
              if ((await s.checkAndRemember(`principal-${p}`, n, expiry)) === 'fresh') accepted.push([`principal-${p}`, n, expiry]);
            } catch {
              failed++;
            }
          }),
        );
      }
      return { accepted, failed };
    }

    for (const policy of ['allkeys-random', 'allkeys-lru', 'volatile-lru']) {
      it(`under ${policy} at its maxmemory, every accepted nonce stays refused`, async () => {
        const small = await startRedisServer({ args: ['--maxmemory', '2mb', '--maxmemory-policy', policy] });
        try {
          const { store: s, events } = store({ url: small.url, timeoutMs: 1_000 });
          await initialized(s);
          const { accepted } = await flood(s, 40, 250);
          const stats = String(await small.command('INFO', 'stats'));
          expect(Number(/evicted_keys:(\d+)/.exec(stats)![1]), 'the test must cause evictions').to.be.greaterThan(0);
          expect(accepted.length).to.be.greaterThan(1_000);
          expect(events.some((e) => e.kind === 'eviction-policy')).to.equal(true);
          const verdicts: Record<string, number> = {};
          for (const [p, n, expiry] of accepted) {
            let v: ReplayVerdict | 'unavailable';
            try {
              v = await s.checkAndRemember(p, n, expiry);
            } catch {
              v = 'unavailable';
            }
            verdicts[v] = (verdicts[v] ?? 0) + 1;
          }
          expect(verdicts['fresh'] ?? 0, JSON.stringify(verdicts)).to.equal(0);
          await s.close();
        } finally {
          await small.stop();
        }
      });
    }

    it('under noeviction at its maxmemory, calls are refused (fail closed), then served once memory is freed', async () => {
      const small = await startRedisServer({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
      try {
        const { store: s, events } = store({ url: small.url, timeoutMs: 1_000 });
        await initialized(s);
        const { accepted, failed } = await flood(s, 40, 250);
        expect(failed, 'calls refused once Redis is full').to.be.greaterThan(0);
        expect(events.some((e) => e.kind === 'eviction-policy')).to.equal(false);
        for (const [p, n, expiry] of accepted.slice(0, 500)) {
          const v = await s.checkAndRemember(p, n, expiry).catch(() => 'unavailable');
          expect(v).to.not.equal('fresh');
        }
        await small.command('CONFIG', 'SET', 'maxmemory', '0');
        expect(await s.checkAndRemember('principal-0', nonce(), Date.now() + SPAN)).to.equal('fresh');
        await s.close();
      } finally {
        await small.stop();
      }
    });
  });

  describe('connection security and topology come from the client', () => {
    it('an ACL user with a password and only the rights the store needs', async () => {
      const acl = await startRedisServer({
        args: ['--user', 'default', 'off', '--user', 'reqauth', 'on', '>s3cret-pass', '~{reqauth:*', '+@all', '-@admin', '-@dangerous'],
      });
      try {
        const { store: s, events } = store({ url: `redis://reqauth:s3cret-pass@127.0.0.1:${acl.port}` });
        await initialized(s);
        expect(await s.checkAndRemember('alice', nonce(), Date.now() + SPAN)).to.equal('fresh');
        await new Promise((r) => setTimeout(r, 50));
        expect(events.map((e) => e.kind), 'CONFIG is not permitted: said once').to.include('policy-unknown');
        await s.close();

        const wrong = store({ url: `redis://reqauth:wrong@127.0.0.1:${acl.port}` });
        await new Promise((r) => setTimeout(r, 200));
        let refused = false;
        try {
          await wrong.store.checkAndRemember('alice', nonce(), Date.now() + SPAN);
        } catch {
          refused = true;
        }
        expect(refused, 'a wrong password fails closed').to.equal(true);
        await wrong.store.close();
      } finally {
        await acl.stop();
      }
    });

    it('TLS (rediss://) with the server verified against a CA', async function () {
      const pki = makePki();
      const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-redis-tls-'));
      const f = (name: string, data: Buffer) => (writeFileSync(path.join(dir, name), data), path.join(dir, name));
      let tls: RedisServer;
      try {
        tls = await startRedisServer({ tls: { cert: f('server.pem', pki.serverCert), key: f('server.key', pki.serverKey), ca: f('ca.pem', pki.ca) } });
      } catch (err) {
        console.log(`      skipped: this redis-server has no TLS (${(err as Error).message.slice(0, 80)})`);
        return this.skip();
      }
      try {
        const { store: s } = store({ url: tls.url, clientOptions: { socket: { tls: true, ca: pki.ca, servername: 'localhost' } } });
        await initialized(s);
        expect(await s.checkAndRemember('alice', nonce(), Date.now() + SPAN)).to.equal('fresh');
        await s.close();
        // A client that does not trust the server's CA never gets an answer: fail closed.
        const untrusted = store({ url: tls.url, clientOptions: { socket: { tls: true, servername: 'localhost' } } });
        await new Promise((r) => setTimeout(r, 200));
        let refused = false;
        try {
          await untrusted.store.checkAndRemember('alice', nonce(), Date.now() + SPAN);
        } catch {
          refused = true;
        }
        expect(refused).to.equal(true);
        await untrusted.store.close();
      } finally {
        await tls.stop();
      }
    });

    it('a Redis Cluster client passed in: the script runs in the audience slot', async () => {
      const node = await startRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${process.pid}-${Date.now()}.conf`] });
      try {
        await node.command('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
        for (let i = 0; i < 100 && !String(await node.command('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) await new Promise((r) => setTimeout(r, 50));
        const cluster = createCluster({ rootNodes: [{ url: node.url }] });
        cluster.on('error', () => undefined);
        await cluster.connect();
        const { store: s } = store({ client: cluster });
        await initialized(s);
        const n = nonce();
        const expiry = Date.now() + SPAN;
        expect(await s.checkAndRemember('alice', n, expiry)).to.equal('fresh');
        expect(await s.checkAndRemember('alice', n, expiry)).to.equal('replayed');
        expect((await s.stats()).entries).to.equal(1);
        await s.close();
        cluster.destroy();
      } finally {
        await node.stop();
      }
    });

    it('a Sentinel client passed in: the store follows the master Sentinel names', async () => {
      const port = await freePort();
      const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-sentinel-'));
      const conf = path.join(dir, 'sentinel.conf');
      writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor reqauth-primary 127.0.0.1 ${redis.port} 1\n`);
      const sentinel = spawn(REDIS_SERVER, [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        await new Promise<void>((resolve, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error(`sentinel did not start: ${out}`)), 10_000);
          sentinel.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            if (out.includes('+monitor master')) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        const client = createSentinel({ name: 'reqauth-primary', sentinelRootNodes: [{ host: '127.0.0.1', port }] });
        client.on('error', () => undefined);
        await client.connect();
        const { store: s } = store({ client });
        await initialized(s);
        const n = nonce();
        const expiry = Date.now() + SPAN;
        expect(await s.checkAndRemember('alice', n, expiry)).to.equal('fresh');
        expect(await s.checkAndRemember('alice', n, expiry)).to.equal('replayed');
        await s.close();
        client.destroy();
      } finally {
        sentinel.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a standalone client passed in is used as is, and left open by close()', async () => {
      const client = createClient({ url: redis.url });
      client.on('error', () => undefined);
      await client.connect();
      const { store: s } = store({ client });
      await initialized(s);
      expect(await s.checkAndRemember('alice', nonce(), Date.now() + SPAN)).to.equal('fresh');
      await s.close();
      expect(client.isReady).to.equal(true);
      client.destroy();
    });
  });
});
