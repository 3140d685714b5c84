// The same ledger service in each codegen style a grpc-js service is built with, behind
// reqauth on a real server on loopback: proto-loader (examples/ledger), ts-proto via
// `buf generate` (examples/ts-proto) and grpc-tools (examples/grpc-tools). In each, honest
// calls of every kind pass, a tampered call is refused before its handler, and the access
// declared in ledger.proto holds: the public Ping needs no credential, Transfer needs the
// teller role, CloseAccount (no rule) is refused to everyone.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reqauthClientOptions, ReqauthServer } from '../../interceptors';
import {
  AuditEvent,
  Caller,
  ClientCredential,
  generateRootKeyring,
  issueCredential,
  KeySource,
  Policy,
  policyFromDescriptorSet,
  policyFromServiceDefinition,
  ReqauthConfigError,
  staticKeySource,
} from '../../src';
import * as grpcTools from '../../examples/grpc-tools/client';
import { createLedgerServer as grpcToolsServer, ledgerHandlers as grpcToolsHandlers } from '../../examples/grpc-tools/server';
import { LedgerServiceService as GrpcToolsService } from '../../examples/grpc-tools/generated/ledger/v1/ledger_grpc_pb';
import * as grpcToolsPb from '../../examples/grpc-tools/generated/ledger/v1/ledger_pb';
import { tour as protoLoaderTour } from '../../examples/ledger/client';
import { LedgerService, LedgerServiceClient, REPO_ROOT } from '../../examples/ledger/definition';
import { createLedger } from '../../examples/ledger/service';
import * as tsProto from '../../examples/ts-proto/client';
import { createLedgerServer as tsProtoServer, DESCRIPTOR_SET, ledgerHandlers as tsProtoHandlers } from '../../examples/ts-proto/server';
import { LedgerServiceService as TsProtoService } from '../../examples/generated/ts-proto/ledger/v1/ledger';
import { attacker, flip } from '../support/attacker';

const AUDIENCE = 'ledger';
const SERVICE = 'ledger.v1.LedgerService';

/** What the test needs from one style: its server, and its client's calls. */
interface Style {
  readonly name: string;
  serve(keys: KeySource, onCall: (method: string) => void, audit: (e: AuditEvent) => void): grpc.Server;
  tour(target: string, credential: ClientCredential, user?: string): Promise<Record<string, grpc.status>>;
  transfer(target: string, credential: ClientCredential | undefined, below?: grpc.Interceptor[]): Promise<grpc.status>;
  ping(target: string): Promise<grpc.status>;
  closeAccount(target: string, credential: ClientCredential): Promise<grpc.status>;
}

const code = (resolve: (s: grpc.status) => void) => (err: grpc.ServiceError | null) => resolve(err ? err.code : grpc.status.OK);
const closing = <C extends grpc.Client>(client: C, run: (c: C) => Promise<grpc.status>) => run(client).finally(() => client.close());
const descriptorSet = () => readFileSync(DESCRIPTOR_SET);

const protoLoader: Style = {
  name: 'proto-loader',
  serve(keys, onCall, audit) {
    const auth = new ReqauthServer({ keys, policy: policyFromServiceDefinition(LedgerService.service), audit });
    const server = new grpc.Server({ interceptors: [auth.interceptor] });
    auth.addService(server, LedgerService.service, createLedger({ onCall }).handlers);
    return server;
  },
  async tour(target, credential, user) {
    const client = new LedgerService(target, grpc.credentials.createInsecure(), reqauthClientOptions({ credential })) as LedgerServiceClient;
    const outcomes = await protoLoaderTour(client, user).finally(() => client.close());
    return Object.fromEntries(outcomes.map((o) => [o.method, o.code]));
  },
  transfer(target, credential, below = []) {
    const options = credential ? reqauthClientOptions({ credential }) : { interceptors: [] };
    const client = new LedgerService(target, grpc.credentials.createInsecure(), { ...options, interceptors: [...options.interceptors!, ...below] }) as LedgerServiceClient;
    const transaction = { id: 'tx-1', fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: '100', memo: 'rent' };
    return closing(client, (c) => new Promise((resolve) => c.transfer({ transaction }, code(resolve))));
  },
  ping(target) {
    const client = new LedgerService(target, grpc.credentials.createInsecure()) as LedgerServiceClient;
    return closing(client, (c) => new Promise((resolve) => c.ping({}, code(resolve))));
  },
  closeAccount(target, credential) {
    const client = new LedgerService(target, grpc.credentials.createInsecure(), reqauthClientOptions({ credential })) as LedgerServiceClient;
    return closing(client, (c) => new Promise((resolve) => c.closeAccount({ account: 'acc-bob' }, code(resolve))));
  },
};

const tsProtoStyle: Style = {
  name: 'ts-proto (buf generate)',
  serve: (keys, onCall, audit) => tsProtoServer({ keys, descriptorSet: descriptorSet(), handlers: tsProtoHandlers(onCall), audit }),
  async tour(target, credential, user) {
    const client = tsProto.ledgerClient(target, credential);
    return tsProto.tour(client, user).finally(() => client.close());
  },
  transfer: (target, credential, below) =>
    closing(tsProto.ledgerClient(target, credential, below), (c) => new Promise((resolve) => c.transfer({ transaction: tsProto.tx('tx-1', 100) }, code(resolve)))),
  ping: (target) => closing(tsProto.ledgerClient(target, undefined), (c) => new Promise((resolve) => c.ping({}, code(resolve)))),
  closeAccount: (target, credential) =>
    closing(tsProto.ledgerClient(target, credential), (c) => new Promise((resolve) => c.closeAccount({ account: 'acc-bob' }, code(resolve)))),
};

const grpcToolsStyle: Style = {
  name: 'grpc-tools (committed generated code)',
  serve: (keys, onCall, audit) => grpcToolsServer({ keys, descriptorSet: descriptorSet(), handlers: grpcToolsHandlers(onCall), audit }),
  async tour(target, credential, user) {
    const client = grpcTools.ledgerClient(target, credential);
    return grpcTools.tour(client, user).finally(() => client.close());
  },
  transfer: (target, credential, below) =>
    closing(grpcTools.ledgerClient(target, credential, below), (c) =>
      new Promise((resolve) => c.transfer(new grpcToolsPb.TransferRequest().setTransaction(grpcTools.tx('tx-1', 100)), code(resolve))),
    ),
  ping: (target) => closing(grpcTools.ledgerClient(target, undefined), (c) => new Promise((resolve) => c.ping(new grpcToolsPb.PingRequest(), code(resolve)))),
  closeAccount: (target, credential) =>
    closing(grpcTools.ledgerClient(target, credential), (c) =>
      new Promise((resolve) => c.closeAccount(new grpcToolsPb.CloseAccountRequest().setAccount('acc-bob'), code(resolve))),
    ),
};

for (const style of [protoLoader, tsProtoStyle, grpcToolsStyle]) {
  describe(`codegen style ${style.name}: the ledger behind reqauth`, () => {
    const ring = generateRootKeyring();
    const teller = issueCredential(ring, AUDIENCE, 'frontend', ['teller', 'auditor', 'importer']);
    const auditor = issueCredential(ring, AUDIENCE, 'reporting', ['auditor']);
    let server: grpc.Server;
    let target: string;
    const calls: string[] = [];
    const audit: AuditEvent[] = [];

    before(async () => {
      server = style.serve(staticKeySource(ring, AUDIENCE), (m) => calls.push(m), (e) => audit.push(e));
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
      );
      target = `127.0.0.1:${port}`;
    });
    after(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    beforeEach(() => {
      calls.length = 0;
      audit.length = 0;
    });

    it('honest calls of every kind pass, each reaching its handler once, with the verified principal', async () => {
      const outcomes = await style.tour(target, teller, 'alice');
      expect(outcomes).to.deep.equal({
        Transfer: grpc.status.OK,
        GetBalance: grpc.status.OK,
        ListTransactions: grpc.status.OK,
        ImportTransactions: grpc.status.OK,
        Reconcile: grpc.status.OK,
      });
      expect(calls).to.deep.equal(['Transfer', 'GetBalance', 'ListTransactions', 'ImportTransactions', 'Reconcile']);
      expect(audit.map((e) => [e.decision, e.claims?.principal, e.claims?.onBehalfOf])).to.deep.equal(Array(5).fill(['allow', 'frontend', 'alice']));
    });

    it('a transfer whose bytes were changed in flight is refused before its handler', async () => {
      const tamper = attacker({ message: (f) => [flip(f.bytes, -1)] });
      expect(await style.transfer(target, teller, [tamper])).to.equal(grpc.status.UNAUTHENTICATED);
      expect(calls).to.deep.equal([]);
      expect(audit.map((e) => e.reason)).to.deep.equal(['bad_digest']);
    });

    it('the public Ping needs no credential', async () => {
      expect(await style.ping(target)).to.equal(grpc.status.OK);
      expect(calls).to.deep.equal(['Ping']);
    });

    it('Transfer is refused without the teller role, and unsigned', async () => {
      expect(await style.transfer(target, auditor)).to.equal(grpc.status.PERMISSION_DENIED);
      expect(await style.transfer(target, undefined)).to.equal(grpc.status.UNAUTHENTICATED);
      expect(calls).to.deep.equal([]);
      expect(audit.map((e) => e.reason)).to.deep.equal(['missing_role', 'missing_envelope']);
    });

    it('CloseAccount, declared without an access option, is refused to everyone', async () => {
      expect(await style.closeAccount(target, teller)).to.equal(grpc.status.PERMISSION_DENIED);
      expect(calls).to.deep.equal([]);
      expect(audit.map((e) => e.reason)).to.deep.equal(['no_rule']);
    });
  });
}

describe('access rules in each codegen style', () => {
  const callers: Caller[] = [
    { principal: 'frontend', roles: ['teller'] },
    { principal: 'reporting', roles: ['auditor'] },
    { principal: 'batch-importer', roles: [] },
    { principal: 'x', roles: ['importer'] },
    { principal: 'nobody', roles: [] },
  ];
  const methods = Object.values(LedgerService.service).map((m) => m.path);
  const decisions = (policy: Policy) => methods.map((m) => [m, policy.isPublic(m), callers.map((c) => (d => (d.ok ? 'allow' : d.reason))(policy.authorize(m, c)))]);

  it('definitions generated by ts-proto and grpc-tools carry no options: policyFromServiceDefinition refuses them, naming the way that works', () => {
    for (const definition of [TsProtoService, GrpcToolsService]) {
      expect(() => policyFromServiceDefinition(definition)).to.throw(ReqauthConfigError, /carries no method options.*policyFromDescriptorSet/);
    }
  });

  it("the descriptor set from `buf build -o` gives the same decisions as proto-loader's definition", () => {
    expect(decisions(policyFromDescriptorSet(readFileSync(DESCRIPTOR_SET), SERVICE))).to.deep.equal(decisions(policyFromServiceDefinition(LedgerService.service)));
  });

  it('so do the descriptor sets `protoc --descriptor_set_out` writes, with and without --include_imports', function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'reqauth-protoc-'));
    try {
      for (const flags of [['--include_imports'], []]) {
        const out = path.join(dir, `ledger${flags.length}.binpb`);
        const protoc = spawnSync('protoc', [...flags, `--descriptor_set_out=${out}`, '-I', path.join(REPO_ROOT, 'proto'), '-I', path.join(REPO_ROOT, 'examples', 'proto'), 'ledger/v1/ledger.proto'], { encoding: 'utf8' });
        expect(protoc.error, 'protoc (Debian protobuf-compiler, installed by scripts/install-test-deps.sh)').to.equal(undefined);
        expect(protoc.status, protoc.stderr).to.equal(0);
        expect(decisions(policyFromDescriptorSet(readFileSync(out), SERVICE))).to.deep.equal(decisions(policyFromServiceDefinition(LedgerService.service)));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a service the descriptor set lacks, or bytes that are no descriptor set, are configuration errors', () => {
    expect(() => policyFromDescriptorSet(readFileSync(DESCRIPTOR_SET), 'ledger.v1.LedgerServce')).to.throw(ReqauthConfigError, /no service ledger\.v1\.LedgerServce.*ledger\.v1\.LedgerService/);
    expect(() => policyFromDescriptorSet(Buffer.from('not a descriptor set'), SERVICE)).to.throw(ReqauthConfigError, /not a descriptor set/);
  });
});
