// examples/delegation end to end: the token service, the frontend and the ledger, each on
// its own loopback port behind its own reqauth server. Web logs alice in (password, MFA
// discharge), pays a bill through the frontend, and the frontend transfers at the ledger for
// alice with a macaroon delegated to it. Each refusal is checked for the status the caller
// sees, the reason the refusing service audited, and that its handler never ran.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { onBehalfOf, presentMacaroon } from '../../interceptors';
import { isThirdParty, Macaroon, parseMacaroon } from '../../src';
import { AUDIENCES, METHODS, PRINCIPALS, ShopServiceClient, TokenServiceClient, unary } from '../../examples/delegation/definition';
import { DelegationExample, RunningService, startDelegationExample } from '../../examples/delegation/services';
import { totp } from '../../examples/delegation/token-service';
import { DEMO_USERS } from '../../examples/delegation/users';
import { asUser, login, parseToken, payBill, possession, WebSession } from '../../examples/delegation/web';
import type { LedgerServiceClient } from '../../examples/ledger/definition';

const text = (m: Macaroon) => m.caveats.filter((c) => !isThirdParty(c)).map((c) => Buffer.from(c.identifier).toString('utf8'));
const ALICE = DEMO_USERS['alice']!;

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the call succeeded');
}

/** The call is refused with `code`, `service` audited `reason`, and none of its handlers ran. */
async function expectRefused(service: RunningService, call: () => Promise<unknown>, code: grpc.status, reason: string): Promise<void> {
  const handled = service.calls.length;
  const audited = service.audit.length;
  const err = await failure(call());
  expect(err.code, `status ${grpc.status[err.code]}`).to.equal(code);
  expect(service.calls.length, 'handler calls').to.equal(handled);
  const last = service.audit.at(-1)!;
  expect(service.audit.length).to.be.greaterThan(audited);
  expect(last).to.include({ decision: 'deny', reason });
}

describe('examples/delegation: token service, frontend and ledger over reqauth', function () {
  this.timeout(30_000);
  let ex: DelegationExample;
  let web: { tokens: TokenServiceClient; shop: ShopServiceClient };
  /** The frontend's own credentials used outside its code: what a compromised frontend could do. */
  let rogue: { tokens: TokenServiceClient; ledger: LedgerServiceClient };
  let session: WebSession;
  let aliceCode: string;

  before(async () => {
    ex = await startDelegationExample();
    web = {
      tokens: ex.tokensClient(ex.credential(AUDIENCES.tokens, PRINCIPALS.web)),
      shop: ex.shopClient(ex.credential(AUDIENCES.frontend, PRINCIPALS.web)),
    };
    rogue = {
      tokens: ex.tokensClient(ex.credential(AUDIENCES.tokens, PRINCIPALS.frontend)),
      ledger: ex.ledgerClient(ex.credential(AUDIENCES.ledger, PRINCIPALS.frontend, ['teller'])),
    };
    aliceCode = totp(ALICE.totpSecret, Date.now());
    session = await login(web.tokens, 'alice', ALICE.password, () => aliceCode);
  });
  after(() => ex.close());

  const delegate = () => unary(web.tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.transfer }, asUser(session));

  describe('the token service', () => {
    it('Login (called by principal web) mints user, roles, presenter web, a 15-minute expiry and a third-party mfa caveat', () => {
      const login = ex.tokens.audit.find((e) => e.method === '/tokens.v1.TokenService/Login')!;
      expect(login).to.include({ decision: 'allow' });
      expect(login.claims).to.include({ principal: 'web', userVerified: false });
      const [user, roles, expires, presenter] = text(session.root);
      expect([user, roles, presenter]).to.deep.equal(['user alice', 'roles customer', 'presenter web']);
      const expiresAt = Date.parse(expires!.slice('expires '.length));
      expect(expiresAt - Date.now()).to.be.within(14 * 60_000, 15 * 60_000);
      const third = session.root.caveats.filter(isThirdParty);
      expect(third).to.have.length(1);
      expect(third[0]!.location).to.equal('tokens');
      expect(Buffer.from(third[0]!.identifier).toString('utf8')).to.match(/^mfa-verified alice /);
      expect(session.discharges).to.have.length(1);
      expect(parseMacaroon(session.serialized).ok).to.equal(true); // V2 base64url
    });

    it('a wrong password gets UNAUTHENTICATED and no macaroon', async () => {
      const err = await failure(unary(web.tokens, 'login', { user: 'alice', password: 'wonderland-41' }));
      expect(err.code).to.equal(grpc.status.UNAUTHENTICATED);
      const unknown = await failure(unary(web.tokens, 'login', { user: 'mallory', password: 'x' }));
      expect(unknown.code).to.equal(grpc.status.UNAUTHENTICATED);
    });

    it('Login is for principal web only: the frontend is refused by policy before the handler', async () => {
      await expectRefused(ex.tokens, () => unary(rogue.tokens, 'login', { user: 'alice', password: ALICE.password }), grpc.status.PERMISSION_DENIED, 'principal_not_allowed');
    });

    it('a one-time code is good once, and a wrong one gets no discharge', async () => {
      const caveatId = Buffer.from(session.root.caveats.find(isThirdParty)!.identifier);
      const reused = await failure(unary(web.tokens, 'discharge', { caveatId, otp: aliceCode }));
      expect(reused.code).to.equal(grpc.status.UNAUTHENTICATED);
      const wrong = await failure(unary(web.tokens, 'discharge', { caveatId, otp: '000000' === aliceCode ? '111111' : '000000' }));
      expect(wrong.code).to.equal(grpc.status.UNAUTHENTICATED);
    });

    it('Delegate needs a user macaroon presented by its presenter, and a delegation the table allows', async () => {
      const without = await failure(unary(web.tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.transfer }));
      expect(without.code).to.equal(grpc.status.PERMISSION_DENIED);
      const wider = await failure(unary(web.tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.getBalance }, asUser(session)));
      expect(wider.code).to.equal(grpc.status.PERMISSION_DENIED);
      const elsewhere = await failure(unary(web.tokens, 'delegate', { grantee: 'reports', method: METHODS.transfer }, asUser(session)));
      expect(elsewhere.code).to.equal(grpc.status.PERMISSION_DENIED);
    });

    it('a grant is redeemed by the grantee only, for the user it names, once', async () => {
      const { grant } = await delegate();
      // web may not redeem (policy: principal frontend only)
      await expectRefused(ex.tokens, () => unary(web.tokens, 'redeem', { grant }, onBehalfOf('alice')), grpc.status.PERMISSION_DENIED, 'principal_not_allowed');
      const otherUser = await failure(unary(rogue.tokens, 'redeem', { grant }, onBehalfOf('bob')));
      expect(otherUser.code).to.equal(grpc.status.PERMISSION_DENIED);
      const redeemed = parseToken((await unary(rogue.tokens, 'redeem', { grant }, onBehalfOf('alice'))).macaroon);
      const again = await failure(unary(rogue.tokens, 'redeem', { grant }, onBehalfOf('alice')));
      expect(again.code).to.equal(grpc.status.PERMISSION_DENIED);
      // narrowed: one method, two minutes at most, the chain web -> frontend
      const caveats = text(redeemed);
      expect(caveats.filter((c) => c.startsWith('presenter '))).to.deep.equal(['presenter web', 'presenter frontend']);
      expect(caveats).to.include(`method ${METHODS.transfer}`);
      expect(caveats).to.include('user alice');
      const expires = Date.parse(caveats.find((c) => c.startsWith('expires '))!.slice(8));
      expect(expires - Date.now()).to.be.within(0, 2 * 60_000);
      expect(redeemed.caveats.some(isThirdParty)).to.equal(false);
    });
  });

  describe('alice -> web -> frontend -> ledger', () => {
    it("the ledger journals alice's transfer with principal frontend; each hop's claims carry the chain", async () => {
      const journaled = ex.ledger.ledger.journal.length;
      const paid = await payBill(web.tokens, web.shop, session, { billId: 'b-1', payeeAccount: 'acc-bob', amount: 1250 });
      expect(paid).to.include({ transactionId: 'bill-b-1', fromAccount: 'acc-alice' });

      // web -> tokens: Delegate, presenting alice's macaroon by possession
      const delegated = ex.tokens.audit.filter((e) => e.method === METHODS.delegate).at(-1)!;
      expect(delegated.claims).to.deep.include({ principal: 'web', onBehalfOf: 'alice', userVerified: true, chain: ['alice', 'web'] });
      // web -> frontend: PayBill, alice proven, chain alice -> web
      const shop = ex.frontend.calls.at(-1)!;
      expect(shop.method).to.equal('PayBill');
      expect(shop.claims).to.deep.include({ principal: 'web', onBehalfOf: 'alice', userVerified: true, chain: ['alice', 'web'], userRoles: ['customer'] });
      // frontend -> tokens: Redeem, as principal frontend, naming (not proving) alice
      const redeem = ex.tokens.calls.at(-1)!;
      expect(redeem.method).to.equal('Redeem');
      expect(redeem.claims).to.include({ principal: 'frontend', onBehalfOf: 'alice', userVerified: false });
      // frontend -> ledger: Transfer, alice proven, chain alice -> web -> frontend
      const transfer = ex.ledger.audit.at(-1)!;
      expect(transfer).to.include({ decision: 'allow', method: METHODS.transfer });
      expect(transfer.claims).to.deep.include({ principal: 'frontend', onBehalfOf: 'alice', userVerified: true, chain: ['alice', 'web', 'frontend'], userRoles: ['customer'] });

      expect(ex.ledger.ledger.journal).to.have.length(journaled + 1);
      const entry = ex.ledger.ledger.journal.at(-1)!;
      expect(entry).to.include({ principal: 'frontend', onBehalfOf: 'alice' });
      expect(entry.tx).to.include({ id: 'bill-b-1', fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: '1250' });
    });

    it('a user without the customer role is refused by the frontend, which never reaches the ledger', async () => {
      const carol = DEMO_USERS['carol']!;
      const s = await login(web.tokens, 'carol', carol.password, () => totp(carol.totpSecret, Date.now()));
      const before = ex.ledger.audit.length;
      const err = await failure(payBill(web.tokens, web.shop, s, { billId: 'b-2', payeeAccount: 'acc-bob', amount: 1 }));
      expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
      expect(ex.ledger.audit.length).to.equal(before);
    });
  });

  describe('refusals', () => {
    const transfer = (id: string) => ({ transaction: { id, fromAccount: 'acc-alice', toAccount: 'acc-mallory', amount: 999 } });

    it("alice's serialized macaroon, stolen from web, used by principal frontend: PERMISSION_DENIED, caveat_failed (presenter)", async () => {
      const stolen = parseToken(session.serialized);
      const journaled = ex.ledger.ledger.journal.length;
      await expectRefused(ex.ledger, () => unary(rogue.ledger, 'transfer', transfer('stolen-1'), presentMacaroon({ ...possession(session), root: stolen })), grpc.status.PERMISSION_DENIED, 'caveat_failed');
      // also where web itself would present it: the frontend
      const asFrontend = ex.shopClient(ex.credential(AUDIENCES.frontend, PRINCIPALS.frontend));
      await expectRefused(ex.frontend, () => unary(asFrontend, 'payBill', { billId: 'b-x', payeeAccount: 'acc-mallory', amount: 1, grant: '' }, presentMacaroon({ ...possession(session), root: stolen })), grpc.status.PERMISSION_DENIED, 'caveat_failed');
      expect(ex.ledger.ledger.journal).to.have.length(journaled);
    });

    it("alice's macaroon as a request carries it (signature withheld), replayed by another principal: UNAUTHENTICATED, macaroon_bad_proof", async () => {
      const captured = { ...session.root, signature: new Uint8Array(32) };
      await expectRefused(ex.ledger, () => unary(rogue.ledger, 'transfer', transfer('captured-1'), presentMacaroon({ ...possession(session), root: captured })), grpc.status.UNAUTHENTICATED, 'macaroon_bad_proof');
    });

    it('without the mfa discharge: UNAUTHENTICATED, macaroon_discharge_missing', async () => {
      await expectRefused(
        ex.frontend,
        () => unary(web.shop, 'payBill', { billId: 'b-3', payeeAccount: 'acc-bob', amount: 1, grant: '' }, presentMacaroon({ ...possession(session), discharges: [] }, onBehalfOf('alice'))),
        grpc.status.UNAUTHENTICATED,
        'macaroon_discharge_missing',
      );
      const delegate = await failure(unary(web.tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.transfer }, presentMacaroon({ ...possession(session), discharges: [] })));
      expect(delegate.code).to.equal(grpc.status.UNAUTHENTICATED);
      expect(ex.tokens.audit.at(-1)).to.include({ decision: 'deny', reason: 'macaroon_discharge_missing' });
    });

    it("a method outside the delegation (GetBalance with the frontend's Transfer-only macaroon): PERMISSION_DENIED, caveat_failed", async () => {
      const { grant } = await delegate();
      const delegated = parseToken((await unary(rogue.tokens, 'redeem', { grant }, onBehalfOf('alice'))).macaroon);
      const present = () => presentMacaroon({ root: delegated, discharges: [], presentation: 'possession' }, onBehalfOf('alice'));
      await expectRefused(ex.ledger, () => unary(rogue.ledger, 'getBalance', { account: 'acc-alice' }, present()), grpc.status.PERMISSION_DENIED, 'caveat_failed');
      // and the same macaroon does what it was delegated for
      await unary(rogue.ledger, 'transfer', { transaction: { id: 'delegated-1', fromAccount: 'acc-alice', toAccount: 'acc-bob', amount: 1 } }, present());
      expect(ex.ledger.audit.at(-1)!.claims?.chain).to.deep.equal(['alice', 'web', 'frontend']);
    });

    it('an expired macaroon (minted with expires in the past): PERMISSION_DENIED, caveat_failed', async () => {
      const expired = ex.tokens.impl.mintLoginMacaroon('alice', PRINCIPALS.web, { lifetimeMs: -60_000, mfa: false });
      await expectRefused(
        ex.frontend,
        () => unary(web.shop, 'payBill', { billId: 'b-4', payeeAccount: 'acc-bob', amount: 1, grant: '' }, presentMacaroon({ root: expired, discharges: [], presentation: 'possession' })),
        grpc.status.PERMISSION_DENIED,
        'caveat_failed',
      );
      await expectRefused(
        ex.tokens,
        () => unary(web.tokens, 'delegate', { grantee: PRINCIPALS.frontend, method: METHODS.transfer }, presentMacaroon({ root: expired, discharges: [], presentation: 'possession' })),
        grpc.status.PERMISSION_DENIED,
        'caveat_failed',
      );
    });
  });
});
