// Loads the ledger service definition from its .proto with @grpc/proto-loader; the types
// come from `npm run gen` (proto-loader-gen-types) into examples/generated/.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'node:path';
import type { ProtoGrpcType } from '../generated/ledger';
import type { LedgerServiceClient } from '../generated/ledger/v1/LedgerService';

/** The repository root, found from this file in either src or dist layout. */
export const REPO_ROOT = findRoot(__dirname);

function findRoot(dir: string): string {
  // examples/ledger -> repo, or dist/examples/ledger -> repo
  const up = path.resolve(dir, '..', '..');
  return path.basename(up) === 'dist' ? path.resolve(up, '..') : up;
}

export const LEDGER_PROTO = 'ledger/v1/ledger.proto';
export const INCLUDE_DIRS = [path.join(REPO_ROOT, 'proto'), path.join(REPO_ROOT, 'examples', 'proto')];

const packageDefinition = protoLoader.loadSync(LEDGER_PROTO, {
  includeDirs: INCLUDE_DIRS,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;

/** The client constructor; `LedgerService.service` is the service definition. */
export const LedgerService = loaded.ledger.v1.LedgerService;
export type { LedgerServiceClient };
