// A policy whose rules name no method is a configuration error (spec §7): a misspelled
// method fails when its service is added; a rule for a service never added refuses every
// call, says why once, and never reaches a handler.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { LedgerService, LedgerServiceClient } from '../../examples/ledger/definition';
import { createLedger } from '../../examples/ledger/service';
import { reqauthClientOptions, ReqauthServer } from '../../interceptors';
import { AuditEvent, generateRootKeyring, issueCredential, Policy, policyFromServiceDefinition, ReqauthConfigError, staticKeySource } from '../../src';

const ring = generateRootKeyring();
const keys = staticKeySource(ring, 'ledger');
const teller = issueCredential(ring, 'ledger', 'frontend', ['teller']);
const transaction = { id: 't', fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: '1' };

async function serve(policy: Policy, onConfigError?: (err: ReqauthConfigError) => void) {
  const calls: string[] = [];
  const audit: AuditEvent[] = [];
  const auth = new ReqauthServer({ keys, policy, audit: (e) => audit.push(e), ...(onConfigError ? { onConfigError } : {}) });
  const server = new grpc.Server({ interceptors: [auth.interceptor] });
  auth.addService(server, LedgerService.service, createLedger({ onCall: (m) => calls.push(m) }).handlers);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const client = new LedgerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), reqauthClientOptions({ credential: teller })) as LedgerServiceClient;
  const call = (run: (done: (err: grpc.ServiceError | null) => void) => void) => new Promise<grpc.status>((resolve) => run((err) => resolve(err ? err.code : grpc.status.OK)));
  return {
    calls,
    audit,
    transfer: () => call((done) => client.transfer({ transaction }, done)),
    ping: () => call((done) => client.ping({}, done)),
    close: () => new Promise<void>((resolve) => (client.close(), server.tryShutdown(() => resolve()))),
  };
}

describe('ReqauthServer checks the policy against the services it serves', () => {
  it('a rule naming a method the added service lacks throws at addService', () => {
    const policy = policyFromServiceDefinition(LedgerService.service).merge(new Policy({ '/ledger.v1.LedgerService/Transfr': { roles: ['auditor'] } }));
    const auth = new ReqauthServer({ keys, policy });
    const server = new grpc.Server({ interceptors: [auth.interceptor] });
    expect(() => auth.addService(server, LedgerService.service, {})).to.throw(ReqauthConfigError, /did you mean \/ledger\.v1\.LedgerService\/Transfer/);
  });

  it('a rule for a service never added: every call is refused (INTERNAL, misconfigured), the reason is reported once, no handler runs', async () => {
    const reports: ReqauthConfigError[] = [];
    const policy = policyFromServiceDefinition(LedgerService.service).merge(new Policy({ '/ledger.v1.LedgerServce/*': { roles: ['teller'] } }));
    const s = await serve(policy, (err) => reports.push(err));
    try {
      expect(await s.transfer()).to.equal(grpc.status.INTERNAL);
      expect(await s.ping()).to.equal(grpc.status.INTERNAL);
      expect(await s.transfer()).to.equal(grpc.status.INTERNAL);
      expect(s.calls).to.deep.equal([]);
      expect(s.audit.map((e) => [e.decision, e.reason])).to.deep.equal(Array(3).fill(['deny', 'misconfigured']));
      expect(reports).to.have.length(1);
      expect(reports[0]!.message).to.match(/\/ledger\.v1\.LedgerServce\/\*: no service ledger\.v1\.LedgerServce here \(did you mean ledger\.v1\.LedgerService\?\)/);
    } finally {
      await s.close();
    }
  });

  it('a reporter that throws changes nothing: still refused, the server carries on', async () => {
    const policy = policyFromServiceDefinition(LedgerService.service).merge(new Policy({ '/other.v1.Other/Do': { roles: ['teller'] } }));
    const s = await serve(policy, () => {
      throw new Error('reporter fault');
    });
    try {
      expect(await s.transfer()).to.equal(grpc.status.INTERNAL);
      expect(await s.transfer()).to.equal(grpc.status.INTERNAL);
      expect(s.calls).to.deep.equal([]);
    } finally {
      await s.close();
    }
  });

  it('public rules may name services added without reqauth (health checks): calls go on as usual', async () => {
    const reports: ReqauthConfigError[] = [];
    const policy = policyFromServiceDefinition(LedgerService.service).merge(new Policy({ '/grpc.health.v1.Health/*': { public: true } }));
    const s = await serve(policy, (err) => reports.push(err));
    try {
      expect(await s.transfer()).to.equal(grpc.status.OK);
      expect(await s.ping()).to.equal(grpc.status.OK);
      expect(s.calls).to.deep.equal(['Transfer', 'Ping']);
      expect(reports).to.deep.equal([]);
    } finally {
      await s.close();
    }
  });
});
