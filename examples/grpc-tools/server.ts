// The example ledger with grpc-tools' generated code (`*_pb.js` message classes and the
// `*_grpc_pb.js` service definition, see generated/README.md), behind reqauth. The lines
// marked "reqauth" are all that adopting it changes. grpc-tools' service definition carries
// no method options, so the access rules come from a descriptor set, which grpc-tools'
// own protoc writes: `grpc_tools_node_protoc --include_imports --descriptor_set_out=ledger.binpb ...`.
//
//   npm run build && node dist/examples/grpc-tools/server.js --port 50051 --keys ledger-service.json
import * as grpc from '@grpc/grpc-js';
import { getClaims, ReqauthServer } from '../../interceptors'; // reqauth: 'reqauth/grpc-js'
import { AuditHook, KeySource, policyFromDescriptorSet } from '../../src'; // reqauth: 'reqauth'
import { runCodegenServer } from '../codegen-server-main';
import { Book, Entry } from '../ledger/book';
import { DESCRIPTOR_SET } from '../ts-proto/server';
import { ILedgerServiceServer, LedgerServiceService } from './generated/ledger/v1/ledger_grpc_pb';
import * as pb from './generated/ledger/v1/ledger_pb';

/** The handlers: plain grpc-tools code; only `getClaims` is reqauth's. */
export function ledgerHandlers(onCall: (method: string, principal: string | undefined) => void = () => undefined, book = new Book()): ILedgerServiceServer {
  const seen = (method: string, call: { metadata: grpc.Metadata }) => {
    const claims = getClaims(call); // reqauth: who is calling, verified
    onCall(method, claims?.principal);
    return claims?.principal ?? '';
  };
  const entry = (tx: pb.Transaction, principal: string): Entry => ({
    id: tx.getId(),
    fromAccount: tx.getFromAccount(),
    toAccount: tx.getToAccount(),
    amount: String(tx.getAmount()),
    principal,
  });
  const transaction = (e: Entry) => new pb.Transaction().setId(e.id).setFromAccount(e.fromAccount).setToAccount(e.toAccount).setAmount(Number(e.amount));
  return {
    ping(call, callback) {
      seen('Ping', call);
      callback(null, new pb.PingResponse().setServerTimeMs(Date.now()));
    },
    getBalance(call, callback) {
      seen('GetBalance', call);
      const account = call.request.getAccount();
      callback(null, new pb.GetBalanceResponse().setAccount(account).setBalance(Number(book.balance(account))));
    },
    transfer(call, callback) {
      const principal = seen('Transfer', call);
      const tx = call.request.getTransaction();
      if (!tx) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'transaction required' });
      const error = book.transfer(entry(tx, principal));
      if (error) return callback({ code: grpc.status.FAILED_PRECONDITION, details: error });
      const balances = new pb.TransferResponse().setId(tx.getId());
      callback(null, balances.setFromBalance(Number(book.balance(tx.getFromAccount()))).setToBalance(Number(book.balance(tx.getToAccount()))));
    },
    listTransactions(call) {
      seen('ListTransactions', call);
      for (const e of book.entriesOf(call.request.getAccount(), call.request.getLimit())) {
        call.write(new pb.ListTransactionsResponse().setTransaction(transaction(e)));
      }
      call.end();
    },
    importTransactions(call, callback) {
      const principal = seen('ImportTransactions', call);
      let imported = 0;
      let total = 0;
      call.on('data', (req: pb.ImportTransactionsRequest) => {
        const tx = req.getTransaction();
        if (!tx) return;
        imported++;
        total += tx.getAmount();
        book.journal.push(entry(tx, principal));
      });
      call.on('end', () => callback(null, new pb.ImportTransactionsResponse().setImported(imported).setTotalAmount(total)));
      call.on('error', () => undefined);
    },
    reconcile(call) {
      seen('Reconcile', call);
      call.on('data', (req: pb.ReconcileRequest) => {
        const tx = req.getTransaction();
        call.write(new pb.ReconcileResponse().setId(tx?.getId() ?? '').setMatches(!!tx && book.matches(tx.getId(), String(tx.getAmount()))));
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    closeAccount(call, callback) {
      seen('CloseAccount', call);
      callback(null, new pb.CloseAccountResponse());
    },
  };
}

/** The server: reqauth's interceptor, the policy from the descriptor set, the service added through reqauth. */
export function createLedgerServer(options: { keys: KeySource; descriptorSet: Uint8Array; handlers: ILedgerServiceServer; audit?: AuditHook }): grpc.Server {
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
  runCodegenServer('grpc-tools', DESCRIPTOR_SET, (options) => createLedgerServer({ ...options, handlers: ledgerHandlers() }));
}
