// The one-minute soak (bench/soak.ts) in the test suite: two replicas of the example ledger
// service on one Redis, at saturation, with honest traffic, replays (across replicas too),
// replays older than the window, forgeries and a flooding principal. It fails on any accepted
// attack, any honest refusal but UNAVAILABLE, or growth once the window is full.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { RedisServer, requireRedisServer, startRedisServer } from '../support/redis-server';

describe('soak: one minute, two replicas on Redis', function () {
  this.timeout(180_000);
  let redis: RedisServer;
  before(async function () {
    requireRedisServer(this);
    redis = await startRedisServer();
  });
  after(async () => redis?.stop());

  it('no attack accepted, honest requests served, store and memory flat once the window is full', async () => {
    const soak = path.resolve(__dirname, '../../bench/soak.js');
    // A 250 ms store timeout: the suite shares a 2-core machine with the soak's own load.
    const child = spawn(process.execPath, [soak, '--minutes', '1', '--replicas', '2', '--replay-store', redis.url, '--store-timeout-ms', '250'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = out.trim().split('\n');
    // The verdict lines, for whoever reads the test log.
    for (const line of lines.filter((l) => l.startsWith('flat check') || /calls in|soak:/.test(l))) console.log(`      ${line}`);
    expect(code, out).to.equal(0);
    expect(lines.at(-1)).to.equal('soak: PASS');
  });
});
