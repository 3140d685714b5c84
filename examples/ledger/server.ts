// The example ledger server behind reqauth.
//
//   npm run example:server -- --port 50051 --keys root.json --audience ledger [--macaroon-keys macaroons.json]
//                             [--replay-store memory|redis://HOST:PORT|rediss://…]
//
// Several replicas of one service share a replay store (README, "Running several replicas"):
// start each with the same --replay-store redis://… and a request replayed against any of them
// is refused. The default, memory, remembers nonces in this process only.
// --keys takes a root keyring or a service keyring (`reqauth derive --audience A --out F`,
// the recommended form: the server then never holds the root secret). The file is watched:
// rotations and revocations apply without a restart. Decisions are printed one per line
// (`--audit-json` prints them as JSON lines); reason codes are for operators, never secrets.
// What a request supplied (claims, the method path) is printed escaped (../printable.ts).
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { ReqauthServer } from '../../interceptors';
import {
  AuditEvent,
  KeyringFile,
  macaroonAcceptance,
  macaroonKeys,
  parseMacaroonKeyring,
  policyFromServiceDefinition,
  RedisReplayStore,
  ReplayStore,
  WatchedFile,
} from '../../src';
import { printable, printableJson } from '../../cli/printable';
import { LedgerService } from './definition';
import { createLedger } from './service';

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startLedgerServer(options: {
  port: number;
  host?: string;
  keysPath: string;
  /** A macaroon keyring (reqauth-macaroon-keyring/v1), to accept users' macaroons. */
  macaroonKeysPath?: string;
  audience: string;
  audit: (event: AuditEvent) => void;
  onKeyringError?: (err: Error) => void;
  onKeyringReload?: () => void;
  /** Default: a MemoryReplayStore in this process. */
  replayStore?: ReplayStore;
  maxAgeMs?: number;
  maxFutureMs?: number;
}): Promise<RunningServer> {
  const keys = new KeyringFile(options.keysPath, {
    audience: options.audience,
    pollIntervalMs: 200,
    ...(options.onKeyringError ? { onError: options.onKeyringError } : {}),
    ...(options.onKeyringReload ? { onReload: options.onKeyringReload } : {}),
  });
  const macaroonFile = options.macaroonKeysPath
    ? new WatchedFile(options.macaroonKeysPath, (text) => macaroonKeys(parseMacaroonKeyring(text)), {
        pollIntervalMs: 200,
        ...(options.onKeyringError ? { onError: options.onKeyringError } : {}),
      })
    : undefined;
  const auth = new ReqauthServer({
    keys,
    policy: policyFromServiceDefinition(LedgerService.service),
    audit: options.audit,
    ...(macaroonFile ? { macaroons: macaroonAcceptance({ keys: macaroonFile }) } : {}),
    ...(options.replayStore ? { replayStore: options.replayStore } : {}),
    ...(options.maxAgeMs !== undefined ? { maxAgeMs: options.maxAgeMs } : {}),
    ...(options.maxFutureMs !== undefined ? { maxFutureMs: options.maxFutureMs } : {}),
  });
  const server = new grpc.Server({ interceptors: [auth.interceptor] });
  auth.addService(server, LedgerService.service, createLedger().handlers);
  const address = `${options.host ?? '127.0.0.1'}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        keys.close();
        macaroonFile?.close();
        server.tryShutdown(() => resolve());
      }),
  };
}

/** One line per decision. Claims and the method path come from the request: printed escaped. */
export function formatAudit(e: AuditEvent): string {
  const user = e.claims?.onBehalfOf ? ` for ${printable(e.claims.onBehalfOf)}${e.claims.userVerified ? ' (proven)' : ''}` : '';
  const who = e.claims ? `${printable(e.claims.principal)}${user} [${e.claims.roles.map(printable).join(',')}]` : '(unauthenticated)';
  return `${e.decision === 'allow' ? 'ALLOW' : 'DENY '} ${printable(e.method)} ${who}${e.reason ? ` reason=${e.reason}` : ''}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '50051' },
      host: { type: 'string', default: '127.0.0.1' },
      keys: { type: 'string' },
      'macaroon-keys': { type: 'string' },
      audience: { type: 'string', default: 'ledger' },
      'audit-json': { type: 'boolean', default: false },
      'replay-store': { type: 'string', default: 'memory' },
      'replay-timeout-ms': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.keys) {
    console.error('usage: example:server -- --port N --keys root.json|service.json --audience A [--macaroon-keys F] [--audit-json] [--replay-store memory|redis://HOST:PORT [--replay-timeout-ms N]] [--quiet]');
    process.exit(2);
  }
  const json = values['audit-json'];
  const timeout = values['replay-timeout-ms'] === undefined ? undefined : Number(values['replay-timeout-ms']);
  const replayStore = replayStoreFromArg(values['replay-store'], values.audience, timeout);
  const server = await startLedgerServer({
    port: Number(values.port),
    host: values.host,
    keysPath: values.keys,
    ...(values['macaroon-keys'] ? { macaroonKeysPath: values['macaroon-keys'] } : {}),
    audience: values.audience,
    ...(replayStore ? { replayStore } : {}),
    // --quiet: no line per decision (a load test would measure the terminal).
    audit: values.quiet ? () => undefined : (e) => console.log(json ? printableJson(e) : formatAudit(e)),
    onKeyringError: (err) => console.error(`keyring reload failed, keeping previous keys: ${err.message}`),
    onKeyringReload: () => console.error('keyring reloaded'),
  });
  // Say "listening" once the shared store answers; if it does not, serve anyway: calls are
  // refused (UNAVAILABLE) until it does, and the store reconnects by itself.
  if (replayStore && !(await replayStore.ready())) console.error(`replay store ${values['replay-store']} not reachable yet: calls are refused until it is`);
  console.error(`ledger server (audience ${values.audience}, replay store ${replayStore ? 'redis' : 'memory'}) listening on ${values.host}:${server.port}`);
  const stop = () => void server.close().then(() => replayStore?.close()).then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** `memory` (undefined: the default store) or a redis:// or rediss:// URL. */
export function replayStoreFromArg(arg: string, audience: string, timeoutMs?: number): RedisReplayStore | undefined {
  if (arg === 'memory') return undefined;
  if (!/^rediss?:\/\//.test(arg)) throw new Error(`--replay-store: memory, redis://HOST:PORT or rediss://HOST:PORT, not ${JSON.stringify(arg)}`);
  return new RedisReplayStore({ audience, url: arg, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
