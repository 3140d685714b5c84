// The web tier (principal `web`): logs a user in at the token service, gets the MFA
// discharge, and calls the frontend for the user, presenting the user's macaroon by
// possession (the signature never leaves web).
import * as grpc from '@grpc/grpc-js';
import { onBehalfOf, presentMacaroon } from '../../interceptors';
import { bindForRequest, isThirdParty, Macaroon, MacaroonPresentation, parseMacaroon } from '../../src';
import type { PayBillResponse__Output } from '../generated/tokens/shop/v1/PayBillResponse';
import { METHODS, PRINCIPALS, ShopServiceClient, TokenServiceClient, unary } from './definition';
import { TOKENS_LOCATION } from './token-service';

/** A logged-in user as web holds it: the macaroon (with its signature) and bound discharges. */
export interface WebSession {
  readonly user: string;
  readonly root: Macaroon;
  /** Each bound to `root` (bindForRequest). */
  readonly discharges: readonly Macaroon[];
  /** What Login returned: the serialized macaroon, a secret of web's. */
  readonly serialized: string;
}

export function parseToken(token: string): Macaroon {
  const parsed = parseMacaroon(token);
  if (!parsed.ok) throw new Error(`bad macaroon: ${parsed.reason}`);
  return parsed.macaroon;
}

/** Login, then a discharge for every third-party caveat the token service placed. */
export async function login(tokens: TokenServiceClient, user: string, password: string, otp: () => string): Promise<WebSession> {
  const res = await unary(tokens, 'login', { user, password });
  const root = parseToken(res.macaroon);
  const discharges: Macaroon[] = [];
  for (const c of root.caveats.filter(isThirdParty)) {
    if (c.location !== TOKENS_LOCATION) throw new Error(`no discharger for ${c.location ?? '(no location)'}`);
    const d = await unary(tokens, 'discharge', { caveatId: Buffer.from(c.identifier), otp: otp() });
    discharges.push(bindForRequest(root, parseToken(d.discharge)));
  }
  return { user, root, discharges, serialized: res.macaroon };
}

export function possession(session: Pick<WebSession, 'root' | 'discharges'>): MacaroonPresentation {
  return { root: session.root, discharges: session.discharges, presentation: 'possession' };
}

/** Metadata presenting the session's macaroon by possession, for its user. */
export function asUser(session: WebSession): grpc.Metadata {
  return presentMacaroon(possession(session), onBehalfOf(session.user));
}

export interface Bill {
  readonly billId: string;
  readonly payeeAccount: string;
  /** Minor units. */
  readonly amount: number;
}

/**
 * Pays a bill through the frontend: first a grant from the token service that lets the
 * frontend act for the user on the ledger's Transfer (web presents the user's macaroon),
 * then PayBill with that grant (web presents it again).
 */
export async function payBill(tokens: TokenServiceClient, shop: ShopServiceClient, session: WebSession, bill: Bill): Promise<PayBillResponse__Output> {
  const { grant } = await unary(tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.transfer }, asUser(session));
  return unary(shop, 'payBill', { ...bill, grant }, asUser(session));
}
