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
  credential(principal: string, roles: string[], audience?: string): ClientCredential;
  client(credential: ClientCredential | undefined, options?: Partial<ReqauthClientOptions> & { channel?: grpc.ChannelCredentials; channelOptions?: grpc.ClientOptions }): LedgerServiceClient;
  close(): Promise<void>;
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
  const ledger = createLedger({ onCall: (method) => calls.push(method) });
  const auth = new ReqauthServer({
    keys: staticKeySource(ring, AUDIENCE),
    policy: policyFromServiceDefinition(LedgerService.service),
    audit: (e) => audit.push(e),
    ...options.server,
  });
  const server = new grpc.Server({ interceptors: [auth.interceptor] });
  server.addService(auth.wrapService(LedgerService.service), ledger.handlers);
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
    credential: (principal, roles, audience = AUDIENCE) => issueCredential(ring, audience, principal, roles),
    client(credential, opts = {}) {
      const { channel, channelOptions, ...clientOpts } = opts;
      const c = new LedgerService(target, channel ?? grpc.credentials.createInsecure(), {
        ...channelOptions,
        ...(credential ? reqauthClientOptions({ credential, ...clientOpts }) : {}),
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
