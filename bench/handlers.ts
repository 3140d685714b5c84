// Bench-only handlers for the ledger service definition. The example ledger's handlers are
// unsuitable for a throughput loop: Transfer debits acc-alice (it starts failing after 100
// transfers of 100) and appends every transaction, attachment included, to an unbounded
// journal. These do the same shape of work per call — read the caller's identity as the
// configuration delivers it, decode the request, answer — and keep no state, so memory stays
// bounded however long the bench runs. Every configuration runs the very same handlers.
import * as grpc from '@grpc/grpc-js';
import type { LedgerServiceHandlers } from '../examples/generated/ledger/v1/LedgerService';

/** Calls the handlers completed, by kind, for the bench's check that every counted call ran. */
export const served = { transfers: 0, balances: 0, lists: 0, imports: 0, importedMessages: 0, unauthenticated: 0 };

/** The most responses ListTransactions sends (bounds a request's work). */
const MAX_LIST = 1000;

export interface HandlerOptions {
  /** The caller as the configuration authenticated it; undefined where it authenticates none. */
  principalOf(call: { readonly metadata: grpc.Metadata }): string | undefined;
  /** Whether a call without a principal is a failure (the authenticating configurations). */
  requirePrincipal: boolean;
  /** The transaction each ListTransactions response carries. */
  listed: { id: string; fromAccount: string; toAccount: string; amount: string; memo: string; attachment: Buffer };
}

export function benchHandlers(options: HandlerOptions): LedgerServiceHandlers {
  const identify = (call: { readonly metadata: grpc.Metadata }): void => {
    if (options.principalOf(call) === undefined && options.requirePrincipal) served.unauthenticated++;
  };
  const unimplemented = (call: unknown, callback?: (err: grpc.ServiceError | null) => void) => {
    const err = Object.assign(new Error('not in the bench'), { code: grpc.status.UNIMPLEMENTED, details: 'not in the bench', metadata: new grpc.Metadata() });
    if (callback) callback(err);
    else (call as grpc.ServerWritableStream<unknown, unknown>).emit('error', err);
  };
  const response = { transaction: options.listed };
  return {
    Ping(_call, callback) {
      callback(null, { serverTimeMs: String(Date.now()) });
    },
    GetBalance(call, callback) {
      identify(call);
      served.balances++;
      callback(null, { account: call.request.account, balance: String(served.balances) });
    },
    Transfer(call, callback) {
      identify(call);
      const tx = call.request.transaction;
      if (!tx) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'transaction required' });
      served.transfers++;
      callback(null, { id: tx.id, fromBalance: String(served.transfers), toBalance: tx.amount });
    },
    ListTransactions(call) {
      identify(call);
      const n = Math.min(call.request.limit, MAX_LIST);
      for (let i = 0; i < n; i++) call.write(response);
      served.lists++;
      call.end();
    },
    ImportTransactions(call, callback) {
      identify(call);
      let imported = 0;
      let total = 0;
      call.on('data', (m: { transaction?: { amount?: string } | null }) => {
        imported++;
        total += Number(m.transaction?.amount ?? 0);
      });
      call.on('end', () => {
        served.imports++;
        served.importedMessages += imported;
        callback(null, { imported, totalAmount: String(total) });
      });
    },
    Reconcile: unimplemented as never,
    CloseAccount: unimplemented as never,
  };
}
