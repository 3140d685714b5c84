// Request and response messages of exact serialized sizes. TransferRequest,
// ImportTransactionsRequest and ListTransactionsResponse are all `{ transaction = 1 }`, so
// one Transaction sized for a TransferRequest sizes all three.
import { randomBytes } from 'node:crypto';
import { LedgerService } from '../examples/ledger/definition';

export const TRANSFER_PATH = '/ledger.v1.LedgerService/Transfer';
/** The GetBalance request of the response-signing section's unary case. */
export const BALANCE_REQUEST = { account: 'acc-alice' };
/** Its serialized size. */
export const BALANCE_REQUEST_BYTES = (LedgerService.service.GetBalance.requestSerialize as (r: typeof BALANCE_REQUEST) => Buffer)(BALANCE_REQUEST).length;
/** Bytes of each ListTransactions response (the server-streaming case). */
export const LISTED_BYTES = 100;

export interface Transaction {
  id: string;
  fromAccount: string;
  toAccount: string;
  amount: string;
  memo: string;
  attachment: Buffer;
}

const cache = new Map<number, Transaction>();

/** A Transaction whose TransferRequest serializes to exactly `size` bytes (at least ~50). */
export function transactionOfSize(size: number): Transaction {
  const hit = cache.get(size);
  if (hit) return hit;
  const serialize = LedgerService.service.Transfer.requestSerialize as (r: { transaction: Transaction }) => Buffer;
  const attachment = randomBytes(size);
  const make = (n: number): Transaction => ({ id: 'bench-0001', fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: '100', memo: 'bench', attachment: attachment.subarray(0, Math.max(0, n)) });
  let n = size;
  let tx = make(n);
  for (let i = 0; i < 8; i++) {
    const got = serialize({ transaction: tx }).length;
    if (got === size) break;
    n -= got - size;
    tx = make(n);
  }
  if (serialize({ transaction: tx }).length !== size) throw new Error(`no Transaction serializes to ${size} bytes`);
  cache.set(size, tx);
  return tx;
}
