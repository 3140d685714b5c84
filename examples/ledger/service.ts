// The ledger's handlers: an in-memory ledger whose handlers read who is calling through
// reqauth's typed accessor. `onCall` lets tests count handler invocations.
import * as grpc from '@grpc/grpc-js';
import { getClaims } from '../../interceptors';
import type { LedgerServiceHandlers } from '../generated/ledger/v1/LedgerService';
import type { Transaction__Output } from '../generated/ledger/v1/Transaction';

export interface LedgerOptions {
  /** Called as each handler starts, with the method name and the verified principal. */
  onCall?: (method: string, principal: string | undefined) => void;
}

export interface Ledger {
  readonly handlers: LedgerServiceHandlers;
  readonly balances: Map<string, bigint>;
  readonly journal: { tx: Transaction__Output; principal: string; onBehalfOf: string | undefined }[];
}

export function createLedger(options: LedgerOptions = {}): Ledger {
  const balances = new Map<string, bigint>([
    ['acc-alice', 10_000n],
    ['acc-bob', 2_500n],
  ]);
  const journal: Ledger['journal'] = [];
  const seen = (method: string, call: { metadata: grpc.Metadata }) => {
    const claims = getClaims(call);
    options.onCall?.(method, claims?.principal);
    return claims;
  };
  const balance = (account: string) => balances.get(account) ?? 0n;

  const handlers: LedgerServiceHandlers = {
    Ping(call, callback) {
      seen('Ping', call);
      callback(null, { serverTimeMs: String(Date.now()) });
    },
    GetBalance(call, callback) {
      seen('GetBalance', call);
      callback(null, { account: call.request.account, balance: String(balance(call.request.account)) });
    },
    Transfer(call, callback) {
      const claims = seen('Transfer', call);
      const tx = call.request.transaction;
      if (!tx || !claims) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'transaction required' });
      const amount = BigInt(tx.amount);
      if (amount <= 0n) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'amount must be positive' });
      if (balance(tx.fromAccount) < amount) return callback({ code: grpc.status.FAILED_PRECONDITION, details: 'insufficient funds' });
      balances.set(tx.fromAccount, balance(tx.fromAccount) - amount);
      balances.set(tx.toAccount, balance(tx.toAccount) + amount);
      journal.push({ tx, principal: claims.principal, onBehalfOf: claims.onBehalfOf });
      callback(null, { id: tx.id, fromBalance: String(balance(tx.fromAccount)), toBalance: String(balance(tx.toAccount)) });
    },
    ListTransactions(call) {
      seen('ListTransactions', call);
      const { account, limit } = call.request;
      const rows = journal.filter((j) => j.tx.fromAccount === account || j.tx.toAccount === account);
      for (const row of rows.slice(0, limit || rows.length)) call.write({ transaction: row.tx });
      call.end();
    },
    ImportTransactions(call, callback) {
      const claims = seen('ImportTransactions', call);
      let imported = 0;
      let total = 0n;
      call.on('data', (req: { transaction: Transaction__Output | null }) => {
        if (!req.transaction) return;
        imported++;
        total += BigInt(req.transaction.amount);
        journal.push({ tx: req.transaction, principal: claims?.principal ?? '', onBehalfOf: claims?.onBehalfOf });
      });
      call.on('end', () => callback(null, { imported, totalAmount: String(total) }));
      call.on('error', () => undefined);
    },
    Reconcile(call) {
      seen('Reconcile', call);
      call.on('data', (req: { transaction: Transaction__Output | null }) => {
        const tx = req.transaction;
        const matches = !!tx && journal.some((j) => j.tx.id === tx.id && j.tx.amount === tx.amount);
        call.write({ id: tx?.id ?? '', matches });
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    CloseAccount(call, callback) {
      seen('CloseAccount', call);
      callback(null, {});
    },
  };
  return { handlers, balances, journal };
}
