// A fault in any hook, exporter, store or key source refuses the calls it affects and never
// takes the process down (spec §8). Each scenario runs in a child process with Node's default
// fatal handling of unhandled rejections and uncaught exceptions (test/grpc/fault-child.ts):
// mocha would catch what kills a real server.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';

const CHILD = join(__dirname, 'fault-child.js');
const { OK, INTERNAL, UNAUTHENTICATED, UNAVAILABLE } = grpc.status;

type Expected = Record<'unary' | 'unary-forged' | 'public' | 'server-stream' | 'client-stream' | 'bidi', number>;

/** Every call refused with `code`, the forged one with `forged`; the public method unaffected. */
const refusedAll = (code: number, forged = code): Expected => ({ unary: code, 'unary-forged': forged, public: OK, 'server-stream': code, 'client-stream': code, bidi: code });
const normal: Expected = { unary: OK, 'unary-forged': UNAUTHENTICATED, public: OK, 'server-stream': OK, 'client-stream': OK, bidi: OK };

const SCENARIOS: Record<string, { expected: Expected; what: string }> = {
  'audit-throws': { what: 'an audit hook that throws on every decision', expected: refusedAll(INTERNAL, UNAUTHENTICATED) },
  'audit-throws-on-allow': { what: 'an audit hook that throws on allows only', expected: refusedAll(INTERNAL, UNAUTHENTICATED) },
  'audit-throws-async-store': { what: 'a throwing audit hook behind an asynchronous replay store (the promise path)', expected: refusedAll(INTERNAL, UNAUTHENTICATED) },
  'keys-throw': { what: 'a key source that throws', expected: refusedAll(INTERNAL) },
  'policy-throws': { what: 'a policy that throws', expected: refusedAll(INTERNAL) },
  'store-rejects': { what: 'a replay store that rejects', expected: refusedAll(UNAVAILABLE) },
  'store-throws': { what: 'a replay store that throws', expected: refusedAll(UNAVAILABLE) },
  'exporter-throws': { what: 'a span exporter that throws (real SDK, SimpleSpanProcessor)', expected: normal },
  'batch-exporter-rejects': { what: 'a span exporter that fails every export (real SDK, BatchSpanProcessor)', expected: normal },
  'tracer-throws': { what: 'a tracer that throws', expected: normal },
};

describe('a fault refuses the calls it affects, and the process lives on (child processes, default fatal rejections)', function () {
  this.timeout(30_000);
  for (const [scenario, { what, expected }] of Object.entries(SCENARIOS)) {
    it(`${what}: ${JSON.stringify(expected)}`, () => {
      const r = spawnSync(process.execPath, [CHILD, scenario], { encoding: 'utf8', timeout: 25_000 });
      expect(r.stderr, 'no crash report').to.not.match(/Unhandled|uncaught|scenario failed/i);
      expect(r.status, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number | string>;
      const { handlers, ...codes } = out;
      expect(codes).to.deep.equal(expected);
      const ran = JSON.parse(handlers as string) as Record<string, number>;
      // A handler ran exactly for the calls that succeeded (the public Ping always).
      const succeeded = Object.entries(expected).filter(([, c]) => c === OK).map(([k]) => k);
      const methods: Record<string, string> = { unary: 'Transfer', public: 'Ping', 'server-stream': 'ListTransactions', 'client-stream': 'ImportTransactions', bidi: 'Reconcile' };
      expect(Object.keys(ran).sort()).to.deep.equal(succeeded.map((k) => methods[k]!).sort());
      // Faults in hooks, keyring reloads included, are reported as warnings, never with their messages.
      expect(r.stderr).to.not.include('injected fault');
      expect(r.stderr).to.not.include('hook fault');
      expect(r.stderr).to.include('reqauth: cannot reload');
    });
  }
});
