// The command line of the codegen-style example servers (examples/ts-proto/server.ts,
// examples/grpc-tools/server.ts): the same flags, keyring file, bind and shutdown for each, so
// each example file shows only what its codegen style changes.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AuditHook, KeyringFile, KeySource } from '../src';
import { printable } from '../cli/printable';

export interface CodegenServerOptions {
  keys: KeySource;
  descriptorSet: Uint8Array;
  audit: AuditHook;
}

/** Parses the flags, starts the server `create` builds, and stops it on SIGINT/SIGTERM. */
export function runCodegenServer(style: string, defaultDescriptorSet: string, create: (options: CodegenServerOptions) => grpc.Server): void {
  main(style, defaultDescriptorSet, create).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}

async function main(style: string, defaultDescriptorSet: string, create: (options: CodegenServerOptions) => grpc.Server): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '50051' },
      keys: { type: 'string' },
      audience: { type: 'string', default: 'ledger' },
      'descriptor-set': { type: 'string', default: defaultDescriptorSet },
    },
  });
  if (!values.keys) {
    console.error(`usage: node dist/examples/${style}/server.js --port N --keys service.json [--audience A] [--descriptor-set ledger.binpb]`);
    process.exit(2);
  }
  const keys = new KeyringFile(values.keys, { audience: values.audience });
  const server = create({
    keys,
    descriptorSet: readFileSync(values['descriptor-set']),
    // What a request supplied is printed escaped (cli/printable.ts).
    audit: (e) => console.log(`${e.decision} ${printable(e.method)} ${e.claims ? printable(e.claims.principal) : '-'}${e.reason ? ` reason=${e.reason}` : ''}`),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${values.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  console.error(`ledger server (${style}) listening on 127.0.0.1:${port}`);
  const stop = () => server.tryShutdown(() => (keys.close(), process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
