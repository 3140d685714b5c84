import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { startHarness, unary, tx, collect, Harness } from '../support/harness';

describe('smoke: honest calls of all four kinds', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(() => h.close());

  it('unary, server-streaming, client-streaming, bidi succeed', async () => {
    const c = h.client(h.credential('frontend', ['teller', 'auditor', 'importer']));
    const res = await unary(c.transfer.bind(c), { transaction: tx('t1') });
    expect(res).to.include({ id: 't1' });
    const listed = await collect(c.listTransactions({ account: 'acc-alice', limit: 0 }));
    expect(listed.error).to.equal(undefined);
    expect(listed.messages).to.have.length(1);
    const summary = await new Promise<any>((resolve, reject) => {
      const w = c.importTransactions((err, r) => (err ? reject(err) : resolve(r)));
      for (let i = 0; i < 3; i++) w.write({ transaction: tx(`i${i}`, 10) });
      w.end();
    });
    expect(summary).to.include({ imported: 3 });
    const results = await new Promise<any[]>((resolve, reject) => {
      const d = c.reconcile();
      const out: any[] = [];
      d.on('data', (m) => out.push(m));
      d.on('error', reject);
      d.on('end', () => resolve(out));
      for (const id of ['t1', 'i0', 'zz']) d.write({ transaction: tx(id, id === 't1' ? 100 : 10) });
      d.end();
    });
    expect(results.map((r) => r.matches)).to.deep.equal([true, true, false]);
    expect(h.calls).to.deep.equal(['Transfer', 'ListTransactions', 'ImportTransactions', 'Reconcile']);
    void grpc;
  });
});
