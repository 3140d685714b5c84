// Shared assertions for refusals seen over a real grpc-js server (not a test file itself).
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { AuditEvent, CLIENT_MESSAGES, ReasonCode, refusalKind, RefusalKind } from '../../src';
import { collect, Harness, StreamEvent, tx, unary } from '../support/harness';
import { LedgerServiceClient } from '../../examples/ledger/definition';

export const SERVICE = '/ledger.v1.LedgerService/';

export const STATUS: Readonly<Record<RefusalKind, grpc.status>> = {
  unauthenticated: grpc.status.UNAUTHENTICATED, // 16
  permission_denied: grpc.status.PERMISSION_DENIED, // 7
  invalid_argument: grpc.status.INVALID_ARGUMENT, // 3
  unavailable: grpc.status.UNAVAILABLE, // 14
  cancelled: grpc.status.CANCELLED, // 1
  internal: grpc.status.INTERNAL, // 13
  data_loss: grpc.status.DATA_LOSS, // 15: a client's own, for a response that did not verify
};

/** A point in the harness's logs: what happened since. */
export interface Since {
  calls(): string[];
  audit(): AuditEvent[];
  events(method: string): StreamEvent[];
}

export function since(h: Harness): Since {
  const at = { calls: h.calls.length, audit: h.audit.length, events: h.streamEvents.length };
  return {
    calls: () => h.calls.slice(at.calls),
    audit: () => h.audit.slice(at.audit),
    events: (method) => h.streamEvents.slice(at.events).filter((e) => e.method === method),
  };
}

/**
 * A refusal as the spec requires it (§8): the class's status code, the class's generic
 * message and nothing more precise on the wire, and exactly one audited denial with the
 * precise reason on this method. Unless `handlerStarted` (request streams refused
 * mid-stream), the handler never ran.
 */
export function expectRefused(
  s: Since,
  err: grpc.ServiceError | undefined,
  reason: ReasonCode,
  method: string,
  options: { handlerStarted?: boolean } = {},
): void {
  expect(err, `expected a refusal (${reason}), the call succeeded`).to.not.equal(undefined);
  const kind = refusalKind(reason);
  expect(err!.code, `status code for ${reason}`).to.equal(STATUS[kind]);
  expect(err!.details).to.equal(CLIENT_MESSAGES[kind]);
  expect(err!.message).to.not.include(reason);
  for (const [key, values] of Object.entries(err!.metadata?.getMap() ?? {})) {
    expect(`${key}=${String(values)}`).to.not.include(reason);
  }
  const denials = s.audit().filter((e) => e.decision === 'deny');
  expect(denials.map((e) => `${e.method} ${e.reason}`), 'audited denials').to.deep.equal([`${SERVICE}${method} ${reason}`]);
  if (!options.handlerStarted) expect(s.calls(), 'handler invocations').to.not.include(method);
}

export function outcome(p: Promise<unknown>): Promise<grpc.ServiceError | undefined> {
  return p.then(
    () => undefined,
    (err: grpc.ServiceError) => err,
  );
}

let ids = 0;
export const nextId = (prefix = 't') => `${prefix}${++ids}`;

/** The three single-message kinds of call, driven through a client. */
export interface SingleKind {
  readonly method: 'Transfer' | 'GetBalance' | 'ListTransactions';
  readonly label: string;
  /** The request message, for raw senders. */
  request(): object;
  /** Makes the call; resolves to the error it ended with, or undefined on success. */
  run(c: LedgerServiceClient, md?: grpc.Metadata): Promise<grpc.ServiceError | undefined>;
}

export const SINGLE_KINDS: readonly SingleKind[] = [
  {
    method: 'Transfer',
    label: 'a unary Transfer',
    request: () => ({ transaction: tx(nextId(), 1) }),
    run(c, md = new grpc.Metadata()) {
      return outcome(unary(c.transfer.bind(c), this.request(), md));
    },
  },
  {
    method: 'GetBalance',
    label: 'a unary GetBalance',
    request: () => ({ account: 'acc-alice' }),
    run(c, md = new grpc.Metadata()) {
      return outcome(unary(c.getBalance.bind(c), this.request(), md));
    },
  },
  {
    method: 'ListTransactions',
    label: 'a server-streaming ListTransactions',
    request: () => ({ account: 'acc-alice', limit: 0 }),
    async run(c, md = new grpc.Metadata()) {
      const { messages, error } = await collect(c.listTransactions(this.request(), md));
      // A refused server stream delivers nothing before its status.
      if (error) expect(messages, 'responses before the refusal').to.deep.equal([]);
      return error;
    },
  },
];

export interface StreamResult {
  error?: grpc.ServiceError;
  /** ImportTransactions: the summary. */
  summary?: { imported: number; totalAmount: string };
  /** Reconcile: the replies. */
  replies: { id: string; matches: boolean }[];
}

export interface StreamKind {
  readonly method: 'ImportTransactions' | 'Reconcile';
  readonly label: string;
  /** Writes one message per id, then ends; resolves with how the call ended. */
  run(c: LedgerServiceClient, ids: readonly string[]): Promise<StreamResult>;
}

/** The two request-streaming kinds of call. */
export const STREAM_KINDS: readonly StreamKind[] = [
  {
    method: 'ImportTransactions',
    label: 'a client-streaming ImportTransactions',
    run: (c, ids) =>
      new Promise((resolve) => {
        const w = c.importTransactions((err, summary) => resolve(err ? { error: err, replies: [] } : { summary: summary as StreamResult['summary'], replies: [] }));
        for (const id of ids) w.write({ transaction: tx(id, 10) });
        w.end();
      }),
  },
  {
    method: 'Reconcile',
    label: 'a bidi Reconcile',
    run: (c, ids) =>
      new Promise((resolve) => {
        const d = c.reconcile();
        const replies: StreamResult['replies'] = [];
        d.on('data', (m: StreamResult['replies'][number]) => replies.push(m));
        d.on('error', (error: grpc.ServiceError) => resolve({ error, replies }));
        d.on('end', () => resolve({ replies }));
        for (const id of ids) d.write({ transaction: tx(id, 10) });
        d.end();
      }),
  },
];

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
