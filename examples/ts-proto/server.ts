// The example ledger with ts-proto's generated code (`outputServices=grpc-js`, made by
// `buf generate` from examples/ts-proto/buf.gen.yaml), behind reqauth. The lines marked
// "reqauth" are all that adopting it changes. ts-proto's service definition carries no
// method options, so the access rules come from a descriptor set (`buf build -o`).
//
//   npm run build && node dist/examples/ts-proto/server.js --port 50051 --keys ledger-service.json
import * as grpc from '@grpc/grpc-js';
import * as path from 'node:path';
import { getClaims, ReqauthServer } from '../../interceptors'; // reqauth: 'reqauth/grpc-js'
import { AuditHook, KeySource, policyFromDescriptorSet } from '../../src'; // reqauth: 'reqauth'
import { runCodegenServer } from '../codegen-server-main';
import { LedgerServiceServer, LedgerServiceService, Transaction } from '../generated/ts-proto/ledger/v1/ledger';
import { Book, Entry } from '../ledger/book';
import { REPO_ROOT } from '../ledger/definition';

/** Where `npm run gen` writes the descriptor set (`buf build -o`). */
export const DESCRIPTOR_SET = path.join(REPO_ROOT, 'examples', 'generated', 'ledger.binpb');

/** The handlers: plain ts-proto code; only `getClaims` is reqauth's. */
export function ledgerHandlers(onCall: (method: string, principal: string | undefined) => void = () => undefined, book = new Book()): LedgerServiceServer {
  const seen = (method: string, call: { metadata: grpc.Metadata }) => {
    const claims = getClaims(call); // reqauth: who is calling, verified
    onCall(method, claims?.principal);
    return claims?.principal ?? '';
  };
  const entry = (tx: Transaction, principal: string): Entry => ({ id: tx.id, fromAccount: tx.fromAccount, toAccount: tx.toAccount, amount: tx.amount, principal });
  const transaction = (e: Entry): Transaction => ({ id: e.id, fromAccount: e.fromAccount, toAccount: e.toAccount, amount: e.amount, memo: '', attachment: Buffer.alloc(0) });
  return {
    ping(call, callback) {
      seen('Ping', call);
      callback(null, { serverTimeMs: String(Date.now()) });
    },
    getBalance(call, callback) {
      seen('GetBalance', call);
      callback(null, { account: call.request.account, balance: String(book.balance(call.request.account)) });
    },
    transfer(call, callback) {
      const principal = seen('Transfer', call);
      const tx = call.request.transaction;
      if (!tx) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'transaction required' });
      const error = book.transfer(entry(tx, principal));
      if (error) return callback({ code: grpc.status.FAILED_PRECONDITION, details: error });
      callback(null, { id: tx.id, fromBalance: String(book.balance(tx.fromAccount)), toBalance: String(book.balance(tx.toAccount)) });
    },
    listTransactions(call) {
      seen('ListTransactions', call);
      for (const e of book.entriesOf(call.request.account, call.request.limit)) call.write({ transaction: transaction(e) });
      call.end();
    },
    importTransactions(call, callback) {
      const principal = seen('ImportTransactions', call);
      let imported = 0;
      let total = 0n;
      call.on('data', (req: { transaction?: Transaction }) => {
        if (!req.transaction) return;
        imported++;
        total += BigInt(req.transaction.amount);
        book.journal.push(entry(req.transaction, principal));
      });
      call.on('end', () => callback(null, { imported, totalAmount: String(total) }));
      call.on('error', () => undefined);
    },
    reconcile(call) {
      seen('Reconcile', call);
      call.on('data', (req: { transaction?: Transaction }) => {
        const tx = req.transaction;
        call.write({ id: tx?.id ?? '', matches: !!tx && book.matches(tx.id, tx.amount) });
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    closeAccount(call, callback) {
      seen('CloseAccount', call);
      callback(null, {});
    },
  };
}

/** The server: reqauth's interceptor, the policy from the descriptor set, the service added through reqauth. */
export function createLedgerServer(options: { keys: KeySource; descriptorSet: Uint8Array; handlers: LedgerServiceServer; audit?: AuditHook }): grpc.Server {
  const auth = new ReqauthServer({
    keys: options.keys,
    policy: policyFromDescriptorSet(options.descriptorSet, 'ledger.v1.LedgerService'), // reqauth
    ...(options.audit ? { audit: options.audit } : {}),
  });
  const server = new grpc.Server({ interceptors: [auth.interceptor] }); // reqauth: was new grpc.Server()
  auth.addService(server, LedgerServiceService, options.handlers); // reqauth: was server.addService(LedgerServiceService, handlers)
  return server;
}

if (require.main === module) {
  runCodegenServer('ts-proto', DESCRIPTOR_SET, (options) => createLedgerServer({ ...options, handlers: ledgerHandlers() }));
}
