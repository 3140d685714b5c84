// What the examples print of a request is escaped (issue 8 item 9): a principal chooses its
// on-behalf-of user, a holder the caveats it adds, a caller its method path; none of it may
// forge a log line, drive the operator's terminal (ANSI escapes), reorder the text (bidi
// overrides) or pass for something else on the line (`alice (proven)`).
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { formatAudit as delegationAudit, describeMacaroon } from '../examples/delegation/demo';
import { formatAudit as ledgerAudit } from '../examples/ledger/server';
import { printable, printableJson, quoted } from '../cli/printable';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  AuditEvent,
  Claims,
  ENVELOPE_KEY,
  generateRootKeyring,
  issueCredential,
  keyringToJson,
  mintMacaroon,
  RequestSigner,
} from '../src';
import { rawUnary } from './support/attacker';

/** What no printed line may contain: controls, format characters (bidi, zero-width), separators, lone surrogates. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** A user a principal may assert: a forged second line, terminal escapes, bidi overrides. */
const FORGED_USER = 'alice (proven) [teller]\nALLOW /ledger.v1.LedgerService/Transfer mallory for bob (proven) [admin]\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eevil\u2066x\u2069\u200b\u2028end';

const claims = (over: Partial<Claims>): Claims => ({
  keyId: 'k1',
  principal: 'frontend',
  roles: ['teller'],
  onBehalfOf: undefined,
  userVerified: false,
  userRoles: undefined,
  chain: [],
  macaroonId: undefined,
  audience: 'ledger',
  method: '/ledger.v1.LedgerService/Transfer',
  issuedAtMs: 0,
  ...over,
});
const event = (over: Partial<AuditEvent>): AuditEvent => ({ decision: 'allow', reason: undefined, method: '/ledger.v1.LedgerService/Transfer', claims: undefined, public: false, timeMs: 0, peer: undefined, ...over });

function oneSafeLine(line: string): void {
  expect(line.includes('\n'), JSON.stringify(line)).to.equal(false);
  expect(UNSAFE.test(line), JSON.stringify(line)).to.equal(false);
}

describe('example output: request-supplied text is printed escaped', () => {
  describe('printable, quoted, printableJson (cli/printable.ts)', () => {
    it('plain tokens print bare; anything else is quoted with every unsafe character escaped', () => {
      for (const bare of ['frontend', '/ledger.v1.LedgerService/Transfer', 'acc-bob', 'svc@example.org', 'k1.2']) expect(printable(bare)).to.equal(bare);
      expect(printable('')).to.equal('""');
      expect(printable('alice (proven)')).to.equal('"alice (proven)"');
      expect(printable('a,b')).to.equal('"a,b"');
      expect(printable('Escrivá')).to.equal('"Escrivá"'); // printable, but not a plain token
      expect(printable('a\nb\r\tc')).to.equal('"a\\nb\\r\\tc"');
      expect(printable('\u001b[2J')).to.equal('"\\u001b[2J"');
      expect(printable('\u009b31m')).to.equal('"\\u009b31m"');
      expect(printable('\u202eevil\u2066\u2069\u061c\u200e')).to.equal('"\\u202eevil\\u2066\\u2069\\u061c\\u200e"');
      expect(printable('zero\u200bwidth\ufeff')).to.equal('"zero\\u200bwidth\\ufeff"');
      expect(printable('line\u2028para\u2029')).to.equal('"line\\u2028para\\u2029"');
      expect(printable('lone\ud800')).to.equal('"lone\\ud800"');
      expect(printable('tag\u{e0041}')).to.equal('"tag\\udb40\\udc41"');
      // The escaping cannot be imitated: a literal backslash or quote is escaped too.
      expect(printable('\\u001b')).to.equal('"\\\\u001b"');
      expect(printable('say "hi"')).to.equal('"say \\"hi\\""');
    });

    it('over generated strings (any UTF-16, lone surrogates included): one safe line that reads back exactly', () => {
      const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
      const text = fc.oneof(fc.string({ unit: anyUnit, maxLength: 24 }), fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ maxLength: 24 }));
      fc.assert(
        fc.property(text, (s) => {
          for (const out of [quoted(s), printable(s)]) oneSafeLine(out);
          expect(JSON.parse(quoted(s))).to.equal(s);
          expect(printable(s) === s || printable(s) === quoted(s)).to.equal(true);
          const json = printableJson({ s });
          oneSafeLine(json);
          expect((JSON.parse(json) as { s: string }).s).to.equal(s);
        }),
        { seed: 0x9_0002, numRuns: 3_000 },
      );
    });
  });

  describe('the examples use it', () => {
    it('the ledger server\'s audit line: a forged user, principal, role and method stay on one line', () => {
      const line = ledgerAudit(event({ method: '/x\n/y', claims: claims({ principal: 'front\u001b[31mend', onBehalfOf: FORGED_USER, roles: ['teller\nDENY'] }) }));
      oneSafeLine(line);
      expect(line).to.equal(`ALLOW "/x\\n/y" "front\\u001b[31mend" for ${quoted(FORGED_USER)} ["teller\\nDENY"]`);
      expect(ledgerAudit(event({ claims: claims({ onBehalfOf: 'alice', userVerified: true }) }))).to.equal('ALLOW /ledger.v1.LedgerService/Transfer frontend for alice (proven) [teller]');
    });

    it('the delegation example\'s audit line and caveat lines', () => {
      const line = delegationAudit('ledger', event({ claims: claims({ onBehalfOf: FORGED_USER, chain: [FORGED_USER, 'web\n', 'frontend'] }) }));
      oneSafeLine(line);
      expect(line).to.include(`user=${quoted(FORGED_USER)} (asserted) chain=${quoted(FORGED_USER)} -> "web\\n" -> frontend`);
      let m = mintMacaroon({ rootKey: Buffer.alloc(32, 1), identifier: 'id' });
      m = addFirstPartyCaveat(m, `user ${FORGED_USER}`);
      m = addThirdPartyCaveat(m, { caveatKey: Buffer.alloc(32, 2), caveatId: 'mfa\u001b[2J', location: 'tokens\nroot' });
      const lines = describeMacaroon(m);
      expect(lines).to.have.length(2);
      for (const l of lines) oneSafeLine(l);
      expect(lines[1]).to.equal('third-party "mfa\\u001b[2J" at "tokens\\nroot"');
      expect(describeMacaroon(addFirstPartyCaveat(mintMacaroon({ rootKey: Buffer.alloc(32, 1), identifier: 'id' }), 'user alice'))).to.deep.equal(['user alice']);
    });
  });

  describe('the ledger example server on loopback, given a request that asserts a forged user', function () {
    this.timeout(30_000);
    const ring = generateRootKeyring();
    const children: ChildProcess[] = [];
    let dir = '';
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'reqauth-output-'));
      writeFileSync(path.join(dir, 'root.json'), keyringToJson(ring), { mode: 0o600 });
    });
    after(() => {
      for (const c of children) c.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Starts dist/examples/ledger/server.js; resolves with its port and its stdout lines. */
    async function server(json: boolean): Promise<{ target: string; lines: string[] }> {
      const args = ['--port', '0', '--keys', path.join(dir, 'root.json'), '--audience', 'ledger', ...(json ? ['--audit-json'] : [])];
      const child = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'ledger', 'server.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const lines: string[] = [];
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        lines.push(...parts);
      });
      const target = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (chunk: Buffer) => {
          const m = /listening on (\S+)/.exec(chunk.toString('utf8'));
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      return { target, lines };
    }

    /** GetBalance signed honestly by a principal of its own choosing, for a user of its own choosing. */
    async function call(target: string, principal: string): Promise<void> {
      const signer = new RequestSigner(issueCredential(ring, 'ledger', principal, ['teller']));
      const body = Buffer.concat([Buffer.of(0x0a, 9), Buffer.from('acc-alice')]); // GetBalanceRequest{account: "acc-alice"}
      const md = new grpc.Metadata();
      md.set(ENVELOPE_KEY, signer.sign('/ledger.v1.LedgerService/GetBalance', body, { onBehalfOf: FORGED_USER }).value);
      await rawUnary(target, '/ledger.v1.LedgerService/GetBalance', md, body);
    }

    const settle = async (lines: string[]) => {
      for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    };

    it('text audit: one line per call, the user quoted and escaped', async () => {
      const { target, lines } = await server(false);
      await call(target, 'front\u001b[31mend');
      await settle(lines);
      expect(lines).to.have.length(1);
      oneSafeLine(lines[0]!);
      expect(lines[0]).to.equal(`ALLOW /ledger.v1.LedgerService/GetBalance "front\\u001b[31mend" for ${quoted(FORGED_USER)} [teller]`);
    });

    it('JSON audit: one line per call that parses back to the exact claims', async () => {
      const { target, lines } = await server(true);
      await call(target, 'frontend');
      await settle(lines);
      expect(lines).to.have.length(1);
      oneSafeLine(lines[0]!);
      const e = JSON.parse(lines[0]!) as AuditEvent;
      expect(e.claims!.onBehalfOf).to.equal(FORGED_USER);
      expect(e.decision).to.equal('allow');
    });
  });
});
