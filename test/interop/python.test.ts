// Interop with the Python package (python/), both directions, over real gRPC on loopback:
//
//   Python client -> TypeScript ledger server (examples/ledger)
//   TypeScript client -> Python ledger server (python/examples/ledger_server.py)
//   Python client -> TypeScript token service (examples/delegation): alice's macaroon and its
//     MFA discharge, then presented by possession to the Python ledger (and to the TypeScript one)
//
// Honest calls of all four kinds are accepted; tampered, replayed, truncated and
// wrong-audience calls are refused, and each side's audit names the same reason code.
// Signed responses (docs/spec.md §13): each side's client, requiring them, verifies the other
// side's server's; a man in the middle (test/support/mitm-proxy.ts) that tampers with the
// response is caught by both clients with the same reason.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { reqauthClientOptions } from '../../interceptors';
import {
  AuditEvent,
  ClientCredential,
  credentialToJson,
  issueCredential,
  keyringToJson,
  macaroonKeyringToJson,
  ResponseAuditEvent,
  serviceKeyringFor,
  signedResponseMethods,
} from '../../src';
import { startDelegationExample, DelegationExample } from '../../examples/delegation/services';
import { totp } from '../../examples/delegation/token-service';
import { DEMO_USERS } from '../../examples/delegation/users';
import { LedgerService, LedgerServiceClient } from '../../examples/ledger/definition';
import { RunningServer, startLedgerServer } from '../../examples/ledger/server';
import { attacker, flip, rawUnary, recorder } from '../support/attacker';
import { endFields, MitmProxy, ResponsePlan, startMitmProxy } from '../support/mitm-proxy';
import { repoRoot } from '../support/vectors';

const PYTHON = '/usr/bin/python3';
const ROOT = repoRoot();

/** A line-oriented child: JSON lines out, collected; commands in. */
class Child {
  readonly lines: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  readonly stderr: string[] = [];

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
    proc.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
  }

  /** Waits until `count` lines have arrived (or fails after `ms`). */
  async waitFor(count: number, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.lines.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for output; stderr: ${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Ends its stdin, which ends it (so its own clean-up runs); kills it if it lingers. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin?.end();
    const timer = setTimeout(() => this.proc.kill(), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

function python(args: string[]): Child {
  return new Child(spawn(PYTHON, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** The Python client process: one case per line, one result line per case. */
class PyClient {
  constructor(private readonly child: Child) {}
  async run(name: string, arg = ''): Promise<{ case: string; code: number; [k: string]: unknown }> {
    const n = this.child.lines.length;
    this.child.proc.stdin!.write(`${name} ${arg}\n`);
    await this.child.waitFor(n + 1, 20_000);
    return this.child.lines[n] as { case: string; code: number };
  }
  close(): Promise<void> {
    return this.child.close();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('interop: the Python package and the TypeScript implementation, both directions', function () {
  this.timeout(60_000);
  let ex: DelegationExample;
  let dir: string;
  let tsLedger: RunningServer;
  const tsAudit: AuditEvent[] = [];
  let pyServer: Child;
  let pyTarget: string;
  let pyToTs: PyClient;
  let pyToPy: PyClient;
  const cred: Record<string, ClientCredential> = {};
  const clients: grpc.Client[] = [];
  /** Attack -> [reason audited by the TypeScript server, reason audited by the Python server]. */
  const matrix: Record<string, [string | undefined, string | undefined]> = {};
  /** Response attack -> [reason of the Python client (TypeScript server), of the TypeScript client (Python server)]. */
  const responseMatrix: Record<string, [string | undefined, string | undefined]> = {};
  let proxyToTs: MitmProxy;
  let proxyToPy: MitmProxy;

  before(async function () {
    const probe = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf, nacl'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`python3-grpcio, python3-protobuf and python3-nacl are needed (scripts/install-test-deps.sh): ${probe.stderr}`);
    ex = await startDelegationExample();
    dir = mkdtempSync(join(tmpdir(), 'reqauth-interop-'));
    const ring = ex.rootKeyring;
    writeFileSync(join(dir, 'ledger.json'), keyringToJson(serviceKeyringFor(ring, 'ledger')));
    writeFileSync(join(dir, 'macaroons.json'), macaroonKeyringToJson(ex.macaroonKeyring));
    const creds: Record<string, ClientCredential> = {
      frontdesk: issueCredential(ring, 'ledger', 'frontdesk', ['teller']),
      batch: issueCredential(ring, 'ledger', 'batch-importer', []),
      auditor: issueCredential(ring, 'ledger', 'auditor-bot', ['auditor']),
      billing: issueCredential(ring, 'billing', 'frontdesk', ['teller']),
      web_tokens: ex.credential('tokens', 'web'),
      web_ledger: issueCredential(ring, 'ledger', 'web', ['teller']),
    };
    Object.assign(cred, creds);
    const paths: Record<string, string> = {};
    for (const [name, c] of Object.entries(creds)) {
      paths[name] = join(dir, `${name}.json`);
      writeFileSync(paths[name]!, credentialToJson(c));
    }
    tsLedger = await startLedgerServer({
      port: 0,
      keysPath: join(dir, 'ledger.json'),
      macaroonKeysPath: join(dir, 'macaroons.json'),
      audience: 'ledger',
      audit: (e) => tsAudit.push(e),
    });
    // The Python ledger signs every method's responses (the TypeScript one: those its .proto marks).
    pyServer = python(['python/examples/ledger_server.py', '--keys', join(dir, 'ledger.json'), '--macaroon-keys', join(dir, 'macaroons.json'), '--sign-responses']);
    await pyServer.waitFor(1, 20_000);
    pyTarget = `127.0.0.1:${(pyServer.lines[0] as { listening: number }).listening}`;
    const config = (ledger: string) => {
      const file = join(dir, `client-${ledger.replace(/\W/g, '_')}.json`);
      writeFileSync(file, JSON.stringify({ ledger, tokens: ex.tokens.target, credentials: paths }));
      return file;
    };
    pyToTs = new PyClient(python(['python/interop/client.py', config(`127.0.0.1:${tsLedger.port}`)]));
    pyToPy = new PyClient(python(['python/interop/client.py', config(pyTarget)]));
    proxyToTs = await startMitmProxy(`127.0.0.1:${tsLedger.port}`);
    proxyToPy = await startMitmProxy(pyTarget);
  });

  after(async () => {
    await Promise.all([pyToTs?.close(), pyToPy?.close(), pyServer?.close(), proxyToTs?.close(), proxyToPy?.close()]);
    for (const c of clients) c.close();
    await tsLedger?.close();
    await ex?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (Object.keys(matrix).length) {
      console.log('      interop matrix (attack: TypeScript server / Python server):');
      for (const [k, [a, b]] of Object.entries(matrix)) console.log(`        ${k.padEnd(18)} ${a} / ${b}`);
    }
    if (Object.keys(responseMatrix).length) {
      console.log('      response matrix (attack: Python client of the TypeScript server / TypeScript client of the Python server):');
      for (const [k, [a, b]] of Object.entries(responseMatrix)) console.log(`        ${k.padEnd(18)} ${a} / ${b}`);
    }
  });

  const pyAudit = () => pyServer.lines.slice(1).map((l) => (l as { audit: { decision: string; reason?: string; claims?: Record<string, unknown> } }).audit);

  /** Runs a Python client case against the TypeScript server; returns its result and the audit events it caused. */
  async function pyCase(name: string, arg = '') {
    const n = tsAudit.length;
    const result = await pyToTs.run(name, arg);
    await settle();
    return { result, audit: tsAudit.slice(n) };
  }

  /**
   * Runs `call` (a TypeScript client) against the Python server; returns the status and the
   * audit lines it caused, once one with the decision `until` has arrived.
   */
  async function tsCase(call: () => Promise<unknown>, until: 'allow' | 'deny' = 'allow') {
    const n = pyAudit().length;
    let code = 0;
    try {
      await call();
    } catch (err) {
      code = (err as grpc.ServiceError).code;
    }
    const deadline = Date.now() + 5_000;
    while (!pyAudit().slice(n).some((e) => e.decision === until) && Date.now() < deadline) await settle();
    await settle();
    return { code, audit: pyAudit().slice(n) };
  }

  const lastDeny = (events: { decision: string; reason?: string }[]) => events.filter((e) => e.decision === 'deny').at(-1)?.reason;

  function tsClient(c: ClientCredential, interceptors: grpc.Interceptor[] = [], target = pyTarget): LedgerServiceClient {
    const opts = reqauthClientOptions({ credential: c });
    const client = new LedgerService(target, grpc.credentials.createInsecure(), { ...opts, interceptors: [...(opts.interceptors ?? []), ...interceptors] });
    clients.push(client);
    return client;
  }
  const tx = (i: number, amount = 100) => ({ transaction: { id: `ts-${i}`, fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: String(amount) } });
  const unaryCall = (c: LedgerServiceClient, i = 1, md = new grpc.Metadata()) =>
    new Promise((resolve, reject) => c.transfer(tx(i), md, (err, res) => (err ? reject(err) : resolve(res))));
  const importCall = (c: LedgerServiceClient, n = 3) =>
    new Promise((resolve, reject) => {
      const call = c.importTransactions((err, res) => (err ? reject(err) : resolve(res)));
      for (let i = 0; i < n; i++) call.write(tx(i));
      call.end();
    });

  describe('Python client -> TypeScript ledger server', () => {
    for (const [name, check] of [
      ['honest_unary', (r: Record<string, unknown>) => expect(r['from_balance']).to.equal(9_900)],
      ['honest_server_stream', (r: Record<string, unknown>) => expect(r['rows']).to.equal(1)],
      ['honest_client_stream', (r: Record<string, unknown>) => expect(r['imported']).to.equal(3)],
      ['honest_bidi', (r: Record<string, unknown>) => expect(r['answers']).to.equal(2)],
    ] as const) {
      it(`${name} is accepted`, async () => {
        const { result, audit } = await pyCase(name);
        expect(result.code, JSON.stringify(result)).to.equal(0);
        check(result);
        expect(audit.map((e) => e.decision)).to.deep.equal(['allow']);
      });
    }
  });

  describe('TypeScript client -> Python ledger server', () => {
    it('all four call kinds are accepted', async () => {
      const c = tsClient(cred['frontdesk']!);
      const u = await tsCase(() => unaryCall(c, 1));
      expect(u.code).to.equal(0);
      const list = tsClient(cred['frontdesk']!);
      const rows: unknown[] = [];
      const s = await tsCase(
        () =>
          new Promise<void>((resolve, reject) => {
            const st = list.listTransactions({ account: 'acc-alice', limit: 1 });
            st.on('data', (d) => rows.push(d));
            st.on('error', reject);
            st.on('end', () => resolve());
          }),
      );
      expect(s.code).to.equal(0);
      expect(rows).to.have.length(1);
      const cs = await tsCase(() => importCall(tsClient(cred['batch']!)));
      expect(cs.code).to.equal(0);
      const answers: unknown[] = [];
      const bidi = tsClient(cred['auditor']!);
      const b = await tsCase(
        () =>
          new Promise<void>((resolve, reject) => {
            const st = bidi.reconcile();
            st.on('data', (d) => answers.push(d));
            st.on('error', reject);
            st.on('end', () => resolve());
            st.write(tx(1));
            st.write(tx(2));
            st.end();
          }),
      ).catch((e) => ({ code: -1, audit: [e] }));
      expect(b.code).to.equal(0);
      expect(answers).to.have.length(2);
      for (const r of [u, s, cs, b]) expect(r.audit.map((e) => (e as { decision: string }).decision)).to.deep.equal(['allow']);
    });
  });

  describe('attacks are refused with the same reason on both sides', () => {
    const cases: [string, string, () => Promise<unknown>][] = [];
    const add = (attack: string, reason: string, ts: () => Promise<unknown>) => cases.push([attack, reason, ts]);
    add('tampered_unary', 'bad_digest', () => unaryCall(tsClient(cred['frontdesk']!, [attacker({ message: (f) => [flip(f.bytes, -1)] })])));
    add('tampered_stream', 'bad_stream_tag', () => importCall(tsClient(cred['batch']!, [attacker({ message: (f) => [f.index === 1 ? flip(f.bytes, 0) : f.bytes] })])));
    add('truncated_stream', 'stream_truncated', () => importCall(tsClient(cred['batch']!, [attacker({ message: (f) => (f.end ? [] : [f.bytes]) })])));
    add('wrong_audience', 'wrong_audience', () => unaryCall(tsClient(cred['billing']!)));
    add('replayed_unary', 'replayed_nonce', async () => {
      const rec = recorder();
      await unaryCall(tsClient(cred['frontdesk']!, [rec.interceptor]), 5);
      const captured = rec.calls[0]!;
      return rawUnary(pyTarget, '/ledger.v1.LedgerService/Transfer', captured.metadata, captured.frames[0]!);
    });
    for (const [attack, reason, ts] of cases) {
      it(`${attack}: ${reason}`, async () => {
        const py = await pyCase(attack);
        expect(py.result.code, JSON.stringify(py.result)).to.equal(16);
        const tsSide = await tsCase(ts, 'deny');
        expect(tsSide.code).to.equal(grpc.status.UNAUTHENTICATED);
        const reasons: [string | undefined, string | undefined] = [lastDeny(py.audit), lastDeny(tsSide.audit as { decision: string; reason?: string }[])];
        matrix[attack] = reasons;
        expect(reasons).to.deep.equal([reason, reason]);
      });
    }
  });

  describe('signed responses (§13), both directions', () => {
    const verdicts: ResponseAuditEvent[] = [];
    /** A TypeScript client that requires signed responses (of `require`), recording its verdicts. */
    function requiring(c: ClientCredential, require: true | ReadonlySet<string> | readonly string[], target = pyTarget): LedgerServiceClient {
      const opts = reqauthClientOptions({ credential: c, requireSignedResponses: require as never, audit: (v: ResponseAuditEvent) => verdicts.push(v) });
      const client = new LedgerService(target, grpc.credentials.createInsecure(), opts);
      clients.push(client);
      return client;
    }
    const signedMethods = signedResponseMethods(LedgerService.service);
    const balance = (c: LedgerServiceClient) =>
      new Promise<{ balance: string }>((resolve, reject) =>
        c.getBalance({ account: 'acc-alice' }, (err, res) => (err ? reject(err) : resolve(res as { balance: string }))),
      );
    const statement = (c: LedgerServiceClient) =>
      new Promise<unknown[]>((resolve, reject) => {
        const rows: unknown[] = [];
        const st = c.listTransactions({ account: 'acc-alice' });
        st.on('data', (d) => rows.push(d));
        st.on('error', reject);
        st.on('end', () => resolve(rows));
      });
    const codeOf = (p: Promise<unknown>) => p.then(() => 0, (e: grpc.ServiceError) => e.code);

    it('a Python client verifies the TypeScript ledger\'s signed GetBalance and ListTransactions', async () => {
      for (const name of ['signed_balance', 'signed_statement']) {
        const { result, audit } = await pyCase(name);
        expect(result.code, JSON.stringify(result)).to.equal(0);
        expect(result['verdicts']).to.deep.equal([{ method: `/ledger.v1.LedgerService/${name === 'signed_balance' ? 'GetBalance' : 'ListTransactions'}`, verdict: 'verified', receivedCode: 0 }]);
        expect(audit.map((e) => e.decision)).to.deep.equal(['allow']);
      }
      // Transfer is not signed by the .proto: a client that requires it anyway gets DATA_LOSS (§13.5).
      const { result } = await pyCase('signed_transfer_required');
      expect([result.code, (result['verdicts'] as { reason: string }[])[0]!.reason]).to.deep.equal([grpc.status.DATA_LOSS, 'missing_response_tag']);
    });

    it('a TypeScript client verifies the Python ledger\'s signed responses, all four kinds and an error', async () => {
      const n = verdicts.length;
      expect(Number((await balance(requiring(cred['auditor']!, signedMethods))).balance)).to.be.a('number');
      expect(await statement(requiring(cred['auditor']!, signedMethods))).to.be.an('array');
      const all = requiring(cred['frontdesk']!, true);
      expect(await codeOf(unaryCall(all, 20))).to.equal(0);
      // An error status the handler chose, signed by the Python server and verified as is.
      const tooMuch = new Promise((resolve, reject) => all.transfer(tx(21, 1e9), (err, res) => (err ? reject(err) : resolve(res))));
      expect(await codeOf(tooMuch)).to.equal(grpc.status.FAILED_PRECONDITION);
      expect(await codeOf(importCall(requiring(cred['batch']!, true)))).to.equal(0);
      const bidi = requiring(cred['auditor']!, true);
      const answers = await new Promise<unknown[]>((resolve, reject) => {
        const out: unknown[] = [];
        const st = bidi.reconcile();
        st.on('data', (d) => out.push(d));
        st.on('error', reject);
        st.on('end', () => resolve(out));
        st.write(tx(1));
        st.write(tx(2));
        st.end();
      });
      expect(answers).to.have.length(2);
      expect(verdicts.slice(n).map((v) => [v.method.split('/').pop(), v.verdict, v.reason])).to.deep.equal([
        ['GetBalance', 'verified', undefined],
        ['ListTransactions', 'verified', undefined],
        ['Transfer', 'verified', undefined],
        ['Transfer', 'verified', undefined],
        ['ImportTransactions', 'verified', undefined],
        ['Reconcile', 'verified', undefined],
      ]);
    });

    // Each plan is made for its proxy, so a replay answers with that server's own earlier response.
    const attacks: [string, string, 'balance' | 'statement', (proxy: MitmProxy) => ResponsePlan][] = [
      ['flipped_message', 'bad_response_tag', 'balance', () => ({ message: (m) => [flip(m.bytes, 0)] })],
      ['stripped_end', 'missing_response_end', 'balance', () => ({ end: (t) => { delete t['reqauth-response-bin']; return { trailers: t }; } })],
      ['ok_to_error', 'bad_response_end', 'balance', () => ({ end: (t) => ({ trailers: { ...t, 'grpc-status': '9', 'grpc-message': 'insufficient funds' } }) })],
      ['replayed', 'bad_response_tag', 'balance', (proxy) => {
        const earlier = proxy.calls.filter((c) => c.path.endsWith('/GetBalance') && c.messages.length === 1).at(-1)!;
        return { message: () => [earlier.messages[0]!], end: () => ({ trailers: endFields(earlier) }) };
      }],
      ['cut_short', 'response_truncated', 'statement', () => ({ message: (m) => (m.index === 0 ? [m.bytes] : []) })],
    ];
    for (const [attack, reason, call, plan] of attacks) {
      it(`a tampered response (${attack}) is refused by both clients: ${reason}`, async () => {
        proxyToTs.plan = plan(proxyToTs);
        proxyToPy.plan = plan(proxyToPy);
        try {
          const { result } = await pyCase(call === 'balance' ? 'signed_balance' : 'signed_statement', proxyToTs.target);
          const n = verdicts.length;
          const ts = requiring(cred['auditor']!, signedMethods, proxyToPy.target);
          const tsCode = await codeOf(call === 'balance' ? balance(ts) : statement(ts));
          const reasons: [string | undefined, string | undefined] = [
            (result['verdicts'] as { reason?: string }[] | undefined)?.at(-1)?.reason,
            verdicts.slice(n).at(-1)?.reason,
          ];
          responseMatrix[attack] = reasons;
          expect([result.code, tsCode]).to.deep.equal([grpc.status.DATA_LOSS, grpc.status.DATA_LOSS]);
          expect(result['balance'] ?? result['rows'], 'no tampered response reaches the Python application').to.equal(undefined);
          expect(reasons).to.deep.equal([reason, reason]);
        } finally {
          proxyToTs.plan = undefined;
          proxyToPy.plan = undefined;
        }
      });
    }
  });

  describe("a macaroon minted by the TypeScript token service", () => {
    it('is verified by the Python ledger (and the TypeScript one) when a Python client presents it', async () => {
      const alice = DEMO_USERS['alice']!;
      const n = pyAudit().length;
      const toPy = await pyToPy.run('macaroon', totp(alice.totpSecret, Date.now()));
      expect(toPy.code, JSON.stringify(toPy)).to.equal(0);
      expect(toPy['caveats']).to.include.members(['user alice', 'presenter web']);
      // Its GetBalance response, signed under the possession key, verified by the Python client.
      expect(toPy['verdicts']).to.deep.equal([{ method: '/ledger.v1.LedgerService/GetBalance', verdict: 'verified', receivedCode: 0 }]);
      await pyServer.waitFor(n + 3);
      const allowed = pyAudit().slice(n).filter((e) => e.decision === 'allow');
      expect(allowed).to.have.length(2);
      expect(allowed[0]!.claims).to.include({ principal: 'web', onBehalfOf: 'alice', userVerified: true });
      expect(allowed[0]!.claims!['chain']).to.deep.equal(['alice', 'web']);
      // TOTP codes are good once per 30 s step: the next step's code (accepted within one step).
      const { result, audit } = await pyCase('macaroon', totp(alice.totpSecret, Date.now() + 30_000));
      expect(result.code, JSON.stringify(result)).to.equal(0);
      expect(result['verdicts']).to.deep.equal([{ method: '/ledger.v1.LedgerService/GetBalance', verdict: 'verified', receivedCode: 0 }]);
      expect(audit.at(-1)).to.include({ decision: 'allow' });
      expect(audit.at(-1)!.claims).to.include({ onBehalfOf: 'alice', userVerified: true });
    });
  });
});
