// The command line of the codegen-style example clients (examples/ts-proto/client.ts,
// examples/grpc-tools/client.ts): the same flags and report for each, so each example file
// shows only what its codegen style changes.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClientCredential, parseCredential } from '../src';

/** One call of each kind; resolves to each method's final status. */
export type Tour = (target: string, credential: ClientCredential, onBehalfOf: string | undefined) => Promise<Record<string, grpc.status>>;

/** Parses the flags, runs the tour, prints each method's status; exit code 1 unless all are OK. */
export function runCodegenClient(style: string, tour: Tour): void {
  main(style, tour).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}

async function main(style: string, tour: Tour): Promise<void> {
  const { values } = parseArgs({
    options: { target: { type: 'string', default: '127.0.0.1:50051' }, credentials: { type: 'string' }, 'on-behalf-of': { type: 'string' } },
  });
  if (!values.credentials) {
    console.error(`usage: node dist/examples/${style}/client.js --target HOST:PORT --credentials cred.json [--on-behalf-of USER]`);
    process.exit(2);
  }
  const outcomes = await tour(values.target, parseCredential(readFileSync(values.credentials, 'utf8')), values['on-behalf-of']);
  for (const [method, status] of Object.entries(outcomes)) console.log(`${method.padEnd(20)} ${grpc.status[status]}`);
  process.exitCode = Object.values(outcomes).every((s) => s === grpc.status.OK) ? 0 : 1;
}
