// The three services of the delegation example, in one process, each on its own loopback
// port behind its own reqauth server:
//
//   tokens   (audience tokens)   TokenService: users, macaroons, MFA discharges, grants
//   frontend (audience frontend) ShopService.PayBill: pays a user's bill via the ledger
//   ledger   (audience ledger)   the LedgerService of examples/ledger, unchanged
//
// Request keys: one root keyring; each service verifies with its own service keyring
// (serviceKeyringFor: it never holds the root secret) and each client credential is issued
// from the root with issueCredential. Macaroon root keys: one macaroon keyring, whose active
// key the token service mints with and whose keys every service verifies with.
import * as grpc from '@grpc/grpc-js';
import { ReqauthServer, reqauthClientOptions } from '../../interceptors';
import {
  AuditEvent,
  Claims,
  ClientCredential,
  generateMacaroonKeyring,
  generateRootKeyring,
  issueCredential,
  MacaroonKeyring,
  macaroonAcceptance,
  macaroonKeys,
  policyFromServiceDefinition,
  RootKeyring,
  serviceKeyringFor,
  staticKeySource,
} from '../../src';
import { LedgerService, LedgerServiceClient } from '../ledger/definition';
import { createLedger, Ledger } from '../ledger/service';
import { AUDIENCES, PRINCIPALS, ShopService, ShopServiceClient, TokenService, TokenServiceClient } from './definition';
import { createFrontend } from './frontend';
import { createTokenService, TokenServiceImpl } from './token-service';

/** What one running service exposes to the demo and the tests. */
export interface RunningService {
  readonly name: string;
  readonly target: string;
  /** Every reqauth decision of this service's server, in order. */
  readonly audit: AuditEvent[];
  /** Handler invocations, in order: the method and the verified claims. */
  readonly calls: { method: string; claims: Claims | undefined }[];
}

export interface DelegationExample {
  readonly tokens: RunningService & { readonly impl: TokenServiceImpl };
  readonly frontend: RunningService;
  readonly ledger: RunningService & { readonly ledger: Ledger };
  readonly rootKeyring: RootKeyring;
  readonly macaroonKeyring: MacaroonKeyring;
  /** A credential from the root keyring (what `reqauth derive --principal` would write). */
  credential(audience: string, principal: string, roles?: string[]): ClientCredential;
  /** Clients of each service, signing with the given credential; closed by close(). */
  tokensClient(credential: ClientCredential): TokenServiceClient;
  shopClient(credential: ClientCredential): ShopServiceClient;
  ledgerClient(credential: ClientCredential): LedgerServiceClient;
  close(): Promise<void>;
}

export interface DelegationExampleOptions {
  host?: string;
  /** Extra audit hook, e.g. for printing; called after recording. */
  onAudit?: (service: string, event: AuditEvent) => void;
}

export async function startDelegationExample(options: DelegationExampleOptions = {}): Promise<DelegationExample> {
  const host = options.host ?? '127.0.0.1';
  const rootKeyring = generateRootKeyring();
  const macaroonKeyring = generateMacaroonKeyring();
  const servers: grpc.Server[] = [];
  const clients: grpc.Client[] = [];
  const credential = (audience: string, principal: string, roles: string[] = []) => issueCredential(rootKeyring, audience, principal, roles);
  const channel = grpc.credentials.createInsecure();

  /** One service: its own reqauth server, verifying with its service keyring and the macaroon keys. */
  async function serve<D extends grpc.ServiceDefinition>(
    name: string,
    audience: string,
    definition: D,
    impl: (record: RunningService['calls']) => grpc.UntypedServiceImplementation,
  ): Promise<RunningService> {
    const audit: AuditEvent[] = [];
    const calls: RunningService['calls'] = [];
    const auth = new ReqauthServer({
      keys: staticKeySource(serviceKeyringFor(rootKeyring, audience), audience),
      policy: policyFromServiceDefinition(definition),
      macaroons: macaroonAcceptance({ keys: macaroonKeys(macaroonKeyring) }),
      audit: (e) => {
        audit.push(e);
        options.onAudit?.(name, e);
      },
    });
    const server = new grpc.Server({ interceptors: [auth.interceptor] });
    auth.addService(server, definition, impl(calls));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    servers.push(server);
    return { name, target: `${host}:${port}`, audit, calls };
  }

  const tokensClient = (c: ClientCredential) => remember(new TokenService(tokensService.target, channel, reqauthClientOptions({ credential: c })));
  const shopClient = (c: ClientCredential) => remember(new ShopService(frontendService.target, channel, reqauthClientOptions({ credential: c })));
  const ledgerClient = (c: ClientCredential) => remember(new LedgerService(ledgerService.target, channel, reqauthClientOptions({ credential: c })));
  const remember = <C extends grpc.Client>(c: C): C => (clients.push(c), c);

  // The backend: the example ledger, its handlers unchanged.
  let ledger: Ledger | undefined;
  const ledgerService = await serve('ledger', AUDIENCES.ledger, LedgerService.service, (calls) => {
    ledger = createLedger({ onCall: (method) => calls.push({ method, claims: undefined }) });
    return ledger.handlers as unknown as grpc.UntypedServiceImplementation;
  });

  let tokenImpl: TokenServiceImpl | undefined;
  const tokensService = await serve('tokens', AUDIENCES.tokens, TokenService.service, (calls) => {
    tokenImpl = createTokenService({ macaroonRing: macaroonKeyring, onCall: (method, claims) => calls.push({ method, claims }) });
    return tokenImpl.handlers as unknown as grpc.UntypedServiceImplementation;
  });

  const frontendService = await serve('frontend', AUDIENCES.frontend, ShopService.service, (calls) =>
    createFrontend({
      tokens: tokensClient(credential(AUDIENCES.tokens, PRINCIPALS.frontend)),
      ledger: ledgerClient(credential(AUDIENCES.ledger, PRINCIPALS.frontend, ['teller'])),
      onCall: (method, claims) => calls.push({ method, claims }),
    }).handlers as unknown as grpc.UntypedServiceImplementation,
  );

  return {
    tokens: { ...tokensService, impl: tokenImpl! },
    frontend: frontendService,
    ledger: { ...ledgerService, ledger: ledger! },
    rootKeyring,
    macaroonKeyring,
    credential,
    tokensClient,
    shopClient,
    ledgerClient,
    async close() {
      for (const c of clients) c.close();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
    },
  };
}
