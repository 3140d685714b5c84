// A real redis-server for tests (Debian's package; `npm test` installs it through
// scripts/install-test-deps.sh): on a free loopback port, no persistence, and the faults the
// replay store must survive — kill, restart empty, pause (SIGSTOP), flush.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createClient } from 'redis';

export const REDIS_SERVER = process.env['REDIS_SERVER'] ?? 'redis-server';

export function haveRedisServer(): boolean {
  return spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Skips the suite with a message when redis-server is missing (npm test installs it). */
export function requireRedisServer(ctx: Mocha.Context): void {
  if (haveRedisServer()) return;
  console.log(`      skipped: ${REDIS_SERVER} not found (apt-get install -y redis-server; npm test installs it)`);
  ctx.skip();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. ['--maxmemory', '2mb']. */
  args?: string[];
  /** Serve TLS only on the port, with these PEM files. */
  tls?: { cert: string; key: string; ca: string };
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (or `rediss://` with TLS). */
  readonly url: string;
  readonly pid: number | undefined;
  /** Starts it again, empty, on the same port. */
  start(): Promise<void>;
  /** SIGKILL, and wait for the exit: its data is gone. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  /** One command on a short-lived connection (not for a TLS or password-protected server). */
  command(...args: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-redis-'));
  const tls = options.tls;
  const args = [
    '--bind', '127.0.0.1',
    ...(tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'] : ['--port', String(port)]),
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--protected-mode', 'no',
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          proc.stdout!.off('data', onData);
          proc.stdout!.resume();
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${out}`));
      });
    });
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  const server: RedisServer = {
    port,
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    start,
    kill,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async command(...cmd: string[]) {
      const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
      c.on('error', () => undefined);
      await c.connect();
      try {
        return await c.sendCommand(cmd);
      } finally {
        c.destroy();
      }
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
