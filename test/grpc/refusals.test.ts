// Refusals of unary and server-streaming calls over a real grpc-js server on loopback: each
// tampering is done on the wire side of reqauth's client interceptor (test/support/attacker.ts)
// and each refusal is checked for status, generic message, audited reason and that the
// handler never ran (test/grpc/refusal.ts).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { LedgerService } from '../../examples/ledger/definition';
import {
  ClientCredential,
  encodeEnvelope,
  ENVELOPE_KEY,
  generateRootKeyring,
  issueCredential,
  MAC_BYTES,
  RequestSigner,
  rotateRootKeyring,
  SERVER_TIME_KEY,
  sha256,
  SignOptions,
  withDenied,
} from '../../src';
import { attacker, flip, Plan, rawServerStream, rawUnary, recorder } from '../support/attacker';
import { AUDIENCE, Harness, startHarness, unary } from '../support/harness';
import { expectRefused, outcome, SERVICE, since, SINGLE_KINDS, SingleKind } from './refusal';

type Def = grpc.MethodDefinition<object, object>;
const method = (name: string) => (LedgerService.service as unknown as Record<string, Def>)[name]!;

/** The signed request a client would send, made directly: metadata and message bytes. */
function signed(cred: ClientCredential, name: string, request: object, options: SignOptions = {}) {
  const bytes = method(name).requestSerialize(request);
  const header = new RequestSigner(cred).sign(SERVICE + name, bytes, options);
  const metadata = new grpc.Metadata();
  metadata.set(ENVELOPE_KEY, header.value);
  return { metadata, bytes };
}

/** Sends exactly this metadata and these bytes on `name`; resolves to the error, if any. */
function sendRaw(h: Harness, name: string, metadata: grpc.Metadata, bytes: Buffer): Promise<grpc.ServiceError | undefined> {
  if (name === 'ListTransactions') {
    return rawServerStream(h.target, SERVICE + name, metadata, bytes).then(({ messages, error }) => {
      if (error) expect(messages).to.deep.equal([]);
      return error;
    });
  }
  return outcome(rawUnary(h.target, SERVICE + name, metadata, bytes));
}

/** Replaces one binary metadata value. */
const setBin = (md: grpc.Metadata, key: string, value: Buffer) => md.set(key, value);
const getBin = (md: grpc.Metadata, key: string) => md.get(key)[0] as Buffer;

describe('grpc refusals: unary and server-streaming', () => {
  let h: Harness;
  let teller: ClientCredential; // teller-app: teller + auditor, may call all three methods

  before(async () => {
    h = await startHarness();
    teller = h.credential('teller-app', ['teller', 'auditor']);
  });
  after(() => h.close());

  /** One test per single-message kind: the call through an attacking client is refused. */
  function eachKind(title: string, reason: Parameters<typeof expectRefused>[2], plan: (k: SingleKind) => Plan, cred = () => teller) {
    for (const k of SINGLE_KINDS) {
      it(`${title}: ${k.label}`, async () => {
        const s = since(h);
        const err = await k.run(h.client(cred(), { interceptors: [attacker(plan(k))] }));
        expectRefused(s, err, reason, k.method);
      });
    }
  }

  describe('the attacker in place but idle changes nothing (control)', () => {
    for (const k of SINGLE_KINDS) {
      it(`an untouched ${k.label.replace(/^an? /, '')} succeeds through the attacker`, async () => {
        const s = since(h);
        const err = await k.run(h.client(teller, { interceptors: [attacker({ message: (f) => [f.bytes] })] }));
        expect(err).to.equal(undefined);
        expect(s.calls()).to.deep.equal([k.method]);
        expect(s.audit().map((e) => e.decision)).to.deep.equal(['allow']);
      });
    }
  });

  describe('a changed message byte is refused (bad_digest)', () => {
    eachKind('one bit of the message flipped', 'bad_digest', () => ({ message: (f) => [flip(f.bytes, -1)] }));
  });

  describe('a changed envelope byte is refused (bad_mac)', () => {
    eachKind('one bit of the principal inside the envelope flipped', 'bad_mac', () => ({
      start(md) {
        const env = getBin(md, ENVELOPE_KEY);
        const at = env.indexOf('teller-app');
        expect(at, 'principal inside the envelope').to.be.greaterThan(0);
        setBin(md, ENVELOPE_KEY, flip(env, at));
      },
    }));
  });

  describe('a changed MAC is refused (bad_mac)', () => {
    eachKind('one bit of the MAC (the last 32 bytes of the value) flipped', 'bad_mac', () => ({
      start: (md) => setBin(md, ENVELOPE_KEY, flip(getBin(md, ENVELOPE_KEY), -MAC_BYTES + 7)),
    }));
  });

  describe('metadata signed for one method is refused on another (wrong_method)', () => {
    it('a GetBalance header and message sent as Transfer and as ListTransactions are refused; on GetBalance they still verify', async () => {
      const { metadata, bytes } = signed(teller, 'GetBalance', { account: 'acc-alice' });
      for (const name of ['Transfer', 'ListTransactions']) {
        const s = since(h);
        expectRefused(s, await sendRaw(h, name, metadata, bytes), 'wrong_method', name);
      }
      // Control: the very same request is good for the method it was signed for, so the
      // method alone refused it (and the refusals did not spend its nonce).
      const s = since(h);
      expect(await sendRaw(h, 'GetBalance', metadata, bytes)).to.equal(undefined);
      expect(s.calls()).to.deep.equal(['GetBalance']);
    });
  });

  describe('a credential for another audience is refused (wrong_audience)', () => {
    eachKind('credential issued for audience "other"', 'wrong_audience', () => ({}), () => h.credential('teller-app', ['teller', 'auditor'], 'other'));
  });

  describe('a replayed nonce is refused (replayed_nonce)', () => {
    for (const k of SINGLE_KINDS) {
      it(`the exact metadata and bytes of a successful call, sent again: ${k.label}`, async () => {
        const rec = recorder();
        const before = h.ledger.balances.get('acc-alice');
        expect(await k.run(h.client(teller, { interceptors: [rec.interceptor] }))).to.equal(undefined);
        expect(rec.calls).to.have.length(1);
        const [captured] = rec.calls;
        expect(captured!.frames).to.have.length(1);
        const s = since(h);
        expectRefused(s, await sendRaw(h, k.method, captured!.metadata, captured!.frames[0]!), 'replayed_nonce', k.method);
        // The transfer happened once, not twice.
        if (k.method === 'Transfer') expect(h.ledger.balances.get('acc-alice')).to.equal(before! - 1n);
      });
    }
  });

  describe('an issued-at outside the window is refused with the server time (expired, issued_in_future)', () => {
    const SHIFT = 10 * 60_000;
    for (const [label, shift, reason] of [
      ['a request 10 minutes older than the server clock is refused as expired', SHIFT, 'expired'],
      ['a request 10 minutes ahead of the server clock is refused as issued_in_future', -SHIFT, 'issued_in_future'],
    ] as const) {
      it(label, async () => {
        const skewed = await startHarness({ server: { now: () => Date.now() + shift } });
        try {
          for (const k of SINGLE_KINDS) {
            const s = since(skewed);
            const err = await k.run(skewed.client(skewed.credential('teller-app', ['teller', 'auditor'])));
            expectRefused(s, err, reason, k.method);
            const [value] = err!.metadata.get(SERVER_TIME_KEY);
            expect(value, SERVER_TIME_KEY).to.be.a('string');
            expect(Number(value)).to.be.closeTo(Date.now() + shift, 5_000);
          }
        } finally {
          await skewed.close();
        }
      });
    }
  });

  describe('a key from another root keyring is refused (unknown_key)', () => {
    eachKind('credential from a stranger keyring', 'unknown_key', () => ({}), () => issueCredential(generateRootKeyring(), AUDIENCE, 'teller-app', ['teller', 'auditor']));
  });

  describe('revoked keys and principals are refused (revoked_key, revoked_principal)', () => {
    let denied: Harness;
    let oldKey: ClientCredential;
    before(async () => {
      const old = generateRootKeyring();
      oldKey = issueCredential(old, AUDIENCE, 'teller-app', ['teller', 'auditor']);
      const ring = withDenied(rotateRootKeyring(old), { keyIds: [old.keys[0]!.keyId], principals: ['mallory'] });
      denied = await startHarness({ ring });
    });
    after(() => denied.close());

    for (const k of SINGLE_KINDS) {
      it(`a credential under a denied key id is refused: ${k.label}`, async () => {
        const s = since(denied);
        expectRefused(s, await k.run(denied.client(oldKey)), 'revoked_key', k.method);
      });
      it(`a denied principal under a good key is refused: ${k.label}`, async () => {
        const s = since(denied);
        expectRefused(s, await k.run(denied.client(denied.credential('mallory', ['teller', 'auditor']))), 'revoked_principal', k.method);
      });
    }
    it('another principal under the active key of the same keyring succeeds (control)', async () => {
      expect(await SINGLE_KINDS[0]!.run(denied.client(denied.credential('teller-app', ['teller'])))).to.equal(undefined);
    });
  });

  describe('a caller without a granted role is refused (missing_role)', () => {
    it('an auditor calling Transfer is refused with PERMISSION_DENIED', async () => {
      const s = since(h);
      const err = await SINGLE_KINDS[0]!.run(h.client(h.credential('audit-app', ['auditor'])));
      expectRefused(s, err, 'missing_role', 'Transfer');
      expect(err!.code).to.equal(7);
      // Authenticated, then denied: the audit names who was refused.
      expect(s.audit()[0]!.claims?.principal).to.equal('audit-app');
    });
  });

  describe('a method without a rule is refused to every caller (no_rule)', () => {
    it('CloseAccount is refused with PERMISSION_DENIED even to a caller holding every role', async () => {
      const c = h.client(h.credential('root-app', ['auditor', 'importer', 'teller']));
      const s = since(h);
      const err = await outcome(unary(c.closeAccount.bind(c), { account: 'acc-bob' }));
      expectRefused(s, err, 'no_rule', 'CloseAccount');
      expect(err!.code).to.equal(7);
    });
  });

  describe('request metadata must be exactly one value: envelope, then MAC (spec §4)', () => {
    eachKind('envelope metadata removed', 'missing_envelope', () => ({ start: (md) => md.remove(ENVELOPE_KEY) }));
    eachKind('a second value added', 'duplicate_metadata', () => ({ start: (md) => md.add(ENVELOPE_KEY, Buffer.from(getBin(md, ENVELOPE_KEY))) }));
    const junk = Buffer.concat([createHash('sha256').update('not an envelope').digest(), createHash('sha256').update('still not').digest()]);
    eachKind('64 random-looking bytes as the value', 'malformed_envelope', () => ({ start: (md) => setBin(md, ENVELOPE_KEY, junk) }));
    eachKind('a value too short to hold a MAC (32 bytes)', 'malformed_envelope', () => ({ start: (md) => setBin(md, ENVELOPE_KEY, getBin(md, ENVELOPE_KEY).subarray(-32)) }));
    eachKind('the last byte cut off (the split moves into the envelope)', 'malformed_envelope', () => ({
      start: (md) => setBin(md, ENVELOPE_KEY, getBin(md, ENVELOPE_KEY).subarray(0, -1)),
    }));
    eachKind('a byte appended (the split moves into the MAC)', 'malformed_envelope', () => ({
      start: (md) => setBin(md, ENVELOPE_KEY, Buffer.concat([getBin(md, ENVELOPE_KEY), Buffer.of(0)])),
    }));

    it('a client without reqauth at all is refused (missing_envelope)', async () => {
      for (const k of SINGLE_KINDS) {
        const s = since(h);
        expectRefused(s, await k.run(h.client(undefined)), 'missing_envelope', k.method);
      }
    });
  });

  describe('an oversized envelope is refused (oversized_envelope)', () => {
    it('a 5000-byte envelope value is refused under the default 4096-byte bound', async () => {
      // 5000 bytes are about 6.7 KB of base64 in the HTTP/2 headers: grpc-js and Node let
      // them through (no RESOURCE_EXHAUSTED), so the refusal is reqauth's own.
      for (const k of SINGLE_KINDS) {
        const s = since(h);
        const err = await k.run(h.client(teller, { interceptors: [attacker({ start: (md) => setBin(md, ENVELOPE_KEY, Buffer.alloc(5000, 0x0a)) })] }));
        expectRefused(s, err, 'oversized_envelope', k.method);
      }
    });

    it('a correctly signed envelope with every field within its bound but 4300 bytes in all is refused', async () => {
      // A teller, a 250-byte principal and on-behalf-of, 16 roles, a 3000-byte credential
      // field: only the total size is wrong, so without the bound this call would succeed.
      const roles = ['teller', ...Array.from({ length: 15 }, (_, i) => `role-${String(i).padStart(2, '0')}-${'x'.repeat(32)}`)];
      const cred = h.credential('p'.repeat(250), roles);
      const { metadata, bytes } = signed(cred, 'GetBalance', { account: 'acc-alice' }, { onBehalfOf: 'u'.repeat(250), credential: Buffer.alloc(3000, 7) });
      expect(getBin(metadata, ENVELOPE_KEY).length).to.be.within(4097, 4600);
      const s = since(h);
      expectRefused(s, await sendRaw(h, 'GetBalance', metadata, bytes), 'oversized_envelope', 'GetBalance');
    });

    it('a 1000-byte envelope is refused by a server configured with maxEnvelopeBytes 512', async () => {
      const small = await startHarness({ server: { limits: { maxEnvelopeBytes: 512 } } });
      try {
        const roles = ['teller', 'auditor', ...Array.from({ length: 3 }, (_, i) => `role-${i}-${'x'.repeat(250)}`)];
        const cred = small.credential('teller-app', roles);
        const rec = recorder();
        for (const k of SINGLE_KINDS) {
          const s = since(small);
          expectRefused(s, await k.run(small.client(cred, { interceptors: [rec.interceptor] })), 'oversized_envelope', k.method);
        }
        for (const call of rec.calls) expect(getBin(call.metadata, ENVELOPE_KEY).length).to.be.within(900, 1100);
        // Control: an ordinary envelope (about 150 bytes) passes the same server.
        expect(await SINGLE_KINDS[1]!.run(small.client(small.credential('teller-app', ['auditor'])))).to.equal(undefined);
      } finally {
        await small.close();
      }
    });
  });

  // Regression (src/crypto.ts hkdfSha256): Node's hkdfSync refuses an HKDF info over 1024
  // bytes, but the envelope's bounds (§3.1: principal 256 bytes, 16 roles of 256 bytes) make
  // principal-key infos of up to about 4.4 KB. The verifier derives the principal key BEFORE
  // checking the MAC, so an unauthenticated request naming a real key id (key ids are on the
  // wire in every envelope) with long roles threw a RangeError out of the server interceptor:
  // standalone, an uncaught exception that killed the server process. HKDF on HMAC fixes it.
  describe('an envelope at the spec bounds is verified, not thrown on', () => {
    // 16 roles of 100 bytes: the envelope (about 1.8 KB) is well inside every bound, the
    // principal key's HKDF info (about 1.7 KB) is not inside Node's 1024.
    const longRoles = Array.from({ length: 16 }, (_, i) => `role-${String(i).padStart(2, '0')}-${'x'.repeat(92)}`);

    it('a forged request with 16 roles of 100 bytes and a junk MAC is refused (bad_mac) and the server lives', async () => {
      const own = await startHarness();
      try {
        const bytes = method('GetBalance').requestSerialize({ account: 'acc-alice' });
        const envelope = encodeEnvelope({
          version: 1,
          keyId: own.ring.keys[0]!.keyId, // key ids are not secret: every envelope carries one
          principal: 'mallory',
          roles: longRoles,
          onBehalfOf: '',
          audience: AUDIENCE,
          method: SERVICE + 'GetBalance',
          nonce: Buffer.alloc(16, 1),
          issuedAtMs: Date.now(),
          bodyDigest: sha256(bytes),
          credential: new Uint8Array(0),
        });
        const md = new grpc.Metadata();
        md.set(ENVELOPE_KEY, Buffer.concat([envelope, Buffer.alloc(MAC_BYTES)]));
        const s = since(own);
        // Record what the verifier throws (rethrowing it): standalone, a throw here is an
        // uncaught exception that kills the server process; under mocha the call just hangs.
        const thrown: string[] = [];
        const verifier = own.auth.verifier;
        const verifyHeader = verifier.verifyHeader.bind(verifier);
        verifier.verifyHeader = (...args) => {
          try {
            return verifyHeader(...args);
          } catch (e) {
            thrown.push(String(e));
            throw e;
          }
        };
        const err = await outcome(rawUnary(own.target, SERVICE + 'GetBalance', md, bytes, undefined, Date.now() + 1500));
        expect(thrown, 'exceptions thrown out of the verifier').to.deep.equal([]);
        expectRefused(s, err, 'bad_mac', 'GetBalance');
        expect(await SINGLE_KINDS[1]!.run(own.client(own.credential('teller-app', ['auditor']))), 'an honest call afterwards').to.equal(undefined);
      } finally {
        await own.close();
      }
    });

    it('a credential granting 16 roles of 100 bytes can be issued and its calls verify', async () => {
      const cred = h.credential('teller-app', ['teller', ...longRoles.slice(1)]);
      expect(await SINGLE_KINDS[0]!.run(h.client(cred))).to.equal(undefined);
    });
  });

  describe('a public method needs no credential', () => {
    it('Ping succeeds from a client without reqauth', async () => {
      const s = since(h);
      const c = h.client(undefined);
      const res = await unary<object, { serverTimeMs: string }>(c.ping.bind(c), {});
      expect(Number(res.serverTimeMs)).to.be.closeTo(Date.now(), 5_000);
      expect(s.calls()).to.deep.equal(['Ping']);
    });
    it('Ping ignores reqauth metadata, even broken', async () => {
      const s = since(h);
      const c = h.client(undefined);
      const md = new grpc.Metadata();
      md.set(ENVELOPE_KEY, Buffer.from('junk'));
      md.add(ENVELOPE_KEY, Buffer.alloc(3));
      await unary(c.ping.bind(c), {}, md);
      expect(s.calls()).to.deep.equal(['Ping']);
      expect(s.audit().filter((e) => e.decision === 'deny')).to.deep.equal([]);
    });
  });

  describe('a refused call does not crash the server', () => {
    it('after a barrage of refused calls of every kind, honest calls of each kind still succeed', async () => {
      const s = since(h);
      const hostile: Plan[] = [
        { start: (md) => setBin(md, ENVELOPE_KEY, Buffer.alloc(5000, 0xff)) },
        { start: (md) => setBin(md, ENVELOPE_KEY, Buffer.alloc(0)) },
        { start: (md) => md.add(ENVELOPE_KEY, Buffer.alloc(1)) },
        { message: (f) => [Buffer.concat([f.bytes, Buffer.of(0xff)])] },
        { message: () => [Buffer.alloc(0)] },
      ];
      const refused = await Promise.all([
        ...hostile.flatMap((plan) => SINGLE_KINDS.map((k) => k.run(h.client(teller, { interceptors: [attacker(plan)] })))),
        ...SINGLE_KINDS.map((k) => k.run(h.client(undefined))),
      ]);
      expect(refused.map((e) => e?.code)).to.deep.equal(Array(refused.length).fill(grpc.status.UNAUTHENTICATED));
      expect(s.calls(), 'handler invocations during the barrage').to.deep.equal([]);
      const c = h.client(teller);
      for (const k of SINGLE_KINDS) expect(await k.run(c), k.label).to.equal(undefined);
      expect(s.calls()).to.deep.equal(SINGLE_KINDS.map((k) => k.method));
    });
  });
});
