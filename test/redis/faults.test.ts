// Faults of the shared replay store fail closed and recover by themselves (issue: several
// replicas; spec §6.4): Redis down, paused, asleep, black-holed, restarted empty mid-load. The
// scenario runs in a child process under Node's default fatal unhandled rejections
// (test/redis/fault-scenario.ts), so an unhandled rejection or 'error' event fails it here.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { requireRedisServer } from '../support/redis-server';

interface Tally {
  ok: number;
  unavailable: number;
  other: Record<string, number>;
  maxLatencyMs: number;
}
interface Replays {
  captured: number;
  originallyAccepted: number;
  acceptedAgain: number;
  refusedThenRunOnce: number;
  acceptedTwice: number;
}

describe('the Redis replay store under faults: fail closed, recover without a restart, never a replay', function () {
  this.timeout(90_000);
  let report: Record<string, unknown>;
  let stderr = '';
  before(async function () {
    requireRedisServer(this);
    const script = path.join(__dirname, 'fault-scenario.js');
    const child = spawn(process.execPath, ['--unhandled-rejections=throw', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, `the scenario process must exit cleanly (no unhandled rejection, no 'error' event):\n${stderr}`).to.equal(0);
    report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  });
  const tally = (key: string) => report[key] as Tally;
  const replays = (key: string) => report[key] as Replays;

  it('Redis down: every call is refused UNAVAILABLE and no handler runs', () => {
    expect(tally('down')).to.deep.include({ ok: 0, unavailable: 50, other: {} });
    expect(report['downHandlerCalls']).to.equal(0);
  });

  it('Redis back, empty: service resumes by itself, and no request accepted before is accepted again', () => {
    expect(report['recoveryAfterRestartMs']).to.be.within(0, 5_000);
    const r = replays('replayAfterEmptyRestart');
    expect(r.originallyAccepted).to.be.greaterThan(10);
    expect(r.acceptedAgain).to.equal(0);
    expect(r.acceptedTwice).to.equal(0);
  });

  it('Redis paused (SIGSTOP): calls refused within the timeout, the in-flight bound holds, memory stays bounded', () => {
    expect(tally('paused')).to.deep.include({ ok: 0, unavailable: 400, other: {} });
    expect(report['pausedHandlerCalls']).to.equal(0);
    expect(report['pausedMaxPending']).to.be.at.most(64);
    // 50 ms timeout; the slack is for a shared, loaded 2-core machine, not for the store.
    expect(report['pausedStoreMaxLatencyMs']).to.be.below(500);
    expect(report['pausedRssGrowthMb']).to.be.below(100);
  });

  it('after SIGCONT service resumes; a call refused during the pause may run once, never twice; an accepted one never again', () => {
    expect(report['recoveryAfterPauseMs']).to.be.within(0, 5_000);
    const r = replays('replayAfterPause');
    expect(r.acceptedAgain).to.equal(0);
    expect(r.acceptedTwice).to.equal(0);
  });

  it('Redis asleep (DEBUG SLEEP): refused, then served', () => {
    expect(tally('sleeping')).to.deep.include({ ok: 0, other: {} });
    expect(report['recoveryAfterSleepMs']).to.be.within(0, 5_000);
  });

  it('restarted empty mid-load: only OK, UNAVAILABLE or (requests from before the restart) UNAUTHENTICATED; no replay', () => {
    const t = tally('restartMidLoad');
    expect(t.ok).to.be.greaterThan(0);
    expect(Object.keys(t.other).filter((k) => k !== 'UNAUTHENTICATED')).to.deep.equal([]);
    const r = replays('replayAfterMidLoadRestart');
    expect(r.originallyAccepted).to.be.greaterThan(10);
    expect(r.acceptedAgain).to.equal(0);
    expect(r.acceptedTwice).to.equal(0);
  });

  it('a black hole (accepts, never answers): refused, bounded; a real Redis in its place is found by itself', () => {
    const hole = report['blackHole'] as { outcomes: Record<string, number>; pending: number };
    expect(hole.outcomes).to.deep.equal({ unavailable: 400 });
    expect(hole.pending).to.be.at.most(64);
    expect(report['blackHoleRecoveryMs']).to.be.within(0, 5_000);
    expect(report['blackHoleEvents']).to.include.members(['unavailable', 'reset', 'recovered']);
  });
});
