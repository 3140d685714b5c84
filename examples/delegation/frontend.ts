// The frontend: pays a user's bill from the user's own ledger account.
//
// It is called by `web`, which presents the user's macaroon by possession: the claims prove
// the user (chain user -> web). To call the ledger for that user the frontend needs a
// macaroon it may present itself, so it redeems the grant web obtained for it from the token
// service (for the user its caller proved, and no other), narrows what it gets to this one
// call's life, and presents it to the ledger by possession: chain user -> web -> frontend.
import * as grpc from '@grpc/grpc-js';
import { getClaims, onBehalfOf, presentMacaroon } from '../../interceptors';
import { addFirstPartyCaveat, caveat, Claims, parseMacaroon } from '../../src';
import type { ShopServiceHandlers } from '../generated/tokens/shop/v1/ShopService';
import type { LedgerServiceClient } from '../ledger/definition';
import { TokenServiceClient, unary } from './definition';

export interface FrontendOptions {
  /** A client of the token service with the frontend's credential (audience tokens). */
  tokens: TokenServiceClient;
  /** A client of the ledger with the frontend's credential (audience ledger). */
  ledger: LedgerServiceClient;
  /** Whose account is whose. */
  accounts?: Readonly<Record<string, string>>;
  /** How long the macaroon the frontend presents to the ledger lives (it narrows to this). */
  callLifetimeMs?: number;
  now?: () => number;
  onCall?: (method: string, claims: Claims | undefined) => void;
}

export const ACCOUNTS: Readonly<Record<string, string>> = { alice: 'acc-alice', bob: 'acc-bob' };

export function createFrontend(options: FrontendOptions): { handlers: ShopServiceHandlers } {
  const accounts = options.accounts ?? ACCOUNTS;
  const now = options.now ?? Date.now;
  const callLifetimeMs = options.callLifetimeMs ?? 30_000;
  const { tokens, ledger } = options;

  const handlers: ShopServiceHandlers = {
    async PayBill(call, callback) {
      const claims = getClaims(call);
      options.onCall?.('PayBill', claims);
      // The user as a macaroon proved it, never as a request field says.
      if (!claims?.userVerified || claims.onBehalfOf === undefined) {
        return callback({ code: grpc.status.PERMISSION_DENIED, details: "a user's macaroon is required" });
      }
      const user = claims.onBehalfOf;
      if (!claims.userRoles?.includes('customer')) return callback({ code: grpc.status.PERMISSION_DENIED, details: 'customers only' });
      const fromAccount = accounts[user];
      if (!fromAccount) return callback({ code: grpc.status.FAILED_PRECONDITION, details: 'no account' });
      const { billId, payeeAccount, amount, grant } = call.request;
      try {
        // 1. The grant web obtained for this frontend, for this user (the token service checks both).
        const redeemed = await unary(tokens, 'redeem', { grant }, onBehalfOf(user));
        const parsed = parseMacaroon(redeemed.macaroon);
        if (!parsed.ok) return callback({ code: grpc.status.INTERNAL, details: 'bad macaroon from the token service' });
        // 2. Narrow it to this call before it leaves: a short life.
        const root = addFirstPartyCaveat(parsed.macaroon, caveat.expires(now() + callLifetimeMs));
        // 3. The transfer, for the user, presented by possession under the frontend's own envelope.
        const md = presentMacaroon({ root, discharges: [], presentation: 'possession' }, onBehalfOf(user));
        const res = await unary(ledger, 'transfer', { transaction: { id: `bill-${billId}`, fromAccount, toAccount: payeeAccount, amount, memo: `bill ${billId}` } }, md);
        callback(null, { transactionId: res.id, fromAccount, fromBalance: res.fromBalance });
      } catch (err) {
        const e = err as grpc.ServiceError;
        callback({ code: typeof e.code === 'number' ? e.code : grpc.status.INTERNAL, details: `downstream refused: ${e.details ?? e.message}` });
      }
    },
  };
  return { handlers };
}
