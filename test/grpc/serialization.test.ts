// Messages are serialized once (interceptors/client.ts): reqauth's interceptor serializes to
// sign or tag the exact bytes, and the invocation transformer makes the bottom of the chain
// pass those bytes through rather than serialize the message a second time.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { LedgerService } from '../../examples/ledger/definition';
import { reqauthClientOptions } from '../../interceptors';
import { ClientCredential } from '../../src';
import { Harness, startHarness, tx } from '../support/harness';
import { nextId, since } from './refusal';

type Method = grpc.MethodDefinition<unknown, unknown> & { originalName?: string };

describe('grpc: each request message is serialized exactly once', () => {
  let h: Harness;
  let cred: ClientCredential;
  const counts: Record<string, number> = {};
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let c: any;

  before(async () => {
    h = await startHarness();
    cred = h.credential('ser-app', ['auditor', 'importer', 'teller']);
    // The ledger's service definition with every request serializer counting its calls.
    const counted: Record<string, Method> = {};
    for (const [name, m] of Object.entries(LedgerService.service as unknown as Record<string, Method>)) {
      counted[name] = {
        ...m,
        requestSerialize: (value: unknown) => {
          counts[name] = (counts[name] ?? 0) + 1;
          return m.requestSerialize(value);
        },
      };
    }
    const Client = grpc.makeGenericClientConstructor(counted, 'LedgerService');
    c = new Client(h.target, grpc.credentials.createInsecure(), reqauthClientOptions({ credential: cred }));
  });
  after(() => {
    c.close();
    return h.close();
  });

  beforeEach(() => {
    for (const k of Object.keys(counts)) delete counts[k];
  });

  it('a unary call serializes its message once', async () => {
    const s = since(h);
    const res = await new Promise((resolve, reject) => c.Transfer({ transaction: tx(nextId()) }, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))));
    expect(res).to.have.property('id');
    expect(counts).to.deep.equal({ Transfer: 1 });
    expect(s.calls()).to.deep.equal(['Transfer']);
  });

  it('a server-streaming call serializes its message once', async () => {
    await new Promise<void>((resolve, reject) => {
      const stream = c.ListTransactions({ account: 'acc-alice', limit: 0 });
      stream.on('data', () => undefined);
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    expect(counts).to.deep.equal({ ListTransactions: 1 });
  });

  it('a client stream of 3 messages serializes each once (the end marker is not a message)', async () => {
    const res = await new Promise((resolve, reject) => {
      const w = c.ImportTransactions((err: Error | null, r: unknown) => (err ? reject(err) : resolve(r)));
      for (let i = 0; i < 3; i++) w.write({ transaction: tx(nextId('x'), 5) });
      w.end();
    });
    expect(res).to.include({ imported: 3, totalAmount: '15' });
    expect(counts).to.deep.equal({ ImportTransactions: 3 });
  });

  it('a bidi stream of 3 messages serializes each once', async () => {
    const replies = await new Promise<unknown[]>((resolve, reject) => {
      const d = c.Reconcile();
      const out: unknown[] = [];
      d.on('data', (m: unknown) => out.push(m));
      d.on('error', reject);
      d.on('end', () => resolve(out));
      for (let i = 0; i < 3; i++) d.write({ transaction: tx(nextId('y'), 5) });
      d.end();
    });
    expect(replies).to.have.length(3);
    expect(counts).to.deep.equal({ Reconcile: 3 });
  });
});
