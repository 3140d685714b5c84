// The bench's server, run as a child process so that it and the client (bench.ts) each get
// their own core. Started by bench.ts with child_process.fork:
//
//   node dist/bench/server.js plain|reqauth
//
// Environment: BENCH_KEYRING — the service keyring JSON for audience "ledger" (reqauth mode
// only; the parent keeps the root keyring and issues the client credential from it).
// It binds 127.0.0.1:0 and reports `{ "port": N }` over the IPC channel (and prints
// `port N` on stdout for running it by hand). It exits when the parent disconnects or sends
// "stop", through process.exit so that `--cpu-prof` writes its profile.
import * as grpc from '@grpc/grpc-js';
import { LedgerService } from '../examples/ledger/definition';
import { ReqauthServer } from '../interceptors';
import { parseKeyring, policyFromServiceDefinition, staticKeySource } from '../src';
import { benchHandlers, served } from './handlers';

export const AUDIENCE = 'ledger';

// Large enough for the 64 KiB case with room to spare; the default is 4 MiB anyway.
const CHANNEL_OPTIONS: grpc.ServerOptions = { 'grpc.max_receive_message_length': 8 * 1024 * 1024 };

function main(): void {
  const mode = process.argv[2] ?? process.env['BENCH_MODE'];
  let server: grpc.Server;
  if (mode === 'plain') {
    server = new grpc.Server(CHANNEL_OPTIONS);
    server.addService(LedgerService.service, benchHandlers());
  } else if (mode === 'reqauth') {
    const ringJson = process.env['BENCH_KEYRING'];
    if (!ringJson) throw new Error('reqauth mode needs BENCH_KEYRING');
    // Exactly like test/support/harness.ts: ReqauthServer as the (only) server interceptor,
    // the wrapped service definition, the policy from the proto's access options (Transfer:
    // role "teller", which the bench credential holds). No audit hook: the harness's pushes
    // every event into an array, which would grow without bound here.
    const auth = new ReqauthServer({
      keys: staticKeySource(parseKeyring(ringJson), AUDIENCE),
      policy: policyFromServiceDefinition(LedgerService.service),
    });
    server = new grpc.Server({ ...CHANNEL_OPTIONS, interceptors: [auth.interceptor] });
    auth.addService(server, LedgerService.service, benchHandlers());
  } else {
    throw new Error(`usage: server.js plain|reqauth (got ${String(mode)})`);
  }
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    if (process.send) process.send({ port });
    else console.log(`port ${port}`);
  });
  const stop = () => {
    server.forceShutdown();
    process.exit(0);
  };
  process.on('disconnect', stop);
  process.on('message', (m) => {
    if (m === 'stop') stop();
    // CPU accounting: the parent reads this before and after each measured run.
    else if (m === 'cpu') process.send?.({ cpu: process.cpuUsage(), transfers: served.transfers });
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// bench.ts imports AUDIENCE from here; only run as the entry point.
if (require.main === module) main();
