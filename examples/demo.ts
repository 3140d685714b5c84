// `npm run demo`: fresh keys from the reqauth CLI, the example ledger server and client as
// separate processes, then a round of attacks. Prints what was accepted and what was
// refused, with the reason the server's audit recorded (the clients only ever see a
// generic message). Nothing to set up; everything stays on 127.0.0.1 and in a temp dir,
// or, with `npm run demo -- --keep DIR`, in DIR, kept to explore afterwards.
import * as grpc from '@grpc/grpc-js';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { onBehalfOf, presentMacaroon, reqauthClientOptions } from '../interceptors';
import {
  addFirstPartyCaveat,
  caveat,
  ClientCredential,
  ENVELOPE_KEY,
  generateMacaroonKeyring,
  Macaroon,
  MAC_BYTES,
  macaroonKeyringToJson,
  mintUserMacaroon,
  parseCredential,
  RequestSigner,
  ResponseAuditEvent,
  signedResponseMethods,
  TRAILER_BYTES,
} from '../src';
import { capturingInterceptor, Captured, responseTamperingInterceptor, sendRawUnary, tamperingInterceptor, Tampering } from './attacks';
import { LedgerService, LedgerServiceClient, REPO_ROOT } from './ledger/definition';

const DIST = path.join(REPO_ROOT, 'dist');
const CLI = path.join(DIST, 'cli', 'reqauth.js');
/** OpenTelemetry from the standard variables, loaded before grpc-js in each child process. */
const OTEL_PRELOAD = ['--require', path.join(DIST, 'examples', 'otel-preload.js')];
const SERVICE_NAME = process.env['OTEL_SERVICE_NAME'] ?? 'ledger';

/** The environment of a child process: the user's OTEL_* settings, its own service name. */
function childEnv(serviceName: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OTEL_SERVICE_NAME: serviceName, ...extra };
  if (!extra['REQAUTH_AUDIT_DB']) delete env['REQAUTH_AUDIT_DB'];
  return env;
}
const AUDIENCE = 'ledger';
const TRANSFER = '/ledger.v1.LedgerService/Transfer';

interface AuditLine {
  decision: 'allow' | 'deny';
  reason?: string;
  method: string;
  claims?: { principal: string; onBehalfOf?: string };
}

function step(text: string): void {
  console.log(`\n== ${text}`);
}

/** Words joined into lines of at most `width` columns, continued after `indent`. */
function wrap(words: readonly string[], width: number, indent: string, joint = ' ', lineEnd = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + joint.length + word.length + lineEnd.length > width) {
      lines.push(line + lineEnd);
      line = indent + word;
    } else {
      line = line === '' ? word : line + joint + word;
    }
  }
  return [...lines, line].join('\n');
}

function cli(dir: string, ...args: string[]): void {
  console.log(wrap(['$', 'reqauth', ...args], 120, '    ', ' ', ' \\'));
  const out = execFileSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  for (const line of out.trim().split('\n')) console.log(`  ${line}`);
}

/** The example server as a child process; collects its audit lines. */
async function startServer(dir: string): Promise<{ child: ChildProcess; target: string; audit: AuditLine[]; reloads: () => number }> {
  const args = ['--port', '0', '--keys', 'service.json', '--macaroon-keys', 'macaroons.json', '--audience', AUDIENCE, '--audit-json'];
  const child = spawn(process.execPath, [...OTEL_PRELOAD, path.join(DIST, 'examples', 'ledger', 'server.js'), ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The server's decisions go to the embedded audit store as spans end (examples/otel-preload.ts).
    env: childEnv(SERVICE_NAME, { REQAUTH_AUDIT_DB: path.join(dir, 'audit.db') }),
  });
  const audit: AuditLine[] = [];
  let reloads = 0;
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      audit.push(JSON.parse(buffered.slice(0, nl)) as AuditLine);
      buffered = buffered.slice(nl + 1);
    }
  });
  const target = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (text.includes('keyring reloaded')) reloads++;
      const m = /listening on (\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, target, audit, reloads: () => reloads };
}

function runClient(dir: string, target: string, credentials: string, user: string): Promise<number> {
  const args = [path.join(DIST, 'examples', 'ledger', 'client.js'), '--target', target, '--credentials', credentials, '--on-behalf-of', user];
  console.log(`$ npm run example:client -- --target ${target} --credentials ${credentials} --on-behalf-of ${user}`);
  const child = spawn(process.execPath, [...OTEL_PRELOAD, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: childEnv(`${SERVICE_NAME}-client`) });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      for (const line of output.trimEnd().split('\n')) console.log(`  ${line}`);
      resolve(code ?? 1);
    }),
  );
}

function replaceBytes(bytes: Buffer, from: string, to: string): Buffer {
  const at = bytes.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error(`"${from}" not in the message`);
  const out = Buffer.from(bytes);
  out.write(to, at);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function transfer(client: LedgerServiceClient, id: string, metadata = new grpc.Metadata()): Promise<grpc.status> {
  const transaction = { id, fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: '100', memo: 'rent' };
  return new Promise((resolve) => client.transfer({ transaction }, metadata, (err) => resolve(err ? err.code : grpc.status.OK)));
}

function importBatch(client: LedgerServiceClient, id: string): Promise<grpc.status> {
  return new Promise((resolve) => {
    const w = client.importTransactions((err) => resolve(err ? err.code : grpc.status.OK));
    for (let i = 0; i < 3; i++) w.write({ transaction: { id: `${id}-${i}`, fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: '5' } });
    w.end();
  });
}

/** `--keep DIR`: a new or empty directory that keeps the keys and the audit store. */
function keepDir(): string | undefined {
  const { values } = parseArgs({ options: { keep: { type: 'string' } } });
  if (values.keep === undefined) return undefined;
  // Relative to where the user typed the command (npm runs scripts from the package root).
  const dir = path.resolve(process.env['INIT_CWD'] ?? process.cwd(), values.keep);
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`--keep ${values.keep}: the directory is not empty; name a new or empty one`);
  return dir;
}

/** What to try next with what --keep kept. */
function nextSteps(dir: string, keyId: string): void {
  // Relative to the repository root, where npm runs scripts (and the commands below), when
  // DIR is under it and that is where the user is; absolute otherwise.
  const rel = path.relative(process.cwd(), dir);
  const here = (process.env['INIT_CWD'] ?? process.cwd()) === process.cwd() && !rel.startsWith('..') && !path.isAbsolute(rel);
  const q = (p: string) => (/^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);
  const f = (name: string) => q(here ? path.join(rel || '.', name) : path.join(dir, name));
  const say = (...words: string[]) => console.log(wrap(words, 120, '      ', ' ', ' \\'));
  step(`Kept in ${here ? rel || '.' : dir}: the keys and the audit store`);
  console.log(`  root.json       the root keyring (the issuer's secret: never on a server)`);
  console.log(`  service.json    the ledger's service keyring, with the demo's revocations (principal frontend,`);
  console.log(`                  key ${keyId})`);
  console.log(`  frontend.json   reporting.json: client credentials`);
  console.log(`  macaroons.json  the token service's macaroon keyring`);
  console.log(`  audit.db        every decision the server made (SQLite, written from OpenTelemetry spans)`);
  console.log(`\nNext, try:`);
  say('  npx reqauth audit --db', f('audit.db'), '--decision deny');
  say('  npx reqauth audit --db', f('audit.db'), '--method Transfer --user alice --wide');
  say('  npx reqauth audit --db', f('audit.db'), '--reason replayed_nonce --json');
  console.log('  # a fresh service keyring, without the revocations, then the example server and client:');
  say('  npx reqauth derive --root', f('root.json'), '--audience ledger --out', f('service.json'));
  say('  npm run example:server -- --port 50051 --keys', f('service.json'), '--macaroon-keys', f('macaroons.json'));
  say('  npm run example:client -- --target 127.0.0.1:50051 --credentials', f('frontend.json'), '--on-behalf-of alice');
}

async function main(): Promise<void> {
  const kept = keepDir();
  const dir = kept ?? mkdtempSync(path.join(tmpdir(), 'reqauth-demo-'));
  const clients: grpc.Client[] = [];
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  const rows: { attack: string; expected: string; status: string; reason: string; ok: boolean }[] = [];
  try {
    step('Keys: a root keyring, a service keyring for the ledger, two client credentials');
    cli(dir, 'keygen', '--out', 'root.json');
    cli(dir, 'derive', '--root', 'root.json', '--audience', AUDIENCE, '--out', 'service.json');
    cli(dir, 'derive', '--root', 'root.json', '--audience', AUDIENCE, '--principal', 'frontend', '--role', 'teller', '--role', 'auditor', '--role', 'importer', '--out', 'frontend.json');
    cli(dir, 'derive', '--root', 'root.json', '--audience', AUDIENCE, '--principal', 'reporting', '--role', 'auditor', '--out', 'reporting.json');
    // The token service's macaroon keyring, shared with the ledger so it can verify users' macaroons.
    const macaroonRing = generateMacaroonKeyring();
    writeFileSync(path.join(dir, 'macaroons.json'), macaroonKeyringToJson(macaroonRing), { mode: 0o600 });
    console.log('  (token service) macaroon keyring written: macaroons.json');

    step('The ledger server, verifying with the service keyring only (no root secret)');
    server = await startServer(dir);
    console.log(`  listening on ${server.target}`);

    step('An honest client: one call of each kind, for user alice');
    const clientExit = await runClient(dir, server.target, 'frontend.json', 'alice');

    const frontend = parseCredential(readFileSync(path.join(dir, 'frontend.json'), 'utf8'));
    const reporting = parseCredential(readFileSync(path.join(dir, 'reporting.json'), 'utf8'));
    const target = server.target;
    // A client that requires signed responses where the .proto says the server signs them
    // (GetBalance, ListTransactions): its verdicts, with their reasons, are collected here.
    // The request attacks use clients that do not: a refusal the server issues before it can
    // sign (a missing role, a revoked key) reaches a requiring client as DATA_LOSS (spec §13.3).
    const verdicts: ResponseAuditEvent[] = [];
    const requireSignedResponses = signedResponseMethods(LedgerService.service);
    const client = (credential: ClientCredential | RequestSigner, below?: grpc.Interceptor, requiring = false) => {
      const opts = reqauthClientOptions({ credential, ...(requiring ? { requireSignedResponses, audit: (e: ResponseAuditEvent) => verdicts.push(e) } : {}) });
      const c = new LedgerService(target, grpc.credentials.createInsecure(), {
        ...opts,
        interceptors: below ? [...opts.interceptors!, below] : opts.interceptors!,
      }) as LedgerServiceClient;
      clients.push(c);
      return c;
    };
    const tampered = (t: Tampering) => client(frontend, tamperingInterceptor(t));

    step('A client acting for a user: the token service gave the frontend alice\'s macaroon');
    let alice = mintUserMacaroon(macaroonRing, 'tokens');
    for (const c of [caveat.user('alice'), caveat.roles('customer'), caveat.presenter('frontend'), caveat.expires(Date.now() + 15 * 60_000)]) {
      alice = addFirstPartyCaveat(alice, c);
    }
    console.log(`  macaroon caveats: ${alice.caveats.map((c) => Buffer.from(c.identifier).toString()).join('; ')}`);
    // The call names alice in the envelope too, so even a refused call is audited as hers
    // (asserted: the refusal means the macaroon did not prove it).
    const forAlice = (m: Macaroon) => presentMacaroon({ root: m, discharges: [], presentation: 'possession' }, onBehalfOf('alice'));

    step('Attacks (the client sees a generic status; the reason is from the server audit)');
    const audit = server.audit;
    const attack = async (name: string, expected: grpc.status, run: () => Promise<grpc.status>, by: 'server' | 'client' = 'server') => {
      const before = audit.length;
      const verdictsBefore = verdicts.length;
      const code = await run();
      await sleep(100); // let the server's audit line arrive
      const reasons =
        by === 'server'
          ? audit.slice(before).filter((a) => a.decision === 'deny').map((a) => a.reason)
          : verdicts.slice(verdictsBefore).map((v) => `response ${v.verdict}${v.reason ? ` ${v.reason}` : ''}`);
      const row = { attack: name, expected: grpc.status[expected], status: grpc.status[code], reason: reasons.join(',') || '-', ok: code === expected };
      rows.push(row);
      console.log(`  ${row.ok ? 'as expected' : 'UNEXPECTED '}  ${name.padEnd(46)} ${row.status.padEnd(17)} ${row.reason}`);
    };

    await attack('honest transfer (baseline)', grpc.status.OK, () => transfer(client(frontend), 'tx-honest'));
    await attack('public Ping with no credential at all', grpc.status.OK, () =>
      new Promise((resolve) => {
        const anon = new LedgerService(target, grpc.credentials.createInsecure()) as LedgerServiceClient;
        clients.push(anon);
        anon.ping({}, (err) => resolve(err ? err.code : grpc.status.OK));
      }),
    );
    await attack('no reqauth metadata', grpc.status.UNAUTHENTICATED, () => {
      const anon = new LedgerService(target, grpc.credentials.createInsecure()) as LedgerServiceClient;
      clients.push(anon);
      return transfer(anon, 'tx-anon');
    });
    await attack('tampered body: payee changed in flight', grpc.status.UNAUTHENTICATED, () =>
      transfer(tampered({ message: (bytes) => replaceBytes(bytes, 'acc-bob', 'acc-eve') }), 'tx-tampered'),
    );
    await attack('forged MAC', grpc.status.UNAUTHENTICATED, () =>
      transfer(
        tampered({
          metadata: (md) => {
            const value = md.get(ENVELOPE_KEY)[0] as Buffer;
            value.fill(7, value.length - MAC_BYTES); // the MAC is the value's last 32 bytes
          },
        }),
        'tx-forged',
      ),
    );
    const captured: Captured[] = [];
    await attack('captured honest transfer (sent once)', grpc.status.OK, () => transfer(client(frontend, capturingInterceptor(captured)), 'tx-captured'));
    await attack('replayed request (same bytes, same metadata)', grpc.status.UNAUTHENTICATED, () =>
      sendRawUnary(target, TRANSFER, captured[0]!.metadata, captured[0]!.messages[0]!),
    );
    await attack('signed GetBalance header sent to Transfer', grpc.status.UNAUTHENTICATED, async () => {
      const signed: Captured[] = [];
      await new Promise<void>((resolve) => client(frontend, capturingInterceptor(signed)).getBalance({ account: 'acc-alice' }, () => resolve()));
      return sendRawUnary(target, TRANSFER, signed[0]!.metadata, signed[0]!.messages[0]!);
    });
    await attack('wrong role: auditor calls Transfer', grpc.status.PERMISSION_DENIED, () => transfer(client(reporting), 'tx-reporting'));
    await attack('method without a rule (CloseAccount)', grpc.status.PERMISSION_DENIED, () =>
      new Promise((resolve) => client(frontend).closeAccount({ account: 'acc-bob' }, (err) => resolve(err ? err.code : grpc.status.OK))),
    );
    await attack('clock 10 minutes slow (issued-at too old)', grpc.status.UNAUTHENTICATED, () =>
      transfer(client(new RequestSigner(frontend, { now: () => Date.now() - 600_000 })), 'tx-late'),
    );
    await attack('frontend pays for alice, proving her macaroon', grpc.status.OK, () => transfer(client(frontend), 'tx-alice', forAlice(alice)));
    await attack('alice\'s macaroon, expired', grpc.status.PERMISSION_DENIED, () =>
      transfer(client(frontend), 'tx-alice-late', forAlice(addFirstPartyCaveat(alice, caveat.expires(Date.now() - 1000)))),
    );
    await attack('alice\'s macaroon, widened by the holder to bob', grpc.status.PERMISSION_DENIED, () =>
      transfer(client(frontend), 'tx-alice-bob', forAlice(addFirstPartyCaveat(alice, caveat.user('bob')))),
    );
    await attack('alice\'s macaroon presented by another service', grpc.status.PERMISSION_DENIED, () =>
      new Promise((resolve) => client(reporting).getBalance({ account: 'acc-alice' }, forAlice(alice), (err) => resolve(err ? err.code : grpc.status.OK))),
    );
    await attack('client stream with a message dropped', grpc.status.UNAUTHENTICATED, () =>
      importBatch(tampered({ message: (bytes, i) => (i === 1 ? null : bytes) }), 'batch-drop'),
    );
    await attack('client stream cut short (end marker dropped)', grpc.status.UNAUTHENTICATED, () =>
      importBatch(tampered({ message: (bytes, i) => (i >= 2 ? null : bytes) }), 'batch-cut'),
    );

    step('Responses: the server signs GetBalance and ListTransactions (sign_responses in the .proto), the client requires it');
    console.log('  (the reason is now the client\'s own verdict: the server answered honestly, the change happened on the way back)');
    const balance = (c: LedgerServiceClient) =>
      new Promise<grpc.status>((resolve) => c.getBalance({ account: 'acc-alice' }, (err) => resolve(err ? err.code : grpc.status.OK)));
    const statement = (c: LedgerServiceClient) =>
      new Promise<grpc.status>((resolve) => {
        const s = c.listTransactions({ account: 'acc-alice', limit: 0 });
        s.on('data', () => undefined);
        s.on('error', (err: grpc.ServiceError) => resolve(err.code));
        s.on('end', () => resolve(grpc.status.OK));
      });
    const GetBalance = LedgerService.service.GetBalance;
    const checking = (below?: grpc.Interceptor) => client(frontend, below, true);
    await attack('honest balance, signed and verified', grpc.status.OK, () => balance(checking()), 'client');
    await attack('response: balance rewritten to 1,000,000', grpc.status.DATA_LOSS, () =>
      balance(
        checking(
          responseTamperingInterceptor({
            message: (bytes) => {
              // Re-encode the balance, keep the tag: what an attacker who cannot sign can do.
              const body = bytes.subarray(0, bytes.length - TRAILER_BYTES);
              const decoded = GetBalance.responseDeserialize(body) as { account: string; balance: string };
              const rewritten = GetBalance.responseSerialize({ ...decoded, balance: '1000000' });
              return Buffer.concat([rewritten, bytes.subarray(bytes.length - TRAILER_BYTES)]);
            },
          }),
        ),
      ),
      'client',
    );
    await attack('response: statement cut after 1 transaction', grpc.status.DATA_LOSS, () =>
      statement(checking(responseTamperingInterceptor({ message: (bytes, i) => (i === 0 ? bytes : null) }))),
      'client',
    );
    await attack('response: OK turned into PERMISSION_DENIED', grpc.status.DATA_LOSS, () =>
      balance(checking(responseTamperingInterceptor({ status: (st) => ({ ...st, code: grpc.status.PERMISSION_DENIED, details: 'permission denied' }) }))),
      'client',
    );

    step('Revocation without restart: deny principal "frontend" in the service keyring');
    const reloadsBefore = server.reloads();
    cli(dir, 'revoke', '--root', 'service.json', '--principal', 'frontend');
    for (let i = 0; i < 50 && server.reloads() === reloadsBefore; i++) await sleep(100);
    await attack('revoked principal', grpc.status.UNAUTHENTICATED, () => transfer(client(frontend), 'tx-revoked'));
    await attack('another principal is unaffected', grpc.status.OK, () =>
      new Promise((resolve) => client(reporting).getBalance({ account: 'acc-alice' }, (err) => resolve(err ? err.code : grpc.status.OK))),
    );

    step('Revoking a key: deny the key id every credential here was issued under');
    const keyId = frontend.keyId;
    const reloadsBeforeKey = server.reloads();
    cli(dir, 'revoke', '--root', 'service.json', '--key-id', keyId);
    for (let i = 0; i < 50 && server.reloads() === reloadsBeforeKey; i++) await sleep(100);
    await attack('a credential under the revoked key', grpc.status.UNAUTHENTICATED, () =>
      new Promise((resolve) => client(reporting).getBalance({ account: 'acc-alice' }, (err) => resolve(err ? err.code : grpc.status.OK))),
    );

    step('Server audit: decisions by outcome');
    const allowed = audit.filter((a) => a.decision === 'allow').length;
    const denied = audit.filter((a) => a.decision === 'deny');
    console.log(wrap([`  ${allowed} allowed, ${denied.length} denied:`, ...[...new Set(denied.map((a) => a.reason ?? '-'))]], 120, '    ', ' '));

    step('The audit, from the embedded store (OpenTelemetry spans -> SQLite; --wide adds trace ids)');
    cli(dir, 'audit', '--db', 'audit.db', '--since', '1h', '--limit', '50');
    step('Who was refused, and why: alice\'s refused calls');
    cli(dir, 'audit', '--db', 'audit.db', '--user', 'alice', '--decision', 'deny');
    if (process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
      console.log(`  traces were also exported over OTLP; in Jaeger search service ${SERVICE_NAME}, tags: user.id=alice reqauth.decision=deny`);
    }

    if (kept) nextSteps(kept, keyId);

    const failed = rows.filter((r) => !r.ok);
    console.log(`\n${clientExit === 0 ? 'honest client: all calls OK' : 'honest client FAILED'}; attacks: ${rows.length - failed.length}/${rows.length} as expected`);
    if (clientExit !== 0 || failed.length > 0) process.exitCode = 1;
  } finally {
    for (const c of clients) c.close();
    server?.child.kill('SIGTERM');
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
