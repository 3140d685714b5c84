// A collector that is down, slow or answering errors never crashes or fails the example
// client or the demo: each runs as a child process exactly as `npm run example:client` and
// `npm run demo` run them (NodeSDK preloaded, Node's default fatal unhandled rejections),
// with the standard OTEL_* variables pointing at a loopback collector that misbehaves.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLedgerServer, RunningServer } from '../../examples/ledger/server';
import { credentialToJson, generateRootKeyring, issueCredential, keyringToJson, serviceKeyringFor } from '../../src';

const DIST = path.join(__dirname, '..', '..');
const PRELOAD = path.join(DIST, 'examples', 'otel-preload.js');

/** A collector on loopback that answers every request with `status`, or never answers. */
async function badCollector(behaviour: number | 'hang'): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    if (behaviour === 'hang') hanging.push(res);
    else req.on('end', () => res.writeHead(behaviour, { 'content-type': 'text/plain' }).end('collector says no'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A gRPC collector that serves nothing: every export is answered UNIMPLEMENTED. */
async function grpcCollector(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

function run(script: string, args: string[], otel: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || k === 'NODE_OPTIONS' || k === 'REQAUTH_AUDIT_DB') delete env[k];
  const child = spawn(process.execPath, ['--require', PRELOAD, script, ...args], { env: { ...env, ...otel }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

type Outcome = { code: number | null; stdout: string; stderr: string };

/**
 * Each scenario: a misbehaving collector, the OTEL_* variables pointing at it, and what the
 * collector saw. All run at once (each mostly waits on the network), then each test checks one.
 */
interface Scenario {
  readonly name: string;
  readonly protocol: string;
  collector(): Promise<{ url: string; requests?: () => number; close: () => Promise<void> }>;
  /** The exporter must have reached the collector (so the failure was real, not a misconfiguration). */
  readonly reached: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'the collector answers 500', protocol: 'http/protobuf', collector: () => badCollector(500), reached: true },
  { name: 'the collector answers 400', protocol: 'http/json', collector: () => badCollector(400), reached: true },
  { name: 'the collector accepts and never answers (the export timeout ends the wait)', protocol: 'http/protobuf', collector: () => badCollector('hang'), reached: true },
  { name: 'nothing listens at the endpoint', protocol: 'grpc', collector: async () => ({ url: await closedPort(), close: async () => undefined }), reached: false },
  { name: 'the collector answers every export with an error status (UNIMPLEMENTED)', protocol: 'grpc', collector: grpcCollector, reached: false },
];

describe('a collector that is down, slow or failing never fails the example client or the demo', function () {
  this.timeout(120_000);
  let dir: string;
  let server: RunningServer;
  const client = path.join(DIST, 'examples', 'ledger', 'client.js');
  const results = new Map<string, Promise<{ outcome: Outcome; requests: number }>>();
  let demo: Promise<{ outcome: Outcome; requests: number }>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'reqauth-collector-'));
    const ring = generateRootKeyring();
    writeFileSync(path.join(dir, 'service.json'), keyringToJson(serviceKeyringFor(ring, 'ledger')));
    writeFileSync(path.join(dir, 'frontend.json'), credentialToJson(issueCredential(ring, 'ledger', 'frontend', ['teller', 'auditor', 'importer'])));
    server = await startLedgerServer({ port: 0, keysPath: path.join(dir, 'service.json'), audience: 'ledger', audit: () => undefined });
    const target = `127.0.0.1:${server.port}`;
    for (const s of SCENARIOS) {
      results.set(
        `${s.protocol}: ${s.name}`,
        (async () => {
          const collector = await s.collector();
          try {
            const outcome = await run(
              client,
              ['--target', target, '--credentials', path.join(dir, 'frontend.json'), '--on-behalf-of', 'alice'],
              { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: s.protocol, OTEL_EXPORTER_OTLP_TIMEOUT: '1000' },
              // Killed past this: a flush at exit that the export timeout did not bound fails.
              45_000,
            );
            return { outcome, requests: collector.requests?.() ?? 0 };
          } finally {
            await collector.close();
          }
        })(),
      );
    }
    demo = (async () => {
      const collector = await badCollector(500);
      try {
        const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_TIMEOUT: '1000', OTEL_BSP_SCHEDULE_DELAY: '200' };
        return { outcome: await run(path.join(DIST, 'examples', 'demo.js'), [], env, 110_000), requests: collector.requests() };
      } finally {
        await collector.close();
      }
    })();
    // Rejections are observed by the tests below; do not let one go unhandled meanwhile.
    for (const p of [...results.values(), demo]) p.catch(() => undefined);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const s of SCENARIOS) {
    it(`example client, ${s.protocol}: ${s.name}`, async () => {
      const { outcome: r, requests } = await results.get(`${s.protocol}: ${s.name}`)!;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trim().split('\n')).to.have.length(5);
      for (const line of r.stdout.trim().split('\n')) expect(line).to.match(/^\w+\s+[\w-]+\s+OK\s/);
      expect(r.stderr).to.not.match(/Unhandled|triggerUncaughtException|at .*\(node:/);
      expect(r.stderr).to.include('telemetry not fully exported');
      if (s.reached) expect(requests, 'the exporter did reach the collector').to.be.greaterThan(0);
    });
  }

  it('the demo, its server storing the audit too, passes whole while the collector answers 500', async () => {
    const { outcome: r, requests } = await demo;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('honest client: all calls OK');
    expect(r.stdout).to.match(/attacks: (\d+)\/\1 as expected/);
    expect(requests, 'the processes did export').to.be.greaterThan(0);
  });
});
