// The example ledger client with ts-proto's generated client, signing every call with
// reqauth. The lines marked "reqauth" are all that adopting it changes.
//
//   node dist/examples/ts-proto/client.js --target 127.0.0.1:50051 --credentials frontend.json [--on-behalf-of alice]
import * as grpc from '@grpc/grpc-js';
import { onBehalfOf, reqauthClientOptions } from '../../interceptors'; // reqauth: 'reqauth/grpc-js'
import { ClientCredential } from '../../src'; // reqauth: 'reqauth'
import { runCodegenClient } from '../codegen-client-main';
import { LedgerServiceClient, Transaction } from '../generated/ts-proto/ledger/v1/ledger';

export { LedgerServiceClient };

/** A client whose calls are signed; `below` adds interceptors nearer the wire (tests). */
export function ledgerClient(target: string, credential: ClientCredential | undefined, below: grpc.Interceptor[] = []): LedgerServiceClient {
  if (!credential) return new LedgerServiceClient(target, grpc.credentials.createInsecure(), below.length ? { interceptors: below } : {});
  const options = reqauthClientOptions({ credential }); // reqauth
  return new LedgerServiceClient(target, grpc.credentials.createInsecure(), { ...options, interceptors: [...options.interceptors!, ...below] }); // reqauth: was (target, credentials)
}

export const tx = (id: string, amount: number): Transaction => ({ id, fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: String(amount), memo: `payment ${id}`, attachment: Buffer.alloc(0) });

/** One call of each kind; resolves to each call's status code. */
export async function tour(client: LedgerServiceClient, user?: string): Promise<Record<string, grpc.status>> {
  const md = () => (user ? onBehalfOf(user) : new grpc.Metadata()); // reqauth: the user a call is made for
  const code = (err: grpc.ServiceError | null) => (err ? err.code : grpc.status.OK);
  const id = `tx-${process.pid}-${Date.now()}`;
  const out: Record<string, grpc.status> = {};
  out['Transfer'] = await new Promise((resolve) => client.transfer({ transaction: tx(id, 125) }, md(), (err) => resolve(code(err))));
  out['GetBalance'] = await new Promise((resolve) => client.getBalance({ account: 'acc-alice' }, md(), (err) => resolve(code(err))));
  out['ListTransactions'] = await new Promise((resolve) => {
    const s = client.listTransactions({ account: 'acc-alice', limit: 10 }, md());
    s.on('data', () => undefined);
    s.on('error', (err: grpc.ServiceError) => resolve(err.code));
    s.on('end', () => resolve(grpc.status.OK));
  });
  out['ImportTransactions'] = await new Promise((resolve) => {
    const w = client.importTransactions(md(), (err) => resolve(code(err)));
    for (let i = 0; i < 3; i++) w.write({ transaction: tx(`${id}-import-${i}`, 10 + i) });
    w.end();
  });
  out['Reconcile'] = await new Promise((resolve) => {
    const d = client.reconcile(md());
    d.on('data', () => undefined);
    d.on('error', (err: grpc.ServiceError) => resolve(err.code));
    d.on('end', () => resolve(grpc.status.OK));
    d.write({ transaction: tx(id, 125) });
    d.end();
  });
  return out;
}

if (require.main === module) {
  runCodegenClient('ts-proto', async (target, credential, user) => {
    const client = ledgerClient(target, credential);
    try {
      return await tour(client, user);
    } finally {
      client.close();
    }
  });
}
