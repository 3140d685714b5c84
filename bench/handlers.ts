// Bench-only handlers for the ledger service definition. The example ledger's Transfer is
// unsuitable for a throughput loop: it debits acc-alice (10,000 cents, so it starts failing
// with FAILED_PRECONDITION after 100 transfers of 100) and appends every transaction,
// attachment included, to an unbounded journal (64 KiB per call at the large size). These
// handlers do the same shape of work per call — read the claims like the example does,
// decode the request, answer a small TransferResponse — and keep no state, so memory stays
// bounded however long the bench runs.
import * as grpc from '@grpc/grpc-js';
import { getClaims } from '../interceptors';
import type { LedgerServiceHandlers } from '../examples/generated/ledger/v1/LedgerService';

/** Transfer calls the handlers answered, for the bench's sanity check (handler really ran). */
export const served = { transfers: 0 };

export function benchHandlers(): LedgerServiceHandlers {
  const unimplemented = (call: unknown, callback?: (err: grpc.ServiceError | null) => void) => {
    const err = Object.assign(new Error('not in the bench'), { code: grpc.status.UNIMPLEMENTED, details: 'not in the bench', metadata: new grpc.Metadata() });
    if (callback) callback(err);
    else (call as grpc.ServerWritableStream<unknown, unknown>).emit('error', err);
  };
  return {
    Ping(_call, callback) {
      callback(null, { serverTimeMs: String(Date.now()) });
    },
    GetBalance(call, callback) {
      getClaims(call);
      callback(null, { account: call.request.account, balance: '0' });
    },
    Transfer(call, callback) {
      getClaims(call); // undefined on the plain server; a WeakMap lookup on the reqauth one
      const tx = call.request.transaction;
      if (!tx) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'transaction required' });
      served.transfers++;
      callback(null, { id: tx.id, fromBalance: String(served.transfers), toBalance: tx.amount });
    },
    ListTransactions: unimplemented as never,
    ImportTransactions: unimplemented as never,
    Reconcile: unimplemented as never,
    CloseAccount: unimplemented as never,
  };
}
