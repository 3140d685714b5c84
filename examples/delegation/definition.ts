// Loads the delegation example's two services from their .proto files with
// @grpc/proto-loader (types from `npm run gen`): the token service and the frontend's shop.
// The backend is the ledger of examples/ledger, unchanged.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as ShopProto } from '../generated/shop';
import type { ProtoGrpcType as TokensProto } from '../generated/tokens';
import type { ShopServiceClient } from '../generated/tokens/shop/v1/ShopService';
import type { TokenServiceClient } from '../generated/tokens/v1/TokenService';
import { INCLUDE_DIRS } from '../ledger/definition';

const load = (file: string) =>
  grpc.loadPackageDefinition(protoLoader.loadSync(file, { includeDirs: INCLUDE_DIRS, longs: String, enums: String, defaults: true, oneofs: true }));

/** The client constructor; `TokenService.service` is the service definition. */
export const TokenService = (load('tokens/v1/tokens.proto') as unknown as TokensProto).tokens.v1.TokenService;
/** The frontend's service: pays a user's bill through the ledger. */
export const ShopService = (load('tokens/shop/v1/shop.proto') as unknown as ShopProto).tokens.shop.v1.ShopService;
export type { ShopServiceClient, TokenServiceClient };

/** The audiences (one per service) and the principals of the example. */
export const AUDIENCES = { tokens: 'tokens', frontend: 'frontend', ledger: 'ledger' } as const;
export const PRINCIPALS = { web: 'web', frontend: 'frontend' } as const;

export const METHODS = {
  transfer: '/ledger.v1.LedgerService/Transfer',
  getBalance: '/ledger.v1.LedgerService/GetBalance',
  payBill: '/tokens.shop.v1.ShopService/PayBill',
  delegate: '/tokens.v1.TokenService/Delegate',
} as const;

type Unary<Req, Res> = (argument: Req, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;
type RequestOf<M> = M extends Unary<infer Req, unknown> ? Req : never;
type ResponseOf<M> = M extends Unary<never, infer Res> ? Res : never;
type UnaryMethods<C> = { [K in keyof C]: C[K] extends Unary<never, unknown> ? K : never }[keyof C];

/** A unary call as a promise: `await unary(tokens, 'login', { user, password })`. */
export function unary<C extends grpc.Client, K extends UnaryMethods<C>>(
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<ResponseOf<C[K]>> {
  const fn = client[method] as unknown as (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => unknown;
  return new Promise((resolve, reject) => fn.call(client, request, metadata, (err, res) => (err ? reject(err) : resolve(res as ResponseOf<C[K]>))));
}
