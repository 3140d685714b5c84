// Signed responses (spec §13) over a real grpc-js server, all four call kinds, through a real
// HTTP/2 man in the middle (test/support/mitm-proxy.ts) that rewrites response DATA frames and
// trailers. A client that requires signed responses must detect every change — a flipped
// byte, a dropped, reordered, duplicated or injected message, a stream cut short, a status
// replaced, a response replayed from another call — and its application must receive nothing
// that did not verify: what the application's handlers got is asserted against the server's
// genuine response, and the handler's call count is asserted on every call.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { LedgerService, LedgerServiceClient } from '../../examples/ledger/definition';
import { createLedger } from '../../examples/ledger/service';
import { reqauthClientInterceptor, reqauthClientOptions, ReqauthServer } from '../../interceptors';
import {
  AuditEvent,
  ClientCredential,
  ENVELOPE_KEY,
  Policy,
  policyFromServiceDefinition,
  ReasonCode,
  ReqauthConfigError,
  RESPONSE_KEY,
  ResponseAuditEvent,
  signedResponseMethods,
  staticKeySource,
  TRAILER_BYTES,
} from '../../src';
import { attacker, flip, rawUnary, recorder } from '../support/attacker';
import { Harness, startHarness, tx, unary } from '../support/harness';
import { endFields, Fields, MitmProxy, RecordedResponse, ResponsePlan, startMitmProxy } from '../support/mitm-proxy';
import { nextId, SERVICE, Since, since } from './refusal';

const DATA_LOSS = grpc.status.DATA_LOSS;
const RESPONSE_FAILED = 'response authentication failed';
const STATEMENT_ACCOUNT = 'acc-statement';

/** What one call gave the application. */
interface Outcome {
  readonly error: grpc.ServiceError | undefined;
  /** The response values the application's callback or 'data' handler received, in order. */
  readonly received: unknown[];
  /** How many times the call emitted 'metadata' to the application. */
  readonly metadataEvents: number;
}

type Method = 'GetBalance' | 'ListTransactions' | 'ImportTransactions' | 'Reconcile';

interface ResponseKind {
  readonly method: Method;
  readonly label: string;
  /** Response messages an honest call gets. */
  readonly responses: number;
  /** Unary and client-streaming: one response, which the application gets only with the status. */
  readonly single: boolean;
  run(c: LedgerServiceClient, md?: grpc.Metadata): Promise<Outcome>;
}

function settle<T extends grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>>(
  call: T,
  received: unknown[],
  counter: { n: number },
): Promise<Outcome> {
  call.on('metadata', () => counter.n++);
  call.on('data', (m: unknown) => received.push(m));
  return new Promise((resolve) => {
    call.on('error', (error: grpc.ServiceError) => resolve({ error, received, metadataEvents: counter.n }));
    call.on('end', () => resolve({ error: undefined, received, metadataEvents: counter.n }));
  });
}

const KINDS: readonly ResponseKind[] = [
  {
    method: 'GetBalance',
    label: 'unary GetBalance',
    responses: 1,
    single: true,
    run: (c, md = new grpc.Metadata()) =>
      new Promise((resolve) => {
        const counter = { n: 0 };
        const call = c.getBalance({ account: 'acc-alice' }, md, (error, res) =>
          resolve({ error: error ?? undefined, received: error ? [] : [res], metadataEvents: counter.n }),
        );
        call.on('metadata', () => counter.n++);
      }),
  },
  {
    method: 'ListTransactions',
    label: 'server-streaming ListTransactions',
    responses: 3,
    single: false,
    run: (c, md = new grpc.Metadata()) => settle(c.listTransactions({ account: STATEMENT_ACCOUNT, limit: 3 }, md), [], { n: 0 }),
  },
  {
    method: 'ImportTransactions',
    label: 'client-streaming ImportTransactions',
    responses: 1,
    single: true,
    run: (c, md = new grpc.Metadata()) =>
      new Promise((resolve) => {
        const counter = { n: 0 };
        const w = c.importTransactions(md, (error, res) => resolve({ error: error ?? undefined, received: error ? [] : [res], metadataEvents: counter.n }));
        w.on('metadata', () => counter.n++);
        w.write({ transaction: tx(nextId('imp'), 10) });
        w.write({ transaction: tx(nextId('imp'), 20) });
        w.end();
      }),
  },
  {
    method: 'Reconcile',
    label: 'bidi Reconcile',
    responses: 3,
    single: false,
    run: (c, md = new grpc.Metadata()) => {
      const d = c.reconcile(md);
      const out = settle(d, [], { n: 0 });
      for (let i = 0; i < 3; i++) d.write({ transaction: tx(nextId('rec'), 10) });
      d.end();
      return out;
    },
  },
];

/** A statement of three transactions, for the server stream (oldest first: a stable prefix). */
async function seedStatement(h: Harness): Promise<void> {
  const seed = h.client(h.credential('seeder', ['teller']));
  for (let i = 0; i < 3; i++) await unary(seed.transfer.bind(seed), { transaction: { ...tx(nextId('seed'), 1 + i), toAccount: STATEMENT_ACCOUNT } });
}

/** The server's genuine response messages of a recorded call, decoded as the application would. */
function genuine(method: Method, call: RecordedResponse): unknown[] {
  const deserialize = LedgerService.service[method].responseDeserialize as (b: Buffer) => unknown;
  return call.messages.map((m) => deserialize(m.subarray(0, m.length - TRAILER_BYTES)));
}

/** The end entry's bytes from trailers the proxy holds (base64 on HTTP/2). */
function endEntry(trailers: Fields): Buffer {
  return Buffer.from(String(trailers[RESPONSE_KEY]), 'base64');
}

describe('signed responses (spec §13): a man in the middle on HTTP/2 against a client that requires them', function () {
  let h: Harness;
  let proxy: MitmProxy;
  let cred: ClientCredential;
  let client: LedgerServiceClient;
  const verdicts: ResponseAuditEvent[] = [];

  before(async () => {
    h = await startHarness({ server: { signResponses: true } });
    proxy = await startMitmProxy(h.target);
    cred = h.credential('resp-app', ['teller', 'auditor', 'importer']);
    client = h.client(cred, { target: proxy.target, requireSignedResponses: true, audit: (e) => verdicts.push(e) });
    await seedStatement(h);
  });
  after(async () => {
    await proxy.close();
    await h.close();
  });

  /** A point in the logs: what happened since, client verdicts included. */
  function mark(): Since & { verdicts(): ResponseAuditEvent[] } {
    const s = since(h);
    const at = verdicts.length;
    return { ...s, verdicts: () => verdicts.slice(at) };
  }

  /** An honest call through the idle proxy: its recorded genuine response. */
  async function honest(kind: ResponseKind): Promise<RecordedResponse> {
    proxy.plan = undefined;
    const out = await kind.run(client);
    expect(out.error, `${kind.label}: the honest call`).to.equal(undefined);
    return proxy.calls.at(-1)!;
  }

  /**
   * Runs `kind` through `plan`; the call must fail with DATA_LOSS for `reason`, the handler
   * must have run once, and the application must have received at most `seen` of the
   * server's genuine messages, in order, and nothing else.
   */
  async function detected(kind: ResponseKind, plan: ResponsePlan, reason: ReasonCode, seen: number): Promise<void> {
    const s = mark();
    proxy.plan = plan;
    const out = await kind.run(client);
    proxy.plan = undefined;
    const call = proxy.calls.at(-1)!;
    expect(out.error, 'the call must fail').to.not.equal(undefined);
    expect([out.error!.code, out.error!.details], 'the client\'s own status').to.deep.equal([DATA_LOSS, RESPONSE_FAILED]);
    expect(s.verdicts().map((v) => `${v.verdict} ${v.reason}`), 'the client\'s verdict').to.deep.equal([`refused ${reason}`]);
    expect(s.calls(), 'handler invocations').to.deep.equal([kind.method]);
    expect(out.received.length, 'messages the application received').to.be.at.most(seen);
    expect(out.received, 'what the application received is the genuine response, in order').to.deep.equal(genuine(kind.method, call).slice(0, out.received.length));
    if (kind.single) expect(out.metadataEvents, 'response headers handed to the application').to.equal(0);
    // The server signed this call: its audit says so.
    expect(s.audit().map((e) => [e.decision, e.signedResponse])).to.deep.equal([['allow', true]]);
  }

  describe('honest responses verify (control: the proxy in place, idle)', () => {
    for (const kind of KINDS) {
      it(`${kind.label}: ${kind.responses} message(s) and the status, verified`, async () => {
        const s = mark();
        const out = await kind.run(client);
        const call = proxy.calls.at(-1)!;
        expect(out.error).to.equal(undefined);
        expect(out.received).to.have.length(kind.responses);
        expect(out.received).to.deep.equal(genuine(kind.method, call));
        expect(out.metadataEvents, 'response headers reach the application').to.equal(1);
        expect(s.verdicts()).to.deep.equal([{ method: SERVICE + kind.method, verdict: 'verified', reason: undefined, receivedCode: 0 }]);
        expect(s.calls()).to.deep.equal([kind.method]);
        // On the wire: each message tagged, one end entry in the trailers.
        expect(call.messages).to.have.length(kind.responses);
        expect(endEntry(call.trailers!).readBigUInt64BE(0)).to.equal(BigInt(kind.responses));
      });
    }
  });

  describe('a changed response message is refused (bad_response_tag)', () => {
    for (const kind of KINDS) {
      it(`a bit flipped in message 0's body: ${kind.label}`, () =>
        detected(kind, { message: (m) => [m.index === 0 ? flip(m.bytes, 0) : m.bytes] }, 'bad_response_tag', 0));
      it(`a bit flipped in the last message's tag: ${kind.label}`, () =>
        detected(kind, { message: (m) => [m.index === kind.responses - 1 ? flip(m.bytes, -1) : m.bytes] }, 'bad_response_tag', kind.responses - 1));
    }
  });

  describe('a dropped response message is refused', () => {
    for (const kind of KINDS) {
      if (kind.single) {
        it(`the only message dropped, the genuine trailers kept (response_truncated): ${kind.label}`, () =>
          detected(kind, { message: () => [] }, 'response_truncated', 0));
      } else {
        it(`message 1 of 3 dropped (bad_response_tag): ${kind.label}`, () =>
          detected(kind, { message: (m) => (m.index === 1 ? [] : [m.bytes]) }, 'bad_response_tag', 1));
      }
    }
  });

  describe('reordered response messages are refused (bad_response_tag)', () => {
    for (const kind of KINDS.filter((k) => !k.single)) {
      it(`messages 1 and 2 swapped: ${kind.label}`, () => {
        let held: Buffer | undefined;
        return detected(
          kind,
          {
            message(m) {
              if (m.index === 1) {
                held = m.bytes;
                return [];
              }
              return m.index === 2 ? [m.bytes, held!] : [m.bytes];
            },
          },
          'bad_response_tag',
          1,
        );
      });
    }
  });

  describe('a duplicated response message is refused (bad_response_tag)', () => {
    for (const kind of KINDS) {
      it(`message 0 sent twice: ${kind.label}`, () =>
        detected(kind, { message: (m) => (m.index === 0 ? [m.bytes, Buffer.from(m.bytes)] : [m.bytes]) }, 'bad_response_tag', kind.single ? 0 : 1));
    }
  });

  describe('an injected response message is refused', () => {
    for (const kind of KINDS) {
      it(`message 0 of an earlier call in place of message 0 (bad_response_tag): ${kind.label}`, async () => {
        const earlier = await honest(kind);
        // Same key, same method, same position, perfectly tagged: only its call differs.
        await detected(kind, { message: (m) => [m.index === 0 ? earlier.messages[0]! : m.bytes] }, 'bad_response_tag', 0);
      });
      it(`a message appended after the last, from an earlier call (bad_response_tag): ${kind.label}`, async () => {
        const earlier = await honest(kind);
        await detected(kind, { end: () => ({ messages: [earlier.messages.at(-1)!] }) }, 'bad_response_tag', kind.single ? 0 : kind.responses);
      });
      it(`message 0 without its trailer (missing_response_tag): ${kind.label}`, () =>
        detected(kind, { message: (m) => [m.index === 0 ? m.bytes.subarray(0, m.bytes.length - TRAILER_BYTES) : m.bytes] }, 'missing_response_tag', 0));
    }
  });

  describe('a response cut short is refused', () => {
    for (const kind of KINDS) {
      if (!kind.single) {
        it(`the last message dropped, the genuine trailers kept (response_truncated): ${kind.label}`, () =>
          detected(kind, { message: (m) => (m.index === kind.responses - 1 ? [] : [m.bytes]) }, 'response_truncated', kind.responses - 1));
      }
      it(`cut after message 0, with forged OK trailers (missing_response_end): ${kind.label}`, () =>
        detected(kind, { message: (m) => (m.index === 0 && !kind.single ? [m.bytes] : []), end: () => ({ trailers: { 'grpc-status': '0', 'grpc-message': '' } }) }, 'missing_response_end', kind.single ? 0 : 1));
      it(`cut after message 0 by a stream reset (missing_response_end): ${kind.label}`, () =>
        detected(kind, { message: (m) => (m.index === 0 ? [m.bytes] : []), end: () => ({ reset: 2 /* INTERNAL_ERROR */ }) }, 'missing_response_end', kind.single ? 0 : 1));
    }
  });

  describe('a replaced status is refused', () => {
    for (const kind of KINDS) {
      it(`OK turned into FAILED_PRECONDITION (bad_response_end): ${kind.label}`, () =>
        detected(kind, { end: (t) => ({ trailers: { ...t, 'grpc-status': '9', 'grpc-message': 'insufficient funds' } }) }, 'bad_response_end', kind.single ? 0 : kind.responses));
      it(`OK turned into FAILED_PRECONDITION, the end entry removed (missing_response_end): ${kind.label}`, () =>
        detected(kind, { end: () => ({ trailers: { 'grpc-status': '9', 'grpc-message': 'insufficient funds' } }) }, 'missing_response_end', kind.single ? 0 : kind.responses));
      it(`the status message rewritten (bad_response_end): ${kind.label}`, () =>
        detected(kind, { end: (t) => ({ trailers: { ...t, 'grpc-message': 'approved' } }) }, 'bad_response_end', kind.single ? 0 : kind.responses));
    }
  });

  describe('a changed end entry is refused', () => {
    for (const kind of KINDS) {
      it(`a bit flipped in its MAC (bad_response_end): ${kind.label}`, () =>
        detected(kind, { end: (t) => ({ trailers: { ...t, [RESPONSE_KEY]: flip(endEntry(t), -1).toString('base64') } }) }, 'bad_response_end', kind.single ? 0 : kind.responses));
      it(`its count rewritten to one more (bad_response_end): ${kind.label}`, () =>
        detected(
          kind,
          {
            end(t) {
              const entry = endEntry(t);
              entry.writeBigUInt64BE(entry.readBigUInt64BE(0) + 1n, 0);
              return { trailers: { ...t, [RESPONSE_KEY]: entry.toString('base64') } };
            },
          },
          'bad_response_end',
          kind.single ? 0 : kind.responses,
        ));
      it(`sent twice (malformed_response_end): ${kind.label}`, () =>
        detected(kind, { end: (t) => ({ trailers: { ...t, [RESPONSE_KEY]: [String(t[RESPONSE_KEY]), String(t[RESPONSE_KEY])] } }) }, 'malformed_response_end', kind.single ? 0 : kind.responses));
    }
  });

  describe('a response replayed from an earlier call is refused (bad_response_tag)', () => {
    for (const kind of KINDS) {
      it(`the whole response of an earlier call, messages and trailers: ${kind.label}`, async () => {
        const earlier = await honest(kind);
        await detected(kind, { message: () => [], end: () => ({ messages: earlier.messages, trailers: endFields(earlier) }) }, 'bad_response_tag', 0);
      });
    }
    it('the end of an earlier call with no response message (bad_response_end)', async () => {
      // A server stream of zero messages: its end alone, replayed into another such call.
      const list = (c: LedgerServiceClient) => settle(c.listTransactions({ account: 'acc-nobody', limit: 0 }), [], { n: 0 });
      expect((await list(client)).error).to.equal(undefined);
      const earlier = proxy.calls.at(-1)!;
      const s = mark();
      proxy.plan = { end: () => ({ trailers: endFields(earlier) }) };
      const out = await list(client);
      proxy.plan = undefined;
      expect(out.error?.code).to.equal(DATA_LOSS);
      expect(s.verdicts().map((v) => v.reason)).to.deep.equal(['bad_response_end']);
      expect(s.calls()).to.deep.equal(['ListTransactions']);
    });
  });

  describe('a refusal the server signed cannot be turned into OK (bad_response_end)', () => {
    // Refusals after the request's nonce was accepted are signed (§13.3): a request changed on
    // the wire is refused, signed; the man in the middle then tries to pass it off as OK.
    const tamper = (kind: ResponseKind) =>
      attacker({ message: (f) => [kind.method === 'GetBalance' || kind.method === 'ListTransactions' || f.index === 1 ? flip(f.bytes, 2) : f.bytes] });
    const refusedFor = (kind: ResponseKind): ReasonCode => (kind.method === 'GetBalance' || kind.method === 'ListTransactions' ? 'bad_digest' : 'bad_stream_tag');

    for (const kind of KINDS) {
      it(`without the man in the middle, the signed refusal verifies: ${kind.label}`, async () => {
        const s = mark();
        const c = h.client(cred, { target: proxy.target, requireSignedResponses: true, audit: (e) => verdicts.push(e), interceptors: [tamper(kind)] });
        const out = await kind.run(c);
        expect(out.error?.code, 'the server\'s refusal, verified').to.equal(grpc.status.UNAUTHENTICATED);
        expect(s.verdicts().map((v) => v.verdict)).to.deep.equal(['verified']);
        expect(s.audit().filter((e) => e.decision === 'deny').map((e) => [e.reason, e.signedResponse])).to.deep.equal([[refusedFor(kind), true]]);
      });
      it(`UNAUTHENTICATED rewritten to OK: ${kind.label}`, async () => {
        const s = mark();
        const c = h.client(cred, { target: proxy.target, requireSignedResponses: true, audit: (e) => verdicts.push(e), interceptors: [tamper(kind)] });
        proxy.plan = { end: (t) => ({ trailers: { ...t, 'grpc-status': '0', 'grpc-message': '' } }) };
        const out = await kind.run(c);
        proxy.plan = undefined;
        expect([out.error?.code, out.error?.details]).to.deep.equal([DATA_LOSS, RESPONSE_FAILED]);
        expect(s.verdicts().map((v) => `${v.verdict} ${v.reason}`)).to.deep.equal(['refused bad_response_end']);
        if (kind.single) expect(out.received).to.deep.equal([]);
        expect(s.audit().filter((e) => e.decision === 'deny').map((e) => e.reason)).to.deep.equal([refusedFor(kind)]);
      });
    }
  });

  describe('nothing above reqauth\'s interceptor sees an unverified single response', () => {
    it('an interceptor of the application\'s, above reqauth\'s, gets no message and no headers when the status is replaced', async () => {
      const seen: string[] = [];
      const appSide: grpc.Interceptor = (options, nextCall) =>
        new grpc.InterceptingCall(nextCall(options), {
          start(metadata, _listener, next) {
            next(metadata, {
              onReceiveMetadata: (md: grpc.Metadata, n: (md: grpc.Metadata) => void) => (seen.push('metadata'), n(md)),
              onReceiveMessage: (m: unknown, n: (m: unknown) => void) => (seen.push('message'), n(m)),
              onReceiveStatus: (st: grpc.StatusObject, n: (st: grpc.StatusObject) => void) => (seen.push(`status ${st.code}`), n(st)),
            });
          },
        });
      const opts = reqauthClientOptions({ credential: cred, requireSignedResponses: true });
      const c = new LedgerService(proxy.target, grpc.credentials.createInsecure(), { ...opts, interceptors: [appSide, ...opts.interceptors!] }) as LedgerServiceClient;
      try {
        const s = mark();
        proxy.plan = { end: (t) => ({ trailers: { ...t, 'grpc-status': '9' } }) };
        const out = await KINDS[0]!.run(c);
        proxy.plan = undefined;
        expect(out.error?.code).to.equal(DATA_LOSS);
        expect(seen).to.deep.equal([`status ${DATA_LOSS}`]);
        expect(s.calls()).to.deep.equal(['GetBalance']);
        seen.length = 0;
        expect((await KINDS[0]!.run(c)).error, 'the same, honest').to.equal(undefined);
        expect(seen).to.deep.equal(['metadata', 'message', 'status 0']);
      } finally {
        c.close();
      }
    });
  });

  describe('statuses that assert no outcome pass unsigned, marked unverified (§13.4)', () => {
    for (const kind of KINDS.filter((k) => k.method === 'GetBalance' || k.method === 'ListTransactions')) {
      it(`OK turned into UNAVAILABLE, the end entry removed: ${kind.label} fails as UNAVAILABLE, nothing unverified delivered`, async () => {
        const s = mark();
        proxy.plan = { message: () => [], end: () => ({ trailers: { 'grpc-status': String(grpc.status.UNAVAILABLE), 'grpc-message': 'try later' } }) };
        const out = await kind.run(client);
        proxy.plan = undefined;
        expect(out.error?.code).to.equal(grpc.status.UNAVAILABLE);
        expect(out.received).to.deep.equal([]);
        expect(out.error?.metadata.getMap(), 'unauthenticated trailers are not handed on').to.deep.equal({});
        expect(s.verdicts().map((v) => `${v.verdict} ${v.reason}`)).to.deep.equal(['unverified missing_response_end']);
        expect(s.calls()).to.deep.equal([kind.method]);
      });
    }
    it('the application\'s own cancellation is CANCELLED, unverified', async () => {
      const s = mark();
      const stream = client.listTransactions({ account: STATEMENT_ACCOUNT, limit: 3 });
      const out = settle(stream, [], { n: 0 });
      stream.cancel();
      expect((await out).error?.code).to.equal(grpc.status.CANCELLED);
      await new Promise((r) => setTimeout(r, 20));
      expect(s.verdicts().map((v) => v.verdict)).to.deep.equal(['unverified']);
    });
  });
});

describe('signed responses: what is and is not signed (§13.3)', () => {
  let h: Harness;
  let cred: ClientCredential;
  const verdicts: ResponseAuditEvent[] = [];

  before(async () => {
    h = await startHarness({ server: { signResponses: true } });
    cred = h.credential('resp-app', ['teller', 'auditor']);
  });
  after(() => h.close());

  it('a refusal before the nonce was accepted (a policy refusal) is unsigned: a requiring client fails it with DATA_LOSS', async () => {
    const s = since(h);
    const at = verdicts.length;
    const c = h.client(h.credential('importer-only', ['importer']), { requireSignedResponses: true, audit: (e) => verdicts.push(e) });
    const out = await KINDS[0]!.run(c);
    expect(out.error?.code).to.equal(DATA_LOSS);
    expect(verdicts.slice(at)).to.deep.equal([{ method: `${SERVICE}GetBalance`, verdict: 'refused', reason: 'missing_response_end', receivedCode: grpc.status.PERMISSION_DENIED }]);
    expect(s.audit().map((e) => [e.reason, e.signedResponse])).to.deep.equal([['missing_role', undefined]]);
    expect(s.calls()).to.deep.equal([]);
  });

  it('a second delivery of a request (a replay) is refused unsigned, so it can never stand in for the first one\'s answer', async () => {
    const rec = recorder();
    const c = h.client(cred, { requireSignedResponses: true, interceptors: [rec.interceptor] });
    const s = since(h);
    expect((await KINDS[0]!.run(c)).error, 'the first delivery').to.equal(undefined);
    const sent = rec.calls[0]!;
    let error: grpc.ServiceError | undefined;
    try {
      await rawUnary(h.target, `${SERVICE}GetBalance`, sent.metadata, sent.frames[0]!);
    } catch (err) {
      error = err as grpc.ServiceError;
    }
    expect(error?.code, 'the replay is refused').to.equal(grpc.status.UNAUTHENTICATED);
    expect(error!.metadata.get(RESPONSE_KEY), 'and its refusal carries no end entry').to.deep.equal([]);
    expect(s.audit().map((e) => [e.reason ?? 'allow', e.signedResponse])).to.deep.equal([
      ['allow', true],
      ['replayed_nonce', undefined],
    ]);
    expect(s.calls()).to.deep.equal(['GetBalance']);
  });

  it('a client audit hook that throws fails a verified call (INTERNAL), once warned, and nothing escapes', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const c = h.client(cred, {
        requireSignedResponses: true,
        audit: () => {
          throw new Error('hook secret 0123');
        },
      });
      const s = since(h);
      for (let i = 0; i < 2; i++) {
        const out = await KINDS[0]!.run(c);
        expect([out.error?.code, out.error?.details]).to.deep.equal([grpc.status.INTERNAL, 'internal error']);
        expect(out.received).to.deep.equal([]);
      }
      expect(s.calls()).to.deep.equal(['GetBalance', 'GetBalance']);
      await new Promise((r) => setImmediate(r));
      const ours = warnings.filter((w) => w.includes('response audit hook'));
      expect(ours.length, 'warned at most once per process').to.be.at.most(1);
      for (const w of ours) expect(w).to.not.include('0123');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a public method is never signed: a client that requires it for Ping fails with DATA_LOSS', async () => {
    const at = verdicts.length;
    const c = h.client(cred, { requireSignedResponses: true, audit: (e) => verdicts.push(e) });
    const error = await unary(c.ping.bind(c), {}).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(error?.code).to.equal(DATA_LOSS);
    expect(verdicts.slice(at).map((v) => v.reason)).to.deep.equal(['missing_response_tag']);
  });
});

describe('signed responses: compatibility with peers that do not sign or do not check', () => {
  let signing: Harness;
  let plain: Harness;
  let byProto: Harness;

  before(async () => {
    signing = await startHarness({ server: { signResponses: true } });
    plain = await startHarness({ server: { policy: new Policy(unsignedRules()) } });
    byProto = await startHarness(); // the .proto's rules: GetBalance and ListTransactions sign
    for (const x of [signing, plain, byProto]) await seedStatement(x);
  });
  after(async () => {
    await signing.close();
    await plain.close();
    await byProto.close();
  });

  for (const kind of KINDS) {
    it(`signing server, client not requiring: ${kind.label} decodes as always (the trailer is an unknown field)`, async () => {
      const c = signing.client(signing.credential('compat', ['teller', 'auditor', 'importer']));
      const s = since(signing);
      const out = await kind.run(c);
      expect(out.error).to.equal(undefined);
      expect(out.received).to.have.length(kind.responses);
      expect(s.calls()).to.deep.equal([kind.method]);
      expect(s.audit().map((e) => e.signedResponse)).to.deep.equal([true]);
    });

    it(`server not signing, client requiring: ${kind.label} fails with DATA_LOSS, nothing delivered`, async () => {
      const verdicts: ResponseAuditEvent[] = [];
      const c = plain.client(plain.credential('compat', ['teller', 'auditor', 'importer']), { requireSignedResponses: true, audit: (e) => verdicts.push(e) });
      const s = since(plain);
      const out = await kind.run(c);
      expect([out.error?.code, out.error?.details]).to.deep.equal([DATA_LOSS, RESPONSE_FAILED]);
      expect(out.received).to.deep.equal([]);
      expect(verdicts.map((v) => v.reason)).to.deep.equal(['missing_response_tag']);
      expect(s.calls()).to.deep.equal([kind.method]);
      expect(s.audit().map((e) => e.signedResponse)).to.deep.equal([undefined]);
    });
  }

  it('server not signing, client requiring, a call with no response message: missing_response_end', async () => {
    const verdicts: ResponseAuditEvent[] = [];
    const c = plain.client(plain.credential('compat', ['auditor']), { requireSignedResponses: true, audit: (e) => verdicts.push(e) });
    const out = await settle(c.listTransactions({ account: 'acc-nobody', limit: 0 }), [], { n: 0 });
    expect(out.error?.code).to.equal(DATA_LOSS);
    expect(verdicts.map((v) => v.reason)).to.deep.equal(['missing_response_end']);
  });

  it('per method, from the .proto on both sides: sign_responses methods verify, the others are neither signed nor required', async () => {
    const verdicts: ResponseAuditEvent[] = [];
    const required = signedResponseMethods(LedgerService.service);
    expect(required).to.deep.equal([`${SERVICE}GetBalance`, `${SERVICE}ListTransactions`]);
    const c = byProto.client(byProto.credential('compat', ['teller', 'auditor']), { requireSignedResponses: required, audit: (e) => verdicts.push(e) });
    const s = since(byProto);
    expect((await KINDS[0]!.run(c)).error).to.equal(undefined);
    expect((await KINDS[1]!.run(c)).error).to.equal(undefined);
    expect(await unary(c.transfer.bind(c), { transaction: tx(nextId('t'), 1) })).to.have.property('id');
    expect(verdicts.map((v) => `${v.method} ${v.verdict}`)).to.deep.equal([`${SERVICE}GetBalance verified`, `${SERVICE}ListTransactions verified`]);
    expect(s.audit().map((e) => `${e.method} ${e.signedResponse}`)).to.deep.equal([
      `${SERVICE}GetBalance true`,
      `${SERVICE}ListTransactions true`,
      `${SERVICE}Transfer undefined`,
    ]);
    expect(s.calls()).to.deep.equal(['GetBalance', 'ListTransactions', 'Transfer']);
  });

  it('a client requiring a method the server does not sign (Transfer) fails it; a service wildcard requires all its methods', async () => {
    const verdicts: ResponseAuditEvent[] = [];
    const c = byProto.client(byProto.credential('compat', ['teller']), { requireSignedResponses: [`${SERVICE}*`], audit: (e) => verdicts.push(e) });
    const error = await unary(c.transfer.bind(c), { transaction: tx(nextId('t'), 1) }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(error?.code).to.equal(DATA_LOSS);
    expect(verdicts.map((v) => `${v.method} ${v.reason}`)).to.deep.equal([`${SERVICE}Transfer missing_response_tag`]);
  });

  it('a requirement the transformer was not given fails the call at once, never silently unchecked', () => {
    const cred = signing.credential('compat', ['teller']);
    const c = new LedgerService(signing.target, grpc.credentials.createInsecure(), {
      interceptors: [reqauthClientInterceptor({ credential: cred, requireSignedResponses: true })],
      callInvocationTransformer: reqauthClientOptions({ credential: cred }).callInvocationTransformer!,
    }) as LedgerServiceClient;
    try {
      expect(() => c.getBalance({ account: 'acc-alice' }, () => undefined)).to.throw(/requireSignedResponses needs the callInvocationTransformer/);
    } finally {
      c.close();
    }
  });

  it('a public method cannot be declared signed; a requirement names methods properly', () => {
    expect(() => new Policy({ [`${SERVICE}Ping`]: { public: true, signResponses: true } })).to.throw(ReqauthConfigError, /public method cannot sign/);
    expect(() => plain.client(plain.credential('x', []), { requireSignedResponses: ['GetBalance'] })).to.throw(/not "\/pkg.Service\/Method"/);
  });
});

/** The ledger's rules with no method signing its responses. */
function unsignedRules(): Record<string, { roles?: string[]; principals?: string[]; public?: boolean }> {
  const rules: Record<string, { roles?: string[]; principals?: string[]; public?: boolean }> = {};
  for (const m of Object.values(LedgerService.service) as { path: string; options?: Record<string, unknown> }[]) {
    const o = m.options?.['(reqauth.v1.access)'] as { roles?: string[]; principals?: string[]; public?: boolean } | undefined;
    if (o) rules[m.path] = { roles: o.roles ?? [], principals: o.principals ?? [], public: o.public === true };
  }
  return rules;
}

describe('signed responses: covered response metadata (§13.2)', () => {
  const COVERED = ['x-as-of', 'x-note', 'x-audit-bin'];
  let server: grpc.Server;
  let auth: ReqauthServer;
  let proxy: MitmProxy;
  let h: Harness;
  const audit: AuditEvent[] = [];
  let handled = 0;

  before(async () => {
    h = await startHarness(); // its keyring and client factory
    auth = new ReqauthServer({
      keys: staticKeySource(h.ring, 'ledger'),
      policy: policyFromServiceDefinition(LedgerService.service),
      audit: (e) => audit.push(e),
      signedResponseMetadata: COVERED,
    });
    server = new grpc.Server({ interceptors: [auth.interceptor] });
    auth.addService(server, LedgerService.service, {
      ...createLedger().handlers,
      GetBalance(call: grpc.ServerUnaryCall<{ account: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
        handled++;
        const headers = new grpc.Metadata();
        headers.set('x-as-of', '2025-01-01T00:00:00Z');
        headers.add('x-note', 'first');
        headers.add('x-note', 'second'); // two values: HTTP/2 receivers join them with ", "
        headers.set('x-uncovered', 'anything');
        call.sendMetadata(headers);
        const trailers = new grpc.Metadata();
        trailers.set('x-audit-bin', Buffer.from([0, 1, 2, 0xff]));
        callback(null, { account: call.request.account, balance: '42' }, trailers);
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    proxy = await startMitmProxy(`127.0.0.1:${port}`);
  });
  after(async () => {
    server.forceShutdown();
    await proxy.close();
    await h.close();
  });

  async function call(plan: ResponsePlan | undefined): Promise<{ out: Outcome; verdicts: ResponseAuditEvent[]; headers: grpc.Metadata[] }> {
    const verdicts: ResponseAuditEvent[] = [];
    const c = h.client(h.credential('meta', ['teller']), { target: proxy.target, requireSignedResponses: true, audit: (e) => verdicts.push(e) });
    proxy.plan = plan;
    const headers: grpc.Metadata[] = [];
    const before = handled;
    const out = await new Promise<Outcome>((resolve) => {
      const received: unknown[] = [];
      const x = c.getBalance({ account: 'acc-alice' }, (error, res) => resolve({ error: error ?? undefined, received: error ? received : [res], metadataEvents: headers.length }));
      x.on('metadata', (md: grpc.Metadata) => headers.push(md));
    });
    proxy.plan = undefined;
    expect(handled - before, 'handler invocations').to.equal(1);
    return { out, verdicts, headers };
  }

  it('honest: verified, and the application gets the headers (joined as HTTP/2 joins them) and the trailers', async () => {
    const { out, verdicts, headers } = await call(undefined);
    expect(out.error).to.equal(undefined);
    expect(verdicts.map((v) => v.verdict)).to.deep.equal(['verified']);
    expect(headers).to.have.length(1);
    expect(headers[0]!.get('x-as-of')).to.deep.equal(['2025-01-01T00:00:00Z']);
    expect(headers[0]!.get('x-note')).to.deep.equal(['first, second']);
    expect(audit.at(-1)?.signedResponse, 'GetBalance signs (its .proto rule)').to.equal(true);
  });

  const changes: [string, ResponsePlan][] = [
    ['a covered header changed', { headers: (f) => ({ ...f, 'x-as-of': '1999-12-31T23:59:59Z' }) }],
    ['a covered header removed', { headers: (f) => ({ ...f, 'x-as-of': undefined }) }],
    ['one value of a covered header dropped', { headers: (f) => ({ ...f, 'x-note': 'first' }) }],
    ['a covered trailer removed', { end: (t) => ({ trailers: { ...t, 'x-audit-bin': undefined } }) }],
    ['a covered trailer changed', { end: (t) => ({ trailers: { ...t, 'x-audit-bin': Buffer.from([9]).toString('base64') } }) }],
    ['a covered name added to the trailers', { end: (t) => ({ trailers: { ...t, 'x-as-of': '2030-01-01T00:00:00Z' } }) }],
  ];

  describe('GetBalance signs (its .proto rule) and covers x-as-of, x-note, x-audit-bin', () => {
    for (const [what, plan] of changes) {
      it(`${what}: refused (bad_response_end), and no header reached the application`, async () => {
        const { out, verdicts, headers } = await call(plan);
        expect(out.error?.code).to.equal(DATA_LOSS);
        expect(verdicts.map((v) => `${v.verdict} ${v.reason}`)).to.deep.equal(['refused bad_response_end']);
        expect(headers, 'response headers handed to the application').to.deep.equal([]);
      });
    }
    it('an uncovered header changed and a trailer added: still verified', async () => {
      const { out, verdicts } = await call({ headers: (f) => ({ ...f, 'x-uncovered': 'changed' }), end: (t) => ({ trailers: { ...t, 'x-uncovered-trailer': 'added' } }) });
      expect(out.error).to.equal(undefined);
      expect(verdicts.map((v) => v.verdict)).to.deep.equal(['verified']);
    });
  });

  it('a server refuses covered names it cannot cover', () => {
    const make = (names: string[]) => () =>
      new ReqauthServer({ keys: staticKeySource(h.ring, 'ledger'), policy: policyFromServiceDefinition(LedgerService.service), signedResponseMetadata: names });
    expect(make(['grpc-encoding'])).to.throw(ReqauthConfigError);
    expect(make(['X-Upper'])).to.throw(ReqauthConfigError);
    expect(make([RESPONSE_KEY])).to.throw(ReqauthConfigError);
    expect(make(['x-a', 'x-a'])).to.throw(ReqauthConfigError);
    expect(make(['grpc-status-details-bin', 'x-a'])).to.not.throw();
    expect(ENVELOPE_KEY).to.not.equal(RESPONSE_KEY);
  });
});
