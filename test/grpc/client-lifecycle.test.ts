// The client side of reqauth across a call's life: cancellation, deadlines, concurrency, and
// adopting the server's clock after a clock refusal (spec §6.4).
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { ClientCredential, decodeEnvelope, ENVELOPE_KEY, MAC_BYTES, RequestSigner, SERVER_TIME_KEY } from '../../src';
import { recorder } from '../support/attacker';
import { Harness, startHarness, tx, unary } from '../support/harness';
import { delay, expectRefused, nextId, outcome, since, SINGLE_KINDS } from './refusal';

/** Resolves with the status a streaming call ends with, or rejects after `ms` (a hang). */
function statusOf(call: grpc.ClientDuplexStream<unknown, unknown> | grpc.ClientReadableStream<unknown>, ms: number): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no status within ${ms} ms`)), ms);
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => {
      clearTimeout(timer);
      resolve(err);
    });
    call.on('end', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

describe('grpc client lifecycle', () => {
  let h: Harness;
  let cred: ClientCredential;

  before(async () => {
    h = await startHarness();
    cred = h.credential('life-app', ['auditor', 'importer', 'teller']);
  });
  after(() => h.close());

  describe('cancellation reaches the caller', () => {
    it('a bidi call cancelled before any message ends CANCELLED, without hanging', async () => {
      const s = since(h);
      const d = h.client(cred).reconcile();
      const ended = statusOf(d, 2000);
      d.cancel();
      expect((await ended)?.code).to.equal(grpc.status.CANCELLED);
      await delay(30);
      expect(s.events('Reconcile').filter((e) => e.kind === 'end'), "the handler saw 'end'").to.deep.equal([]);
    });

    it('a server-streaming call cancelled mid-stream ends CANCELLED, short of the full stream', async () => {
      const c = h.client(cred);
      // 40 rows of 64 KiB: more than HTTP/2 flow control lets the server send before the
      // client reads, so the stream is still running when the client cancels.
      const attachment = Buffer.alloc(64 * 1024, 1);
      const imported = await new Promise<unknown>((resolve, reject) => {
        const w = c.importTransactions((err, res) => (err ? reject(err) : resolve(res)));
        for (let i = 0; i < 40; i++) w.write({ transaction: { ...tx(nextId('big'), 1, attachment), fromAccount: 'acc-big', toAccount: 'acc-sink' } });
        w.end();
      });
      expect(imported).to.include({ imported: 40 });
      const stream = c.listTransactions({ account: 'acc-big', limit: 0 });
      let received = 0;
      const ended = new Promise<grpc.ServiceError | undefined>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no status within 3 s')), 3000);
        stream.on('data', () => {
          if (++received === 1) stream.cancel();
        });
        stream.on('error', (err: grpc.ServiceError) => (clearTimeout(timer), resolve(err)));
        stream.on('end', () => (clearTimeout(timer), resolve(undefined)));
      });
      expect((await ended)?.code).to.equal(grpc.status.CANCELLED);
      expect(received).to.be.within(1, 39);
      // The server is fine afterwards.
      expect(await SINGLE_KINDS[1]!.run(c)).to.equal(undefined);
    });
  });

  describe('deadlines are honoured', () => {
    it('a bidi call that never sends ends DEADLINE_EXCEEDED at its 200 ms deadline', async () => {
      const s = since(h);
      const started = Date.now();
      const d = h.client(cred).reconcile({ deadline: Date.now() + 200 });
      const err = await statusOf(d, 3000);
      expect(err?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).to.be.within(150, 2000);
      await delay(30);
      expect(s.events('Reconcile'), 'what the handler saw').to.deep.equal([]);
    });

    it('a unary call whose deadline has already passed ends DEADLINE_EXCEEDED and never reaches the handler', async () => {
      const s = since(h);
      const c = h.client(cred);
      const err = await outcome(unary(c.transfer.bind(c), { transaction: tx(nextId()) }, new grpc.Metadata(), { deadline: Date.now() - 1000 }));
      expect(err?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
      await delay(30);
      expect(s.calls()).to.deep.equal([]);
    });
  });

  describe('concurrent calls each carry their own nonce', () => {
    it('200 concurrent unary calls all succeed, with 200 distinct nonces and no replay refusal', async () => {
      const rec = recorder();
      const c = h.client(cred, { interceptors: [rec.interceptor] });
      const s = since(h);
      const results = await Promise.all(Array.from({ length: 200 }, () => SINGLE_KINDS[1]!.run(c)));
      expect(results.filter((r) => r !== undefined)).to.deep.equal([]);
      expect(s.calls()).to.have.length(200);
      expect(s.audit().filter((e) => e.decision !== 'allow')).to.deep.equal([]);
      const nonces = rec.calls.map((call) => {
        const decoded = decodeEnvelope((call.metadata.get(ENVELOPE_KEY)[0] as Buffer).subarray(0, -MAC_BYTES));
        if (!decoded.ok) throw new Error(decoded.reason);
        return Buffer.from(decoded.envelope.nonce).toString('hex');
      });
      expect(new Set(nonces).size).to.equal(200);
    });
  });

  describe('trustServerTime adopts the server clock from a clock refusal', () => {
    const BEHIND = 10 * 60_000;
    let ahead: Harness; // its clock runs 10 minutes ahead: every client is 10 minutes behind it

    before(async () => {
      ahead = await startHarness({ server: { now: () => Date.now() + BEHIND } });
    });
    after(() => ahead.close());

    /** One call, refused as expired, carrying the server's time (its clock: now + shift). */
    async function expired(h2: Harness, c: ReturnType<Harness['client']>, shift = BEHIND) {
      const s = since(h2);
      const err = await SINGLE_KINDS[1]!.run(c);
      expectRefused(s, err, 'expired', 'GetBalance');
      expect(Number(err!.metadata.get(SERVER_TIME_KEY)[0])).to.be.closeTo(Date.now() + shift, 5_000);
    }

    it('a client 10 minutes behind is refused once with the server time; with trustServerTime its next call succeeds', async () => {
      const c = ahead.client(ahead.credential('life-app', ['auditor']), { trustServerTime: true });
      await expired(ahead, c);
      expect(await SINGLE_KINDS[1]!.run(c)).to.equal(undefined);
      expect(await SINGLE_KINDS[2]!.run(c), 'and the ones after').to.equal(undefined);
    });

    it('without trustServerTime, a client 10 minutes behind keeps failing', async () => {
      const c = ahead.client(ahead.credential('life-app', ['auditor']));
      await expired(ahead, c);
      await expired(ahead, c);
    });

    // BUG (interceptors/client.ts clockListener): the offset is computed against Date.now()
    // rather than the signer's own clock (RequestSignerOptions.now), so a signer running on
    // an injected clock adopts the wrong offset and keeps being refused.
    it('a signer whose own clock (RequestSigner now) is 10 minutes behind: with trustServerTime its next call succeeds', async () => {
      const signer = new RequestSigner(h.credential('life-app', ['auditor']), { now: () => Date.now() - BEHIND });
      const c = h.client(cred, { credential: signer, trustServerTime: true });
      await expired(h, c, 0);
      expect(await SINGLE_KINDS[1]!.run(c), 'the call after the clock refusal').to.equal(undefined);
    });
  });

  describe('request streams honour the same lifecycle', () => {
    it('a client-streaming call cancelled after one message ends CANCELLED and its handler never sees end', async () => {
      const s = since(h);
      const c = h.client(cred);
      const ended = new Promise<grpc.ServiceError | null>((resolve) => {
        const w = c.importTransactions((err) => resolve(err));
        w.write({ transaction: tx(nextId('c'), 1) }, () => setTimeout(() => w.cancel(), 20));
      });
      expect((await ended)?.code).to.equal(grpc.status.CANCELLED);
      await delay(30);
      expect(s.events('ImportTransactions').filter((e) => e.kind === 'end')).to.deep.equal([]);
    });
  });
});
