// What the hardening review found, each over a real grpc-js server on loopback (issue 8):
// public handlers never see reqauth's metadata, half an installation fails closed, a
// cancelled stream is audited as cancelled, and a flooding principal cannot make another
// principal's fresh requests fail.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerService } from '../../examples/ledger/definition';
import { createLedger } from '../../examples/ledger/service';
import { reqauthClientOptions, ReqauthServer } from '../../interceptors';
import {
  AuditEvent,
  credentialToJson,
  CredentialFile,
  ENVELOPE_KEY,
  issueCredential,
  rotateRootKeyring,
  generateRootKeyring,
  keyringToJson,
  KeyringFile,
  MemoryReplayStore,
  policyFromServiceDefinition,
  ReqauthConfigError,
  RequestSigner,
  staticKeySource,
} from '../../src';
import { AUDIENCE, failure, startHarness, tx, unary } from '../support/harness';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a public method\'s handler never sees reqauth\'s metadata (spec §4)', () => {
  it('the envelope a signing client sends is removed before the public handler runs', async () => {
    const ring = generateRootKeyring();
    const auth = new ReqauthServer({ keys: staticKeySource(ring, AUDIENCE), policy: policyFromServiceDefinition(LedgerService.service) });
    const server = new grpc.Server({ interceptors: [auth.interceptor] });
    const seen: string[][] = [];
    const ledger = createLedger();
    auth.addService(server, LedgerService.service, {
      ...ledger.handlers,
      Ping(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
        seen.push(Object.keys(call.metadata.getMap()));
        callback(null, {});
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const h = await startHarness({ ring }); // for its client factory only
    try {
      const c = new LedgerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), reqauthClientOptions({ credential: h.credential('frontend', ['teller']) }));
      await unary(c.ping.bind(c), {});
      c.close();
      expect(seen).to.have.length(1);
      expect(seen[0]).to.not.include(ENVELOPE_KEY);
    } finally {
      await h.close();
      server.forceShutdown();
    }
  });
});

describe('half an installation fails closed (issue 8 item 7)', () => {
  const ring = generateRootKeyring();
  const newAuth = (audit?: (e: AuditEvent) => void) =>
    new ReqauthServer({ keys: staticKeySource(ring, AUDIENCE), policy: policyFromServiceDefinition(LedgerService.service), ...(audit ? { audit } : {}) });

  it('auth.addService on a server created without auth.interceptor throws at start-up', () => {
    const auth = newAuth();
    expect(() => auth.addService(new grpc.Server(), LedgerService.service, createLedger().handlers)).to.throw(ReqauthConfigError, /auth\.interceptor/);
    expect(() => auth.addService(new grpc.Server({ interceptors: [newAuth().interceptor] }), LedgerService.service, createLedger().handlers)).to.throw(ReqauthConfigError);
  });

  it('handlers added through reqauth refuse every call the interceptor did not pass (interceptor_missing), public ones included', async () => {
    const audit: AuditEvent[] = [];
    const auth = newAuth((e) => audit.push(e));
    const server = new grpc.Server({ interceptors: [auth.interceptor] });
    const calls: string[] = [];
    auth.addService(server, LedgerService.service, createLedger({ onCall: (m) => calls.push(m) }).handlers);
    // What the start-up check cannot see (a grpc-js that keeps its interceptors elsewhere):
    (server as unknown as { interceptors: unknown[] }).interceptors = [];
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const c = new LedgerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      for (const call of [() => unary(c.transfer.bind(c), { transaction: tx('no-interceptor') }), () => unary(c.ping.bind(c), {})]) {
        const err = await failure(call());
        expect(err.code).to.equal(grpc.status.INTERNAL);
        expect(err.details).to.equal('internal error');
      }
      const stream = c.listTransactions({ account: 'acc-alice' });
      const streamErr = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve).on('data', () => undefined));
      expect(streamErr.code).to.equal(grpc.status.INTERNAL);
      c.close();
      await delay(10);
      expect(calls).to.deep.equal([]);
      expect(audit.map((e) => e.reason)).to.deep.equal(['interceptor_missing', 'interceptor_missing', 'interceptor_missing']);
      expect(warnings.filter((w) => w.includes('auth.interceptor'))).to.have.length(1); // said once
    } finally {
      process.off('warning', onWarning);
      server.forceShutdown();
    }
  });

  it('a client whose interceptors replaced reqauth\'s fails the call locally, saying why', async () => {
    const h = await startHarness();
    try {
      const options = reqauthClientOptions({ credential: h.credential('frontend', ['teller']) });
      const noop: grpc.Interceptor = (o, next) => new grpc.InterceptingCall(next(o));
      const c = new LedgerService(h.target, grpc.credentials.createInsecure(), { ...options, interceptors: [noop] });
      const err = await failure(unary(c.transfer.bind(c), { transaction: tx('replaced') }));
      expect(err.details).to.match(/reqauth: this call was not signed/);
      c.close();
      expect(h.calls).to.deep.equal([]);
    } finally {
      await h.close();
    }
  });

  it('interceptors passed per call are composed with reqauth\'s: the call is signed and succeeds', async () => {
    const h = await startHarness();
    try {
      const c = h.client(h.credential('frontend', ['teller']));
      let ran = 0;
      const counting: grpc.Interceptor = (o, next) => {
        ran++;
        return new grpc.InterceptingCall(next(o));
      };
      const res = await unary(c.transfer.bind(c), { transaction: tx('per-call') }, new grpc.Metadata(), { interceptors: [counting] });
      expect(res).to.include({ id: 'per-call' });
      expect(ran).to.equal(1);
      expect(h.calls).to.deep.equal(['Transfer']);
    } finally {
      await h.close();
    }
  });

  it('a keyring file that fails to reload is reported by default: a warning naming the file, never its content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reqauth-reload-'));
    const file = join(dir, 'ring.json');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      writeFileSync(file, keyringToJson(generateRootKeyring()));
      const keys = new KeyringFile(file, { audience: AUDIENCE, pollIntervalMs: 10 });
      writeFileSync(file, '{"format": "reqauth-root-keyring/v1", "keys": "SECRET-LOOKING-CONTENT"');
      for (let i = 0; i < 100 && warnings.length === 0; i++) await delay(10);
      keys.close();
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include(file).and.to.include('keyring: not valid JSON');
      expect(warnings[0]).to.not.include('SECRET-LOOKING-CONTENT');
    } finally {
      process.off('warning', onWarning);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a cancelled request stream is audited as cancelled, not truncated (spec §5.2)', () => {
  it('client cancel and deadline: reason cancelled; the handler never sees the end', async () => {
    const h = await startHarness();
    try {
      const c = h.client(h.credential('importer', ['importer']));
      const cancelled = new Promise<grpc.ServiceError | null>((resolve) => {
        const w = c.importTransactions((err) => resolve(err));
        w.write({ transaction: tx('cancel-1') }, () => setTimeout(() => w.cancel(), 20));
      });
      expect((await cancelled)?.code).to.equal(grpc.status.CANCELLED);
      const deadlined = new Promise<grpc.ServiceError | null>((resolve) => {
        const w = c.importTransactions(new grpc.Metadata(), { deadline: Date.now() + 150 }, (err) => resolve(err));
        w.write({ transaction: tx('deadline-1') });
      });
      expect((await deadlined)?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
      await delay(50);
      const reasons = h.audit.filter((e) => e.decision === 'deny').map((e) => e.reason);
      expect(reasons).to.deep.equal(['cancelled', 'cancelled']);
      expect(h.streamEvents.filter((e) => e.kind === 'end')).to.deep.equal([]);
    } finally {
      await h.close();
    }
  });
});

describe('one principal cannot deny service to others through the replay store (issue 8 item 3)', function () {
  this.timeout(60_000);

  it('a flooding principal, permitted or not, dated +29 s, never makes an honest principal\'s fresh request fail', async () => {
    const store = new MemoryReplayStore({ maxEntries: 300, maxEntriesPerPrincipal: 100 });
    const h = await startHarness({ server: { replayStore: store } });
    try {
      const ahead = (principal: string, roles: string[]) => new RequestSigner(h.credential(principal, roles), { now: () => Date.now() + 29_000 });
      const flooders = [h.client(ahead('flood-permitted', ['teller'])), h.client(ahead('flood-unpermitted', ['nobody']))];
      const honest = [h.client(h.credential('honest-1', ['teller'])), h.client(h.credential('honest-2', ['teller']))];
      const outcomes = { floodOk: 0, floodDenied: 0, honestOk: 0, honestFailed: [] as string[] };
      let next = 0;
      const one = async () => {
        const i = next++;
        const flooder = flooders[i % 2]!;
        try {
          await unary(flooder.getBalance.bind(flooder), { account: 'acc-alice' });
          outcomes.floodOk++;
        } catch {
          outcomes.floodDenied++;
        }
        if (i % 10 === 0) {
          const c = honest[(i / 10) % 2]!;
          try {
            await unary(c.getBalance.bind(c), { account: 'acc-alice' });
            outcomes.honestOk++;
          } catch (err) {
            outcomes.honestFailed.push((err as grpc.ServiceError).details);
          }
        }
      };
      const workers = Array.from({ length: 16 }, async () => {
        while (next < 2_000) await one();
      });
      await Promise.all(workers);
      expect(outcomes.honestFailed).to.deep.equal([]);
      expect(outcomes.honestOk).to.equal(200);
      expect(outcomes.floodOk).to.equal(1_000); // the permitted flooder's own requests keep passing too
      expect(outcomes.floodDenied).to.equal(1_000); // missing_role, decided before the store
      expect(store.size).to.be.at.most(300);
      const unpermittedInStore = h.audit.filter((e) => e.claims?.principal === 'flood-unpermitted' && e.reason !== 'missing_role');
      expect(unpermittedInStore).to.deep.equal([]);
      expect(h.calls.filter((m) => m === 'GetBalance')).to.have.length(1_200);
    } finally {
      await h.close();
    }
  });
});

describe('a client credential file is reloaded without a restart (issue 11 item 7)', () => {
  it('a credential reissued under a rotated key signs the next call; a file for another principal is refused', async () => {
    const ring = generateRootKeyring();
    const rotated = rotateRootKeyring(ring);
    const h = await startHarness({ ring: rotated });
    const dir = mkdtempSync(join(tmpdir(), 'reqauth-cred-'));
    const file = join(dir, 'frontend.json');
    const errors: string[] = [];
    try {
      writeFileSync(file, credentialToJson(issueCredential(ring, AUDIENCE, 'frontend', ['teller'])));
      const credential = new CredentialFile(file, { pollIntervalMs: 10, onError: (e) => errors.push(e.message) });
      const c = new LedgerService(h.target, grpc.credentials.createInsecure(), reqauthClientOptions({ credential }));
      await unary(c.getBalance.bind(c), { account: 'acc-alice' });
      writeFileSync(file, credentialToJson(issueCredential(rotated, AUDIENCE, 'frontend', ['teller'])));
      for (let i = 0; i < 100 && credential.current().keyId !== rotated.keys[0]!.keyId; i++) await delay(10);
      await unary(c.getBalance.bind(c), { account: 'acc-alice' });
      writeFileSync(file, credentialToJson(issueCredential(rotated, AUDIENCE, 'mallory', ['teller'])));
      for (let i = 0; i < 100 && errors.length === 0; i++) await delay(10);
      await unary(c.getBalance.bind(c), { account: 'acc-alice' });
      credential.close();
      c.close();
      const allowed = h.audit.filter((e) => e.decision === 'allow').map((e) => [e.claims?.principal, e.claims?.keyId]);
      expect(allowed).to.deep.equal([
        ['frontend', ring.keys[0]!.keyId],
        ['frontend', rotated.keys[0]!.keyId],
        ['frontend', rotated.keys[0]!.keyId],
      ]);
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include('keeping the previous credential');
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
