// The child process of test/grpc/crash.test.ts (not a test file itself): one fault scenario
// against the ledger behind reqauth, in a process with Node's default handling of unhandled
// rejections (fatal) and uncaught exceptions, which a test runner would swallow. It makes
// calls of every kind, waits for stray asynchronous errors to surface, and prints one JSON
// line: the status of each call and how often each handler ran. Exit code 0 means the
// process survived.
//
//   node dist/test/grpc/fault-child.js SCENARIO
import * as grpc from '@grpc/grpc-js';
import { SpanExporter, BasicTracerProvider, SimpleSpanProcessor, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { trace, Tracer } from '@opentelemetry/api';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRootKeyring, keyringToJson, KeyringFile, Policy, ReplayStore, staticKeySource, WatchedFile } from '../../src';
import { LedgerService } from '../../examples/ledger/definition';
import { policyFromServiceDefinition } from '../../src';
import { AUDIENCE, collect, HarnessOptions, startHarness, tx, unary } from '../support/harness';
import { attacker, flip } from '../support/attacker';

type Outcome = Record<string, number | string>;

const scenario = process.argv[2] ?? '';

function options(): HarnessOptions & { tracer?: Tracer } {
  const ring = generateRootKeyring();
  const keys = staticKeySource(ring, AUDIENCE);
  const policy = policyFromServiceDefinition(LedgerService.service);
  const throwing = () => {
    throw new Error('injected fault');
  };
  switch (scenario) {
    case 'audit-throws':
      return { ring, server: { audit: throwing } };
    case 'audit-throws-async-store': {
      const store: ReplayStore = { checkAndRemember: async () => 'fresh' as const };
      return { ring, server: { audit: throwing, replayStore: store } };
    }
    case 'audit-throws-on-allow':
      return { ring, server: { audit: (e) => (e.decision === 'allow' ? throwing() : undefined) } };
    case 'keys-throw':
      return { ring, server: { keys: { current: throwing } } };
    case 'policy-throws': {
      // The ledger's rules (so public methods stay public), with an authorize that throws.
      const faulty = Object.create(policy) as Policy;
      faulty.authorize = throwing;
      return { ring, server: { policy: faulty } };
    }
    case 'store-rejects':
      return { ring, server: { replayStore: { checkAndRemember: () => Promise.reject(new Error('down')) } } };
    case 'store-throws':
      return { ring, server: { replayStore: { checkAndRemember: throwing } } };
    case 'exporter-throws':
    case 'batch-exporter-rejects': {
      const exporter: SpanExporter = {
        export: scenario === 'exporter-throws' ? throwing : (_spans, done) => setImmediate(() => done({ code: 1, error: new Error('collector down') })),
        shutdown: async () => undefined,
      };
      const processor = scenario === 'exporter-throws' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter, { scheduledDelayMillis: 10 });
      const provider = new BasicTracerProvider({ spanProcessors: [processor] });
      trace.setGlobalTracerProvider(provider);
      return { ring, server: { keys } };
    }
    case 'tracer-throws': {
      const tracer = { startSpan: throwing, startActiveSpan: throwing } as unknown as Tracer;
      return { ring, server: { telemetry: { tracer } } };
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

async function main(): Promise<void> {
  // A keyring file whose onError hook throws, made corrupt while the server runs.
  const dir = mkdtempSync(join(tmpdir(), 'reqauth-fault-'));
  const file = join(dir, 'ring.json');
  writeFileSync(file, keyringToJson(generateRootKeyring()));
  const watched = new KeyringFile(file, { audience: AUDIENCE, pollIntervalMs: 10, onError: () => { throw new Error('hook fault'); } });
  const plain = new WatchedFile(file, (t) => JSON.parse(t) as unknown, { pollIntervalMs: 10 }); // default report: a warning
  writeFileSync(file, '{ corrupt');

  const h = await startHarness(options());
  const c = h.client(h.credential('frontend', ['teller', 'auditor', 'importer']));
  const forged = h.client(h.credential('frontend', ['teller']), { interceptors: [attacker({ message: (f) => [flip(f.bytes, 0)] })] });
  const out: Outcome = {};
  const code = async (label: string, p: Promise<unknown>) => {
    try {
      await p;
      out[label] = 0;
    } catch (err) {
      out[label] = (err as grpc.ServiceError).code;
    }
  };
  await code('unary', unary(c.transfer.bind(c), { transaction: tx('u-1') }));
  await code('unary-forged', unary(forged.transfer.bind(forged), { transaction: tx('u-2') }));
  await code('public', unary(c.ping.bind(c), {}));
  const listed = await collect(c.listTransactions({ account: 'acc-alice' }));
  out['server-stream'] = listed.error?.code ?? 0;
  await code(
    'client-stream',
    new Promise((resolve, reject) => {
      const call = c.importTransactions((err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
      call.write({ transaction: tx('cs-1') });
      call.write({ transaction: tx('cs-2') });
      call.end();
    }),
  );
  await code(
    'bidi',
    new Promise((resolve, reject) => {
      const call = c.reconcile();
      call.on('data', () => undefined);
      call.on('error', reject);
      call.on('end', resolve);
      call.write({ transaction: tx('b-1') });
      call.end();
    }),
  );
  // Stray asynchronous faults (exporters, timers, polls) have their turn before we report.
  await new Promise((r) => setTimeout(r, 300));
  watched.close();
  plain.close();
  const handlers: Record<string, number> = {};
  for (const m of h.calls) handlers[m] = (handlers[m] ?? 0) + 1;
  out['handlers'] = JSON.stringify(handlers);
  await h.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`scenario failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(3);
  },
);
