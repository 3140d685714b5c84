// The bench's server: one child process per configuration, started by bench.ts (with
// --expose-gc, so that memory can be read after a full collection).
//
// Environment: BENCH_CONFIG (plain|noop|floor|reqauth|jwt), BENCH_MATERIAL (Material, JSON).
// Binds 127.0.0.1:0 and reports its port when ready. Commands (bench/proc.ts):
//   cpu            this process's user + system CPU so far (µs) and the handlers' counts
//   mem {gc}       process.memoryUsage(), after two full collections if `gc`, and the
//                  configuration's own numbers (reqauth: the replay cache's entries)
//   profile-start / profile-stop
import * as grpc from '@grpc/grpc-js';
import { LedgerService } from '../examples/ledger/definition';
import { ConfigName, isConfig, serverSetup } from './configs';
import { benchHandlers, served } from './handlers';
import { LISTED_BYTES, transactionOfSize } from './messages';
import { fatal, serve } from './proc';
import { startProfile, stopProfile } from './profile';
import { Material } from './reqauth-setup';

// grpc-js's default limit (4 MiB) takes the 1 MiB case; the room is for larger ad-hoc runs.
const SERVER_OPTIONS: grpc.ServerOptions = { 'grpc.max_receive_message_length': 8 * 1024 * 1024 };

async function main(): Promise<void> {
  const config = process.env['BENCH_CONFIG'] ?? '';
  const material = JSON.parse(process.env['BENCH_MATERIAL'] ?? 'null') as Material | null;
  if (!isConfig(config) || !material) throw new Error('server.ts needs BENCH_CONFIG and BENCH_MATERIAL');
  const setup = await serverSetup(config as ConfigName, material, SERVER_OPTIONS);
  setup.add(
    LedgerService.service,
    benchHandlers({
      principalOf: setup.principalOf,
      requirePrincipal: config === 'reqauth' || config === 'jwt',
      listed: transactionOfSize(LISTED_BYTES),
    }) as unknown as grpc.UntypedServiceImplementation,
  );
  const port = await new Promise<number>((resolve, reject) =>
    setup.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  serve(
    { config, port },
    {
      cpu() {
        const c = process.cpuUsage();
        return { cpuUs: c.user + c.system, served: { ...served } };
      },
      mem(a) {
        if ((a as { gc?: boolean }).gc) {
          if (!gc) throw new Error('start the server with --expose-gc');
          gc();
          gc();
        }
        return { ...process.memoryUsage(), ...setup.stats() };
      },
      'profile-start': (a) => startProfile((a as { intervalUs: number }).intervalUs),
      'profile-stop': (a) => stopProfile((a as { file: string }).file),
      stop() {
        setup.server.forceShutdown();
      },
    },
  );
}

main().catch(fatal);
