// The example ledger client: one call of each kind, each streaming call with three
// messages; prints each call's method and status, exits non-zero if any failed.
//
//   npm run example:client -- --target 127.0.0.1:50051 --credentials cred.json [--on-behalf-of alice]
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { onBehalfOf, reqauthClientOptions } from '../../interceptors';
import { parseCredential, signedResponseMethods } from '../../src';
import { LedgerService, LedgerServiceClient } from './definition';

export interface CallOutcome {
  readonly method: string;
  readonly kind: 'unary' | 'server-streaming' | 'client-streaming' | 'bidi';
  readonly code: grpc.status;
  readonly detail: string;
}

const tx = (id: string, amount: number) => ({ id, fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: String(amount), memo: `payment ${id}` });

/** Runs the tour of the ledger's call kinds against `client`. */
export async function tour(client: LedgerServiceClient, user?: string): Promise<CallOutcome[]> {
  const md = () => (user ? onBehalfOf(user) : new grpc.Metadata());
  const outcomes: CallOutcome[] = [];
  const settle = async (method: string, kind: CallOutcome['kind'], run: () => Promise<string>) => {
    try {
      outcomes.push({ method, kind, code: grpc.status.OK, detail: await run() });
    } catch (err) {
      const e = err as grpc.ServiceError;
      outcomes.push({ method, kind, code: e.code ?? grpc.status.UNKNOWN, detail: e.details ?? String(err) });
    }
  };
  const id = `tx-${process.pid}-${Date.now()}`;

  await settle('Transfer', 'unary', () =>
    new Promise((resolve, reject) =>
      client.transfer({ transaction: tx(id, 125) }, md(), (err, res) => (err ? reject(err) : resolve(`balance ${res!.fromBalance} -> ${res!.toBalance}`))),
    ),
  );
  await settle('GetBalance', 'unary', () =>
    new Promise((resolve, reject) =>
      client.getBalance({ account: 'acc-alice' }, md(), (err, res) => (err ? reject(err) : resolve(`acc-alice ${res!.balance}`))),
    ),
  );
  await settle('ListTransactions', 'server-streaming', () =>
    new Promise((resolve, reject) => {
      let n = 0;
      const s = client.listTransactions({ account: 'acc-alice', limit: 10 }, md());
      s.on('data', () => n++);
      s.on('error', reject);
      s.on('end', () => resolve(`${n} transaction(s)`));
    }),
  );
  await settle('ImportTransactions', 'client-streaming', () =>
    new Promise((resolve, reject) => {
      const w = client.importTransactions(md(), (err, res) => (err ? reject(err) : resolve(`imported ${res!.imported}, total ${res!.totalAmount}`)));
      for (let i = 0; i < 3; i++) w.write({ transaction: tx(`${id}-import-${i}`, 10 + i) });
      w.end();
    }),
  );
  await settle('Reconcile', 'bidi', () =>
    new Promise((resolve, reject) => {
      const results: boolean[] = [];
      const d = client.reconcile(md());
      d.on('data', (r: { matches: boolean }) => results.push(r.matches));
      d.on('error', reject);
      d.on('end', () => resolve(`matches ${results.join(',')}`));
      d.write({ transaction: tx(id, 125) });
      d.write({ transaction: tx(`${id}-import-0`, 10) });
      d.write({ transaction: tx('unknown', 1) });
      d.end();
    }),
  );
  return outcomes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: '127.0.0.1:50051' },
      credentials: { type: 'string' },
      'on-behalf-of': { type: 'string' },
    },
  });
  if (!values.credentials) {
    console.error('usage: example:client -- --target HOST:PORT --credentials cred.json [--on-behalf-of USER]');
    process.exit(2);
  }
  const credential = parseCredential(readFileSync(values.credentials, 'utf8'));
  // Responses the .proto says are signed (sign_responses) must verify, or the call fails.
  const requireSignedResponses = signedResponseMethods(LedgerService.service);
  const client = new LedgerService(values.target, grpc.credentials.createInsecure(), reqauthClientOptions({ credential, requireSignedResponses })) as LedgerServiceClient;
  const outcomes = await tour(client, values['on-behalf-of']);
  client.close();
  for (const o of outcomes) {
    console.log(`${o.method.padEnd(20)} ${o.kind.padEnd(17)} ${grpc.status[o.code]}${o.code === grpc.status.OK ? `  ${o.detail}` : `  (${o.detail})`}`);
  }
  process.exitCode = outcomes.every((o) => o.code === grpc.status.OK) ? 0 : 1;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
