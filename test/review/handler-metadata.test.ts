// Review finding (fixed): reqauth removed only `reqauth-envelope-bin` from the metadata a handler saw.
// Anyone on the path (or any client) can add `reqauth-on-behalf-of` — the very key reqauth's
// client binding uses for the user (interceptors/client.ts `onBehalfOf`), which an honest
// reqauth client never sends (it moves it into the envelope). A verified call then reaches the
// handler with claims saying one user and metadata, under reqauth's own key name, saying
// another: a handler that reads the metadata key it knows from the client side acts for the
// attacker's user. Spec §4: handlers see no reqauth metadata they could mistake for verified.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { LedgerService } from '../../examples/ledger/definition';
import { getClaims, onBehalfOf, ReqauthServer, reqauthClientOptions } from '../../interceptors';
import { generateRootKeyring, issueCredential, ON_BEHALF_OF_KEY, policyFromServiceDefinition, staticKeySource } from '../../src';
import { attacker } from '../support/attacker';
import { unary } from '../support/harness';

describe('review: no reqauth- metadata key reaches a handler, even one a man in the middle added', () => {
  const ring = generateRootKeyring();
  const seen: { claimsUser: string | undefined; metadataUser: grpc.MetadataValue[] }[] = [];
  let server: grpc.Server;
  let target: string;

  before(async () => {
    const auth = new ReqauthServer({ keys: staticKeySource(ring, 'ledger'), policy: policyFromServiceDefinition(LedgerService.service) });
    server = new grpc.Server({ interceptors: [auth.interceptor] });
    auth.addService(server, LedgerService.service, {
      GetBalance(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
        seen.push({ claimsUser: getClaims(call)?.onBehalfOf, metadataUser: call.metadata.get(ON_BEHALF_OF_KEY) });
        callback(null, { account: 'acc-alice', balance: '1' });
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    target = `127.0.0.1:${port}`;
  });
  after(() => new Promise<void>((r) => server.tryShutdown(() => r())));

  it('control: an honest client\'s reqauth-on-behalf-of goes into the envelope and not into the handler\'s metadata', async () => {
    const client = new LedgerService(target, grpc.credentials.createInsecure(), reqauthClientOptions({ credential: issueCredential(ring, 'ledger', 'frontdesk', ['teller']) }));
    await unary(client.getBalance.bind(client), { account: 'acc-alice' }, onBehalfOf('alice'));
    client.close();
    expect(seen.at(-1)).to.deep.equal({ claimsUser: 'alice', metadataUser: [] });
  });

  it('an on-path attacker adds reqauth-on-behalf-of: mallory; the handler must not see it beside claims saying alice', async () => {
    const options = reqauthClientOptions({ credential: issueCredential(ring, 'ledger', 'frontdesk', ['teller']) });
    const mitm = attacker({ start: (md) => md.add(ON_BEHALF_OF_KEY, 'mallory') });
    const client = new LedgerService(target, grpc.credentials.createInsecure(), { ...options, interceptors: [...options.interceptors!, mitm] });
    await unary(client.getBalance.bind(client), { account: 'acc-alice' }, onBehalfOf('alice'));
    client.close();
    expect(seen.at(-1)!.claimsUser).to.equal('alice');
    // Removed: the handler's claims are the envelope's, and no reqauth- key is left to contradict them.
    expect(seen.at(-1)!.metadataUser).to.deep.equal([]);
  });
});
