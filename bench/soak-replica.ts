// One replica of the example ledger service for the soak (bench/soak.ts), forked with an IPC
// channel:
//
//   node dist/bench/soak-replica.js KEYS_FILE memory|redis://HOST:PORT MAX_AGE_MS MAX_FUTURE_MS SHARE [STORE_TIMEOUT_MS]
//
// It runs startLedgerServer (examples/ledger/server.ts) on 127.0.0.1:0, reports `{ port }`,
// answers "stats" with its resident memory, decisions by reason and (memory store) the store's
// size, and exits on "stop" or when the parent goes away.
import { startLedgerServer } from '../examples/ledger/server';
import { MemoryReplayStore, RedisReplayStore, ReplayStore } from '../src';

async function main(): Promise<void> {
  const [keysPath, storeArg, maxAge, maxFuture, share, timeoutMs = '50'] = process.argv.slice(2);
  if (!keysPath || !storeArg || !maxAge || !maxFuture || !share) throw new Error('usage: soak-replica KEYS memory|URL MAX_AGE_MS MAX_FUTURE_MS SHARE');
  const maxAgeMs = Number(maxAge);
  const maxFutureMs = Number(maxFuture);
  const window = { maxAgeMs, maxFutureMs };
  const memory = storeArg === 'memory' ? new MemoryReplayStore({ maxEntriesPerPrincipal: Number(share), maxEntries: Number(share) * 64 }) : undefined;
  const events: Record<string, number> = {};
  const redis = memory
    ? undefined
    : new RedisReplayStore({
        audience: 'ledger',
        url: storeArg,
        window,
        maxEntriesPerPrincipal: Number(share),
        timeoutMs: Number(timeoutMs),
        onEvent: (e) => (events[e.kind] = (events[e.kind] ?? 0) + 1),
      });
  const replayStore: ReplayStore = memory ?? redis!;
  const reasons: Record<string, number> = {};
  const server = await startLedgerServer({
    port: 0,
    keysPath,
    audience: 'ledger',
    replayStore,
    maxAgeMs,
    maxFutureMs,
    audit: (e) => {
      const key = e.reason ?? e.decision;
      reasons[key] = (reasons[key] ?? 0) + 1;
    },
  });
  if (redis && !(await redis.ready())) throw new Error(`replay store ${storeArg} not reachable`);
  process.on('message', (m) => {
    if (m === 'stats') {
      // After a full collection (forked with --expose-gc), so garbage is not counted as growth.
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      process.send!({ stats: { rss: mem.rss, heapUsed: mem.heapUsed, reasons: { ...reasons }, events: { ...events }, storeSize: memory?.size } });
    } else if (m === 'stop') {
      void server.close().then(() => redis?.close()).finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ port: server.port });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
