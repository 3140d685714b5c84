// reqauth over mTLS (spec §1): the channel is the deployment's choice and is neither used nor
// touched. Requests verify over mTLS as over plaintext, and a perfectly good mTLS channel
// carrying a corrupted or replayed request does not make it verify.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { ClientCredential } from '../../src';
import { attacker, flip, rawUnary, recorder } from '../support/attacker';
import { Harness, startHarness, unary } from '../support/harness';
import { makePki, Pki } from '../support/tls';
import { expectRefused, nextId, outcome, SERVICE, since, SINGLE_KINDS, STREAM_KINDS } from './refusal';

describe('grpc over mTLS', () => {
  let pki: Pki;
  let h: Harness;
  let cred: ClientCredential;

  before(async () => {
    pki = makePki();
    h = await startHarness({ serverCredentials: pki.serverCredentials() });
    cred = h.credential('tls-app', ['auditor', 'importer', 'teller']);
  });
  after(() => h.close());

  describe('the channel really is mTLS (control)', () => {
    it('a plaintext client cannot reach the server', async () => {
      const c = h.client(cred, { channelOptions: { 'grpc.max_reconnect_backoff_ms': 100 } as grpc.ClientOptions });
      const err = await outcome(unary(c.getBalance.bind(c), { account: 'acc-alice' }, new grpc.Metadata(), { deadline: Date.now() + 1500 }));
      expect(err?.code).to.be.oneOf([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
    });
    it('a TLS client without a client certificate cannot reach the server', async () => {
      const s = since(h);
      const c = h.client(cred, { channel: pki.channel(true) });
      const err = await outcome(unary(c.getBalance.bind(c), { account: 'acc-alice' }, new grpc.Metadata(), { deadline: Date.now() + 1500 }));
      expect(err?.code).to.be.oneOf([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
      expect(s.calls()).to.deep.equal([]);
      expect(s.audit()).to.deep.equal([]); // turned away by TLS, before reqauth
    });
  });

  describe('requests verify over mTLS as over plaintext', () => {
    it('unary, server-streaming, client-streaming and bidi calls succeed', async () => {
      const c = h.client(cred, { channel: pki.channel() });
      const s = since(h);
      for (const k of SINGLE_KINDS) expect(await k.run(c), k.label).to.equal(undefined);
      const imported = await STREAM_KINDS[0]!.run(c, [nextId('m'), nextId('m'), nextId('m')]);
      expect(imported.error).to.equal(undefined);
      expect(imported.summary).to.include({ imported: 3 });
      const sent = [nextId('m'), nextId('m'), nextId('m')];
      const reconciled = await STREAM_KINDS[1]!.run(c, sent);
      expect(reconciled.error).to.equal(undefined);
      expect(reconciled.replies.map((r) => r.id)).to.deep.equal(sent);
      expect(s.calls()).to.deep.equal(['Transfer', 'GetBalance', 'ListTransactions', 'ImportTransactions', 'Reconcile']);
      expect(s.audit().map((e) => `${e.decision} ${e.claims?.principal}`)).to.deep.equal(Array(5).fill('allow tls-app'));
    });
  });

  describe('a good mTLS channel does not make a bad request good', () => {
    it('a changed message byte over mTLS is refused (bad_digest)', async () => {
      for (const k of SINGLE_KINDS) {
        const s = since(h);
        const c = h.client(cred, { channel: pki.channel(), interceptors: [attacker({ message: (f) => [flip(f.bytes, -1)] })] });
        expectRefused(s, await k.run(c), 'bad_digest', k.method);
      }
    });

    it('a changed request-stream message over mTLS is refused (bad_stream_tag)', async () => {
      for (const k of STREAM_KINDS) {
        const s = since(h);
        const c = h.client(cred, { channel: pki.channel(), interceptors: [attacker({ message: (f) => [f.index === 1 ? flip(f.bytes, 2) : f.bytes] })] });
        const result = await k.run(c, [nextId('m'), nextId('m'), nextId('m')]);
        expectRefused(s, result.error, 'bad_stream_tag', k.method, { handlerStarted: true });
      }
    });

    it('a request replayed over a fresh mTLS connection is refused (replayed_nonce)', async () => {
      const rec = recorder();
      const c = h.client(cred, { channel: pki.channel(), interceptors: [rec.interceptor] });
      expect(await SINGLE_KINDS[1]!.run(c)).to.equal(undefined);
      const [call] = rec.calls;
      const s = since(h);
      // The replayer holds a valid client certificate: the channel admits it, reqauth does not.
      const err = await outcome(rawUnary(h.target, SERVICE + 'GetBalance', call!.metadata, call!.frames[0]!, pki.channel()));
      expectRefused(s, err, 'replayed_nonce', 'GetBalance');
    });
  });
});
