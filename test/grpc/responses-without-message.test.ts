// Spec §13.4: a verified OK that brings a single-response call (unary, client-streaming) no
// message is `malformed_response` (INTERNAL), with nothing handed on — not a "verified" call
// that grpc-js then fails on its own. Only a server holding the call key can send one: here a
// server whose GetBalance is (wrongly) a response stream signs an OK of zero messages.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { LedgerService } from '../../examples/ledger/definition';
import { createLedger } from '../../examples/ledger/service';
import { ReqauthServer, reqauthClientOptions } from '../../interceptors';
import { generateRootKeyring, issueCredential, policyFromServiceDefinition, ResponseAuditEvent, staticKeySource } from '../../src';
import { failure, unary } from '../support/harness';

describe('signed responses: a verified OK without the one message of a unary call (spec §13.4)', () => {
  it('is malformed_response, INTERNAL, and the application receives no message', async () => {
    const ring = generateRootKeyring();
    const definition = LedgerService.service as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;
    const streaming = { ...definition, GetBalance: { ...definition['GetBalance']!, responseStream: true } } as unknown as grpc.ServiceDefinition;
    const auth = new ReqauthServer({ keys: staticKeySource(ring, 'ledger'), policy: policyFromServiceDefinition(LedgerService.service), signResponses: true });
    const server = new grpc.Server({ interceptors: [auth.interceptor] });
    const calls: string[] = [];
    auth.addService(server, streaming, { ...createLedger().handlers, GetBalance: (call: grpc.ServerWritableStream<unknown, unknown>) => (calls.push('GetBalance'), call.end()) });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const verdicts: ResponseAuditEvent[] = [];
    const credential = issueCredential(ring, 'ledger', 'teller-app', ['teller']);
    const client = new LedgerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), reqauthClientOptions({ credential, requireSignedResponses: true, audit: (e) => verdicts.push(e) }));
    try {
      let received = 0;
      const err = await failure(unary((req, md, opts, cb) => client.getBalance(req, md, opts, (e, res) => (res !== undefined && received++, cb(e, res))), { account: 'acc-alice' }));
      expect(err.code).to.equal(grpc.status.INTERNAL);
      expect(received).to.equal(0);
      expect(calls).to.deep.equal(['GetBalance']);
      expect(verdicts.map((v) => [v.verdict, v.reason])).to.deep.equal([['refused', 'malformed_response']]);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
