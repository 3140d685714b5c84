// Macaroons through the grpc-js bindings (spec §11): presented per call with
// presentMacaroon, verified before the handler, the proven user in the handler's claims.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import {
  addFirstPartyCaveat,
  caveat,
  generateMacaroonKeyring,
  Macaroon,
  macaroonAcceptance,
  macaroonKeys,
  mintMacaroon,
  mintUserMacaroon,
  ReasonCode,
  VerifiedCaveat,
} from '../../src';
import { onBehalfOf, presentMacaroon } from '../../interceptors';
import { failure, Harness, startHarness, tx, unary } from '../support/harness';

const MACAROON_KEY = Buffer.alloc(32, 0x4d);

function authorize(caveats: readonly VerifiedCaveat[], request: { principal: string }) {
  const text = caveats.map((c) => Buffer.from(c.predicate).toString('utf8'));
  const user = text.find((t) => t.startsWith('user '))?.slice(5);
  const presenters = text.filter((t) => t.startsWith('presenter ')).map((t) => t.slice(10));
  if (text.some((t) => !t.startsWith('user ') && !t.startsWith('presenter ')) || presenters.at(-1) !== request.principal) {
    return { ok: false as const, reason: 'macaroon_caveat_refused' as ReasonCode };
  }
  return { ok: true as const, user, chain: user ? [user, ...presenters] : presenters };
}

function macaroonFor(user: string, presenter: string): Macaroon {
  return addFirstPartyCaveat(addFirstPartyCaveat(mintMacaroon({ rootKey: MACAROON_KEY, identifier: `${user}-1` }), `user ${user}`), `presenter ${presenter}`);
}

describe('a macaroon presented over grpc-js proves the user to the handler', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ server: { macaroons: { rootKey: () => MACAROON_KEY, authorize } } });
  });
  after(() => h.close());

  it('unary: the transfer is journaled for the proven user', async () => {
    const c = h.client(h.credential('frontend', ['teller']));
    const md = presentMacaroon({ root: macaroonFor('alice', 'frontend'), discharges: [], presentation: 'possession' });
    await unary(c.transfer.bind(c), { transaction: tx('mac-1') }, md);
    const entry = h.ledger.journal.find((j) => j.tx.id === 'mac-1');
    expect(entry).to.include({ principal: 'frontend', onBehalfOf: 'alice' });
    expect(h.audit.at(-1)?.claims).to.include({ userVerified: true, onBehalfOf: 'alice' });
  });

  it('bidi: every message is tagged under the macaroon-bound key and the call succeeds', async () => {
    const c = h.client(h.credential('frontend', ['auditor']));
    const d = c.reconcile(presentMacaroon({ root: macaroonFor('alice', 'frontend'), discharges: [], presentation: 'possession' }));
    const replies: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      d.on('data', (r) => replies.push(r));
      d.on('error', reject);
      d.on('end', () => resolve());
      for (const id of ['a', 'b', 'c']) d.write({ transaction: tx(id) });
      d.end();
    });
    expect(replies).to.have.length(3);
  });

  it('a macaroon naming another presenter is refused with PERMISSION_DENIED; the handler never runs', async () => {
    const c = h.client(h.credential('frontend', ['teller']));
    const md = presentMacaroon({ root: macaroonFor('alice', 'backend'), discharges: [], presentation: 'possession' }, onBehalfOf('alice'));
    const before = h.calls.length;
    const err = await failure(unary(c.transfer.bind(c), { transaction: tx('mac-2') }, md));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(h.calls.length).to.equal(before);
    expect(h.audit.at(-1)?.reason).to.equal('macaroon_caveat_refused');
  });
});

describe('macaroonAcceptance: the typed vocabulary and the macaroon keyring over grpc-js', () => {
  const ring = generateMacaroonKeyring();
  let h: Harness;
  before(async () => {
    h = await startHarness({ server: { macaroons: macaroonAcceptance({ keys: macaroonKeys(ring) }) } });
  });
  after(() => h.close());

  /** alice's macaroon from the token service, for the frontend; the frontend then narrows it. */
  const forAlice = (...more: string[]) => {
    let m = mintUserMacaroon(ring, 'tokens');
    for (const c of [caveat.user('alice'), caveat.roles('customer'), caveat.presenter('frontend'), ...more]) m = addFirstPartyCaveat(m, c);
    return m;
  };
  const present = (root: Macaroon) => presentMacaroon({ root, discharges: [], presentation: 'possession' });
  const transfer = (principal: string, root: Macaroon, id: string) => {
    const c = h.client(h.credential(principal, ['teller']));
    return unary(c.transfer.bind(c), { transaction: tx(id) }, present(root));
  };

  it('alice -> frontend -> backend: the last presenter calls, and the claims carry the ordered chain', async () => {
    const delegated = addFirstPartyCaveat(forAlice(caveat.method('/ledger.v1.LedgerService/Transfer')), caveat.presenter('backend'));
    await transfer('backend', delegated, 'chain-1');
    expect(h.audit.at(-1)?.claims).to.deep.include({ onBehalfOf: 'alice', userVerified: true, chain: ['alice', 'frontend', 'backend'] });
    expect(h.audit.at(-1)?.claims?.userRoles).to.deep.equal(['customer']);
  });

  it('an earlier presenter in the chain may no longer present it (caveat_failed, PERMISSION_DENIED)', async () => {
    const delegated = addFirstPartyCaveat(forAlice(), caveat.presenter('backend'));
    const err = await failure(transfer('frontend', delegated, 'chain-2'));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(h.audit.at(-1)?.reason).to.equal('caveat_failed');
  });

  it('a method caveat narrows: GetBalance only, so Transfer is refused', async () => {
    const err = await failure(transfer('frontend', forAlice(caveat.method('/ledger.v1.LedgerService/GetBalance')), 'narrow-1'));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(h.audit.at(-1)?.reason).to.equal('caveat_failed');
  });

  it('an expired macaroon is refused', async () => {
    const err = await failure(transfer('frontend', forAlice(caveat.expires(Date.now() - 1000)), 'expired-1'));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(h.audit.at(-1)?.reason).to.equal('caveat_failed');
  });

  it('a macaroon minted without a user is refused (caveat_missing): a holder could otherwise add any user', async () => {
    const noUser = addFirstPartyCaveat(mintUserMacaroon(ring), caveat.presenter('frontend'));
    const err = await failure(transfer('frontend', noUser, 'nouser-1'));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(h.audit.at(-1)?.reason).to.equal('caveat_missing');
  });

  it('a holder cannot widen: adding a second user is refused', async () => {
    const err = await failure(transfer('frontend', forAlice(caveat.user('mallory')), 'widen-1'));
    expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
  });
});
