// A real grpc-js server on loopback running the example ledger behind reqauth, and clients
// for it. Every test asserts on the handler call log, so "the handler never ran" is checked.
import * as grpc from '@grpc/grpc-js';
import { LedgerService, LedgerServiceClient } from '../../examples/ledger/definition';
import { createLedger, Ledger } from '../../examples/ledger/service';
import { ReqauthServer, ReqauthServerOptions, reqauthClientOptions, ReqauthClientOptions } from '../../interceptors';
import {
  AuditEvent,
  ClientCredential,
  generateRootKeyring,
  issueCredential,
  policyFromServiceDefinition,
  RequestSigner,
  RootKeyring,
  staticKeySource,
} from '../../src';

export const AUDIENCE = 'ledger';

export interface Harness {
  readonly port: number;
  readonly target: string;
  readonly ring: RootKeyring;
  readonly ledger: Ledger;
  readonly auth: ReqauthServer;
  /** Handler invocations, in order. */
  readonly calls: string[];
  readonly audit: AuditEvent[];
  /** What the request-streaming handlers saw, in order: each delivered message and 'end'. */
  readonly streamEvents: StreamEvent[];
  credential(principal: string, roles: string[], audience?: string): ClientCredential;
  /**
   * `interceptors` are appended after reqauth's interceptor (closer to the wire), so they see
   * the signed metadata and the exact bytes (test/support/attacker.ts).
   */
  client(
    credential: ClientCredential | RequestSigner | undefined,
    options?: Partial<ReqauthClientOptions> & {
      channel?: grpc.ChannelCredentials;
      channelOptions?: grpc.ClientOptions;
      interceptors?: grpc.Interceptor[];
      /** Another address than the server's (a proxy in front of it). */
      target?: string;
    },
  ): LedgerServiceClient;
  close(): Promise<void>;
}

/** One event a request-streaming handler (ImportTransactions, Reconcile) observed. */
export interface StreamEvent {
  readonly method: string;
  readonly kind: 'data' | 'end';
  /** For 'data': the transaction id of the delivered message. */
  readonly id?: string;
}

export interface HarnessOptions {
  ring?: RootKeyring;
  server?: Partial<ReqauthServerOptions>;
  serverCredentials?: grpc.ServerCredentials;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ring = options.ring ?? generateRootKeyring();
  const calls: string[] = [];
  const audit: AuditEvent[] = [];
  const streamEvents: StreamEvent[] = [];
  const ledger = createLedger({ onCall: (method) => calls.push(method) });
  const auth = new ReqauthServer({
    keys: staticKeySource(ring, AUDIENCE),
    policy: policyFromServiceDefinition(LedgerService.service),
    audit: (e) => audit.push(e),
    ...options.server,
  });
  const server = new grpc.Server({ interceptors: [auth.interceptor] });
  auth.addService(server, LedgerService.service, observeRequestStreams(ledger.handlers, streamEvents));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', options.serverCredentials ?? grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const target = `127.0.0.1:${port}`;
  const clients: grpc.Client[] = [];
  return {
    port,
    target,
    ring,
    ledger,
    auth,
    calls,
    audit,
    streamEvents,
    credential: (principal, roles, audience = AUDIENCE) => issueCredential(ring, audience, principal, roles),
    client(credential, opts = {}) {
      const { channel, channelOptions, interceptors, target: via, ...clientOpts } = opts;
      const reqauth = credential ? reqauthClientOptions({ credential, ...clientOpts }) : {};
      const c = new LedgerService(via ?? target, channel ?? grpc.credentials.createInsecure(), {
        ...channelOptions,
        ...reqauth,
        ...(interceptors ? { interceptors: [...(reqauth.interceptors ?? []), ...interceptors] } : {}),
      });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/**
 * The handlers, with the request-streaming ones observed: every message they are given and
 * their 'end' go to `events` (listeners added before the handler's own; behaviour unchanged).
 */
function observeRequestStreams(handlers: Ledger['handlers'], events: StreamEvent[]): Ledger['handlers'] {
  const observe = <C extends NodeJS.EventEmitter, R extends unknown[]>(method: string, handler: (call: C, ...rest: R) => void) =>
    (call: C, ...rest: R) => {
      call.on('data', (m: { transaction?: { id?: string } | null }) => events.push({ method, kind: 'data', id: m?.transaction?.id ?? '' }));
      call.on('end', () => events.push({ method, kind: 'end' }));
      handler(call, ...rest);
    };
  return {
    ...handlers,
    ImportTransactions: observe('ImportTransactions', handlers.ImportTransactions),
    Reconcile: observe('Reconcile', handlers.Reconcile),
  };
}

/** Promise wrapper for a unary call; resolves to the response or rejects with the ServiceError. */
export function unary<Req, Res>(
  fn: (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
  md: grpc.Metadata = new grpc.Metadata(),
  opts: grpc.CallOptions = {},
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, md, opts, (err, res) => (err ? reject(err) : resolve(res as Res))));
}

/** Resolves to the error a call ended with, or throws if it succeeded. */
export async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

export function tx(id: string, amount = 100, attachment?: Buffer) {
  return { id, fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: String(amount), memo: `tx ${id}`, attachment };
}

/** Collects a server stream: its messages, then its final status. */
export function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<{ messages: T[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    stream.on('data', (m: T) => messages.push(m));
    stream.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    stream.on('end', () => resolve({ messages }));
  });
}
