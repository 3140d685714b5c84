// The typed caveat vocabulary (docs/macaroon-caveats.md), as examples: what each type
// accepts and refuses, the delegation chain, fail-closed unknowns, application types, and
// that attenuation only ever narrows.
import { expect } from 'chai';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindForRequest,
  mintMacaroon,
  type CaveatSource,
  type Macaroon,
  type VerifiedCaveat,
} from '../../src/macaroon/index.js';
import { encodeCaveat, formatCaveatTime, parseCaveatTime, splitCaveat } from '../../src/macaroon/caveat-syntax.js';
import type { CaveatContext } from '../../src/macaroon/caveat-types.js';
import {
  authorizeCaveats,
  authorizeMacaroon,
  caveat,
  CaveatRegistry,
  defaultCaveats,
  type AuthorizeOptions,
  type CaveatsResult,
} from '../../src/macaroon/caveats.js';
import { Prng } from '../support/vectors.js';
import { loadMacaroonVectors, parsed } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 3, 0, 0); // 2026-11-23T03:00:00Z
const HOUR = 3600_000;
const TRANSFER = '/ledger.v1.LedgerService/Transfer';
const CONTEXT: CaveatContext = { nowMs: T0, principal: 'frontend', audience: 'ledger', method: TRANSFER, keyId: 'k1' };

/** Verified caveats as verifyMacaroon returns them: the root's, then each discharge's. */
function verified(root: readonly string[], ...discharges: (readonly string[])[]): VerifiedCaveat[] {
  const of = (list: readonly string[], source: CaveatSource) => list.map((p, index) => ({ predicate: Buffer.from(p, 'utf8'), source, index }));
  return [...of(root, 'root'), ...discharges.flatMap((d, i) => of(d, i))];
}

const vocabulary = defaultCaveats();

function authorize(root: readonly string[], context: Partial<CaveatContext> = {}, options?: AuthorizeOptions, ...discharges: (readonly string[])[]): CaveatsResult {
  return authorizeCaveats(verified(root, ...discharges), { ...CONTEXT, ...context }, vocabulary, options);
}

/** 'ok', or the refusal's reason and the refused caveat's index and name. */
function outcome(r: CaveatsResult): string {
  if (r.ok) return 'ok';
  return r.caveat === undefined ? r.reason : `${r.reason} #${r.caveat.index}${r.caveat.name === undefined ? '' : ` ${r.caveat.name}`}`;
}

const P = caveat.presenter('frontend'); // every accepted example names its presenter

describe('caveat syntax: NAME VALUE, one spelling', () => {
  it('the builders write the documented text', () => {
    expect(caveat.user('alice')).to.equal('user alice');
    expect(caveat.presenter('frontend')).to.equal('presenter frontend');
    expect(caveat.roles('teller', 'auditor')).to.equal('roles teller,auditor');
    expect(caveat.audience('ledger', 'billing')).to.equal('audience ledger,billing');
    expect(caveat.method(TRANSFER)).to.equal('method /ledger.v1.LedgerService/Transfer');
    expect(caveat.method('/ledger.v1.LedgerService/*')).to.equal('method /ledger.v1.LedgerService/*');
    expect(caveat.expires(new Date(T0))).to.equal('expires 2026-11-23T03:00:00Z');
    expect(caveat.notBefore(T0 + 5)).to.equal('not-before 2026-11-23T03:00:00.005Z');
    expect(caveat.requestKey('k1')).to.equal('request-key k1');
    expect(caveat.custom('tenant', 'acme')).to.equal('tenant acme');
  });

  it('the builders refuse a value their type would refuse', () => {
    for (const build of [
      () => caveat.user(' alice'),
      () => caveat.user('alice\n'),
      () => caveat.user(''),
      () => caveat.roles(),
      () => caveat.roles('a b'),
      () => caveat.roles('a', 'a'),
      () => caveat.audience('a,b'),
      () => caveat.method('ledger.v1.LedgerService/Transfer'),
      () => caveat.method('/ledger.v1.LedgerService/Transfer/x'),
      () => caveat.expires(Number.NaN),
      () => caveat.expires(Date.UTC(10000, 0, 1)),
      () => caveat.requestKey('k 1'),
      () => caveat.custom('Tenant', 'acme'),
      () => encodeCaveat('tenant', 'acme '),
    ]) {
      expect(build).to.throw(RangeError);
    }
  });

  it('a predicate splits at its first space', () => {
    expect(splitCaveat('account = 42')).to.deep.equal({ name: 'account', value: '= 42' });
    expect(splitCaveat('user')).to.deep.equal({ name: 'user', value: undefined });
  });

  it('timestamps: RFC 3339 UTC with Z, whole seconds or milliseconds, nothing else', () => {
    expect(parseCaveatTime('2026-11-23T03:00:00Z')).to.equal(T0);
    expect(parseCaveatTime('2026-11-23T03:00:00.250Z')).to.equal(T0 + 250);
    expect(parseCaveatTime('2028-02-29T00:00:00Z')).to.equal(Date.UTC(2028, 1, 29));
    expect(parseCaveatTime('0001-01-01T00:00:00Z')).to.equal(new Date('0001-01-01T00:00:00Z').getTime());
    for (const bad of [
      '2026-11-23T03:00:00z',
      '2026-11-23t03:00:00Z',
      '2026-11-23 03:00:00Z',
      '2026-11-23T03:00:00+00:00',
      '2026-11-23T03:00:00',
      '2026-11-23T03:00Z',
      '2026-11-23T03:00:00.5Z',
      '2026-11-23T03:00:00.1234Z',
      '2026-11-23T24:00:00Z',
      '2026-11-23T03:00:60Z',
      '2026-02-30T00:00:00Z',
      '2027-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-00-01T00:00:00Z',
      '+2026-11-23T03:00:00Z',
      ' 2026-11-23T03:00:00Z',
      '１０２６-11-23T03:00:00Z',
    ]) {
      expect(parseCaveatTime(bad), bad).to.equal(undefined);
    }
    for (const t of [T0, T0 + 1, 0, Date.UTC(9999, 11, 31, 23, 59, 59, 999)]) expect(parseCaveatTime(formatCaveatTime(t))).to.equal(t);
  });
});

describe('user: the end user the macaroon is for', () => {
  it('is a claim, first in the chain', () => {
    const r = authorize([caveat.user('alice'), P]);
    expect(r.ok && r.claims.user).to.equal('alice');
    expect(r.ok && r.claims.chain).to.deep.equal(['alice', 'frontend']);
  });

  it('several user caveats must name the same user', () => {
    expect(outcome(authorize([caveat.user('alice'), P, caveat.user('alice')]))).to.equal('ok');
    expect(outcome(authorize([caveat.user('alice'), P, caveat.user('bob')]))).to.equal('caveat_failed #2 user');
    // Also across the root and a discharge: a third party cannot switch the user.
    expect(outcome(authorize([caveat.user('alice'), P], {}, {}, [caveat.user('bob')]))).to.equal('caveat_failed #0 user');
    expect(outcome(authorize([P], {}, {}, [caveat.user('alice')]))).to.equal('ok');
  });
});

describe('presenter: the ordered delegation chain, only the last may present', () => {
  const chain = [caveat.user('alice'), caveat.presenter('frontend'), caveat.method('/ledger.v1.LedgerService/*'), caveat.presenter('backend')];

  it('the verifier learns the chain in caveat order', () => {
    const r = authorize(chain, { principal: 'backend' });
    expect(r.ok && r.claims.chain).to.deep.equal(['alice', 'frontend', 'backend']);
    expect(r.ok && r.claims.presenter).to.equal('backend');
  });

  it('only the last presenter named may present it', () => {
    expect(outcome(authorize(chain, { principal: 'frontend' }))).to.equal('caveat_failed #3 presenter');
    expect(outcome(authorize(chain, { principal: 'alice' }))).to.equal('caveat_failed #3 presenter');
    expect(outcome(authorize(chain, { principal: 'mallory' }))).to.equal('caveat_failed #3 presenter');
  });

  it('order matters: the same presenters the other way round name another presenter', () => {
    const swapped = [chain[0]!, chain[3]!, chain[2]!, chain[1]!];
    expect(outcome(authorize(swapped, { principal: 'backend' }))).to.equal('caveat_failed #3 presenter');
    const r = authorize(swapped, { principal: 'frontend' });
    expect(r.ok && r.claims.chain).to.deep.equal(['alice', 'backend', 'frontend']);
  });

  it('a macaroon that names no presenter is refused, unless the vocabulary says otherwise', () => {
    const r = authorize([caveat.user('alice')]);
    expect(outcome(r)).to.equal('caveat_missing');
    expect(!r.ok && r.detail).to.equal('no presenter caveat');
    const open = authorizeCaveats(verified([caveat.user('alice')]), CONTEXT, defaultCaveats({ requirePresenter: false }));
    expect(open.ok && open.claims.chain).to.deep.equal(['alice']);
  });

  it('without an authenticated principal in the context, a presenter caveat fails', () => {
    expect(outcome(authorize(chain, { principal: undefined }))).to.equal('caveat_failed #3 presenter');
  });

  it('a presenter caveat inside a discharge is refused', () => {
    expect(outcome(authorize([P], {}, {}, [caveat.presenter('frontend')]))).to.equal('caveat_failed #0 presenter');
    const r = authorize([P], {}, {}, [caveat.presenter('frontend')]);
    expect(!r.ok && r.caveat?.source).to.equal(0);
  });
});

describe('roles: a claim; several intersect', () => {
  it('one roles caveat is the claim; more only narrow it', () => {
    const one = authorize([P, caveat.roles('teller', 'auditor')]);
    expect(one.ok && one.claims.roles).to.deep.equal(['teller', 'auditor']);
    const r = authorize([P, caveat.roles('teller', 'auditor', 'admin'), caveat.roles('admin', 'auditor')]);
    expect(r.ok && r.claims.roles).to.deep.equal(['auditor', 'admin']);
    const none = authorize([P, caveat.roles('teller'), caveat.roles('admin')]);
    expect(none.ok && none.claims.roles).to.deep.equal([]);
  });

  it('no roles caveat: the macaroon claims no roles of its own (claims.roles is absent)', () => {
    const r = authorize([P]);
    expect(r.ok && 'roles' in r.claims).to.equal(false);
  });

  it('roles are [A-Za-z0-9._:-]+, comma-separated, no spaces, empties or repeats', () => {
    expect(outcome(authorize([P, 'roles ledger:teller,v1.read_only-x']))).to.equal('ok');
    for (const bad of ['roles a, b', 'roles a,,b', 'roles a,', 'roles ,a', 'roles a,a', 'roles a/b', 'roles  a']) {
      expect(outcome(authorize([P, bad])), bad).to.equal('caveat_malformed #1 roles');
    }
  });
});

describe('audience: the verifying service must be listed', () => {
  it('accepts a listed audience and refuses others', () => {
    expect(outcome(authorize([P, caveat.audience('billing', 'ledger')]))).to.equal('ok');
    expect(outcome(authorize([P, caveat.audience('billing')]))).to.equal('caveat_failed #1 audience');
    expect(outcome(authorize([P, caveat.audience('ledger')], { audience: undefined }))).to.equal('caveat_failed #1 audience');
  });

  it('several audience caveats must all list it', () => {
    expect(outcome(authorize([P, caveat.audience('billing', 'ledger'), caveat.audience('ledger')]))).to.equal('ok');
    expect(outcome(authorize([P, caveat.audience('billing', 'ledger'), caveat.audience('billing')]))).to.equal('caveat_failed #2 audience');
  });

  it('malformed lists are refused', () => {
    for (const bad of ['audience ledger,', 'audience ledger, billing', 'audience ledger,ledger']) {
      expect(outcome(authorize([P, bad])), bad).to.equal('caveat_malformed #1 audience');
    }
  });
});

describe('method: an exact method or a whole service', () => {
  it('exact and whole-service paths match the request method', () => {
    expect(outcome(authorize([P, caveat.method(TRANSFER)]))).to.equal('ok');
    expect(outcome(authorize([P, caveat.method('/ledger.v1.LedgerService/*')]))).to.equal('ok');
  });

  it('refuses other methods and other services, including a service whose name extends this one', () => {
    expect(outcome(authorize([P, caveat.method('/ledger.v1.LedgerService/GetBalance')]))).to.equal('caveat_failed #1 method');
    expect(outcome(authorize([P, caveat.method('/ledger.v1.LedgerService/*')], { method: '/ledger.v1.LedgerServiceAdmin/Transfer' }))).to.equal('caveat_failed #1 method');
    expect(outcome(authorize([P, caveat.method('/ledger.v1.LedgerService/*')], { method: '/ledger.v1.LedgerService/' }))).to.equal('caveat_failed #1 method');
    expect(outcome(authorize([P, caveat.method('/ledger.v1.LedgerService/*')], { method: '/ledger.v1.LedgerService/a/b' }))).to.equal('caveat_failed #1 method');
    expect(outcome(authorize([P, caveat.method(TRANSFER)], { method: undefined }))).to.equal('caveat_failed #1 method');
  });

  it('several method caveats must all match: attenuating to one method of a service', () => {
    expect(outcome(authorize([P, caveat.method('/ledger.v1.LedgerService/*'), caveat.method(TRANSFER)]))).to.equal('ok');
    expect(outcome(authorize([P, caveat.method(TRANSFER), caveat.method('/ledger.v1.LedgerService/GetBalance')]))).to.equal('caveat_failed #2 method');
  });

  it('paths other than /pkg.Service/Method or /pkg.Service/* are malformed', () => {
    for (const bad of ['method ledger.v1.LedgerService/Transfer', 'method /ledger.v1.LedgerService', 'method /ledger.v1.LedgerService/Transfer/x', 'method /*/*', 'method /ledger.v1.LedgerService/Tr*', 'method /ledger..v1.S/M', 'method /1ledger.S/M']) {
      expect(outcome(authorize([P, bad])), bad).to.equal('caveat_malformed #1 method');
    }
  });
});

describe('expires and not-before: a window of time', () => {
  it('expires: accepted before T, refused from T on', () => {
    expect(outcome(authorize([P, caveat.expires(T0 + 1)]))).to.equal('ok');
    expect(outcome(authorize([P, caveat.expires(T0)]))).to.equal('caveat_failed #1 expires');
  });

  it('not-before: refused before T, accepted from T on', () => {
    expect(outcome(authorize([P, caveat.notBefore(T0)]))).to.equal('ok');
    expect(outcome(authorize([P, caveat.notBefore(T0 + 1)]))).to.equal('caveat_failed #1 not-before');
  });

  it('the claims are the narrowest window', () => {
    const r = authorize([P, caveat.expires(T0 + 2 * HOUR), caveat.notBefore(T0 - 2 * HOUR), caveat.expires(T0 + HOUR), caveat.notBefore(T0 - HOUR)]);
    expect(r.ok && [r.claims.expiresAtMs, r.claims.notBeforeMs]).to.deep.equal([T0 + HOUR, T0 - HOUR]);
  });

  it('other time forms are malformed', () => {
    expect(outcome(authorize([P, 'expires 2026-11-23T03:00:00+01:00']))).to.equal('caveat_malformed #1 expires');
    expect(outcome(authorize([P, 'not-before 1795316400']))).to.equal('caveat_malformed #1 not-before');
  });
});

describe('request-key: bound to the key the request is signed under', () => {
  it('accepts the same key id and refuses another', () => {
    expect(outcome(authorize([P, caveat.requestKey('k1')]))).to.equal('ok');
    expect(outcome(authorize([P, caveat.requestKey('k2')]))).to.equal('caveat_failed #1 request-key');
    expect(outcome(authorize([P, caveat.requestKey('k1')], { keyId: undefined }))).to.equal('caveat_failed #1 request-key');
    expect(outcome(authorize([P, 'request-key k/1']))).to.equal('caveat_malformed #1 request-key');
  });
});

describe('unknown and malformed caveats fail closed', () => {
  it('a NAME no type claims is caveat_unknown, wherever it is', () => {
    expect(outcome(authorize([P, 'account = 42']))).to.equal('caveat_unknown #1 account');
    expect(outcome(authorize([P], {}, {}, ['time < 2030']))).to.equal('caveat_unknown #0 time');
    expect(outcome(authorize(['Time < 2030', P]))).to.equal('caveat_unknown #0');
    const notUtf8 = [...verified([P]), { predicate: Buffer.from([0x75, 0x73, 0x65, 0x72, 0x20, 0xff]), source: 'root' as const, index: 1 }];
    expect(outcome(authorizeCaveats(notUtf8, CONTEXT, vocabulary))).to.equal('caveat_unknown #1');
  });

  it('an exact allowance satisfies a caveat outside the vocabulary, and only that text', () => {
    expect(outcome(authorize([P, 'account = 42'], {}, { exact: ['account = 42'] }))).to.equal('ok');
    expect(outcome(authorize([P, 'account = 43'], {}, { exact: ['account = 42'] }))).to.equal('caveat_unknown #1 account');
  });

  it('an exact allowance never bypasses a typed caveat', () => {
    expect(outcome(authorize([caveat.user('alice'), P, caveat.user('bob')], {}, { exact: ['user bob'] }))).to.equal('caveat_failed #2 user');
    expect(outcome(authorize([P, caveat.expires(T0)], {}, { exact: [caveat.expires(T0)] }))).to.equal('caveat_failed #1 expires');
  });

  it('a known NAME with a missing or ill-formed VALUE is caveat_malformed', () => {
    for (const bad of ['user', 'user ', 'user  alice', 'user alice ', 'user al\u0000ice', 'user al\u0085ice', 'user alice\t']) {
      expect(outcome(authorize([P, bad])), JSON.stringify(bad)).to.equal('caveat_malformed #1 user');
    }
  });

  it('a refusal names the caveat by position and NAME, not its value', () => {
    const r = authorize([P, caveat.user('alice'), caveat.user('bob')]);
    expect(r).to.deep.equal({ ok: false, reason: 'caveat_failed', caveat: { source: 'root', index: 2, name: 'user' }, detail: 'caveat 2 of the root (user): names two different users' });
  });
});

describe('the NAME = VALUE convention of other macaroon libraries is not a typed caveat', () => {
  // libmacaroons and pymacaroons publish caveats as `account = 3735928559`, `user = alice`.
  // Split at the first space, `user = alice` would be the user "= alice": refused instead
  // (docs/macaroon-caveats.md §1), for every registered NAME, built-in or not.
  const libmacaroons = loadMacaroonVectors<{ cases: { name: string; key: string; macaroons: string[] }[] }>('libmacaroons-vtest.json').cases;
  /** A published .vtest token (V1 is base64 of base64 there) and its key. */
  const published = (name: string) => {
    const c = libmacaroons.find((x) => x.name === name)!;
    const once = Buffer.from(c.macaroons[0]!, 'base64');
    return { root: parsed(once[0] === 2 ? c.macaroons[0]! : once.toString('latin1')), key: Buffer.from(c.key, 'utf8') };
  };
  const foreign = defaultCaveats({ requirePresenter: false }); // these macaroons name no presenter

  it('a built-in NAME followed by " = " is caveat_malformed, never the value "= ..."', () => {
    for (const bad of ['user = alice', 'user =alice', 'user == alice', 'presenter = frontend', 'roles = teller', 'method = /ledger.v1.LedgerService/Transfer', 'expires = 2026-11-23T03:00:00Z']) {
      const name = bad.slice(0, bad.indexOf(' '));
      expect(outcome(authorize([P, bad])), bad).to.equal(`caveat_malformed #1 ${name}`);
      expect(outcome(authorize([P], {}, {}, [bad])), `${bad} in a discharge`).to.equal(`caveat_malformed #0 ${name}`);
    }
    // An exact allowance is never consulted for a registered NAME.
    expect(outcome(authorize([P, 'user = alice'], {}, { exact: ['user = alice'] }))).to.equal('caveat_malformed #1 user');
    // "=" inside a value is still a value: only a leading one is refused.
    const r = authorize([caveat.user('alice=admin'), P]);
    expect(r.ok && r.claims.user).to.equal('alice=admin');
  });

  it('the builders refuse a value that starts with "="', () => {
    for (const build of [() => caveat.user('= alice'), () => caveat.user('=alice'), () => caveat.presenter('=frontend'), () => caveat.custom('account', '= 3735928559')]) {
      expect(build).to.throw(RangeError);
    }
  });

  it('published libmacaroons vector caveat_v1_1 ("account = 3735928559"): unknown, accepted only by its exact text', () => {
    const { root, key } = published('caveat_v1_1');
    expect(root.caveats.map((c) => Buffer.from(c.identifier).toString())).to.deep.equal(['account = 3735928559']);
    const run = (options: AuthorizeOptions, vocab = foreign) => authorizeMacaroon(root, key, [], { nowMs: T0 }, vocab, options);
    const r = run({});
    expect(!r.ok && r.reason === 'caveat_unknown' && r.caveat).to.deep.equal({ source: 'root', index: 0, name: 'account' });
    expect(run({ exact: ['account = 3735928559'] })).to.include({ ok: true });
    expect(run({ exact: ['account = 0000000000'] })).to.include({ ok: false, reason: 'caveat_unknown' });
    // An application that registers `account` judges it by its type: the spelling is malformed.
    const withAccount = defaultCaveats({ requirePresenter: false }).register<string>({ name: 'account', parse: (v) => (/^[0-9]+$/.test(v) ? { ok: true, value: v } : { ok: false }), check: () => true });
    expect(run({ exact: ['account = 3735928559'] }, withAccount)).to.include({ ok: false, reason: 'caveat_malformed' });
  });

  it('published libmacaroons vector caveat_v2_7 ("user = alice"): genuine, and refused as malformed, not read as a user', () => {
    const { root, key } = published('caveat_v2_7');
    expect(root.caveats.map((c) => Buffer.from(c.identifier).toString())).to.deep.equal(['account = 3735928559', 'user = alice']);
    const r = authorizeMacaroon(root, key, [], { nowMs: T0 }, foreign, { exact: ['account = 3735928559', 'user = alice'] });
    expect(r.ok === false && r.reason === 'caveat_malformed' && r.caveat).to.deep.equal({ source: 'root', index: 1, name: 'user' });
  });
});

describe('application caveat types', () => {
  interface TenantContext extends CaveatContext {
    readonly tenant?: string;
  }

  it('a registered type is parsed, checked and its values returned as claims', () => {
    const vocab = defaultCaveats<TenantContext>().register<string>({
      name: 'tenant',
      parse: (v) => (/^[a-z]+$/.test(v) ? { ok: true, value: v } : { ok: false }),
      check: (tenant, context) => (context.tenant === tenant ? true : 'another tenant'),
    });
    const run = (preds: string[], tenant?: string) => authorizeCaveats(verified(preds), { ...CONTEXT, tenant }, vocab);
    const r = run([P, caveat.custom('tenant', 'acme')], 'acme');
    expect(r.ok && r.claims.custom).to.deep.equal({ tenant: ['acme'] });
    expect(outcome(run([P, caveat.custom('tenant', 'acme')], 'globex'))).to.equal('caveat_failed #1 tenant');
    expect(outcome(run([P, 'tenant ACME'], 'acme'))).to.equal('caveat_malformed #1 tenant');
    // The same text is unknown to a vocabulary that did not register it.
    expect(outcome(authorize([P, caveat.custom('tenant', 'acme')]))).to.equal('caveat_unknown #1 tenant');
  });

  it('a type can be judged over all its occurrences', () => {
    const vocab = defaultCaveats().register<number>({
      name: 'max-amount',
      parse: (v) => (/^[1-9][0-9]{0,8}$/.test(v) ? { ok: true, value: Number(v) } : { ok: false }),
      checkAll: (limits) => (Math.min(...limits) >= 100 ? true : 'limit below 100'),
    });
    expect(outcome(authorizeCaveats(verified([P, 'max-amount 500', 'max-amount 200']), CONTEXT, vocab))).to.equal('ok');
    expect(outcome(authorizeCaveats(verified([P, 'max-amount 50', 'max-amount 200']), CONTEXT, vocab))).to.equal('caveat_failed #2 max-amount');
  });

  it('a checker that throws, or returns anything but true, refuses', () => {
    const vocab = defaultCaveats()
      .register<string>({ name: 'boom', parse: (v) => ({ ok: true, value: v }), check: () => { throw new Error('x'); } })
      .register<string>({ name: 'truthy', parse: (v) => ({ ok: true, value: v }), check: () => 1 as unknown as true });
    const r = authorizeCaveats(verified([P, 'boom x']), CONTEXT, vocab);
    expect([outcome(r), !r.ok && r.detail]).to.deep.equal(['caveat_failed #1 boom', 'caveat 1 of the root (boom): checker fault']);
    expect(outcome(authorizeCaveats(verified([P, 'truthy x']), CONTEXT, vocab))).to.equal('caveat_failed #1 truthy');
  });

  it('registration refuses a taken name, a bad name, and a type without exactly one checker', () => {
    const vocab = defaultCaveats();
    const parse = (v: string) => ({ ok: true as const, value: v });
    expect(() => vocab.register({ name: 'user', parse, check: () => true })).to.throw(RangeError, /already registered/);
    expect(() => vocab.register({ name: 'Tenant', parse, check: () => true })).to.throw(RangeError);
    expect(() => vocab.register({ name: 'tenant', parse } as never)).to.throw(TypeError);
    expect(() => vocab.register({ name: 'tenant', parse, check: () => true, checkAll: () => true } as never)).to.throw(TypeError);
    expect(new CaveatRegistry().names()).to.deep.equal([]);
    expect(defaultCaveats().names()).to.deep.equal(['user', 'presenter', 'roles', 'audience', 'method', 'expires', 'not-before', 'request-key']);
  });
});

describe('authorizeMacaroon: verification, then authorization', () => {
  const ROOT_KEY = Buffer.alloc(32, 0x31);
  const TP_KEY = Buffer.alloc(32, 0x32);

  function delegated(): { root: Macaroon; discharge: Macaroon } {
    let root = mintMacaroon({ rootKey: ROOT_KEY, identifier: 'alice-1', location: 'https://ledger' });
    for (const c of [caveat.user('alice'), caveat.presenter('frontend'), caveat.expires(T0 + HOUR)]) root = addFirstPartyCaveat(root, c);
    root = addThirdPartyCaveat(root, { caveatKey: TP_KEY, caveatId: 'login', location: 'https://auth' });
    // The frontend attenuates and names the next presenter.
    root = addFirstPartyCaveat(root, caveat.method(TRANSFER));
    root = addFirstPartyCaveat(root, caveat.presenter('backend'));
    const discharge = addFirstPartyCaveat(mintMacaroon({ rootKey: TP_KEY, identifier: 'login' }), caveat.roles('teller'));
    return { root, discharge: bindForRequest(root, discharge) };
  }

  it('a delegated macaroon with a discharge gives the user, the chain and the roles', () => {
    const { root, discharge } = delegated();
    const r = authorizeMacaroon(root, ROOT_KEY, [discharge], { ...CONTEXT, principal: 'backend' }, vocabulary);
    if (!r.ok) expect.fail(`${r.reason}: ${r.detail}`);
    expect(r.claims).to.deep.equal({ user: 'alice', roles: ['teller'], chain: ['alice', 'frontend', 'backend'], presenter: 'backend', expiresAtMs: T0 + HOUR, custom: {} });
    const asFrontend = authorizeMacaroon(root, ROOT_KEY, [discharge], CONTEXT, vocabulary);
    expect(asFrontend.ok ? 'ok' : asFrontend.reason).to.equal('caveat_failed');
  });

  it('a discharge that names a presenter is refused', () => {
    const { root } = delegated();
    const d = addFirstPartyCaveat(mintMacaroon({ rootKey: TP_KEY, identifier: 'login' }), caveat.presenter('backend'));
    const r = authorizeMacaroon(root, ROOT_KEY, [bindForRequest(root, d)], { ...CONTEXT, principal: 'backend' }, vocabulary);
    expect(r.ok ? 'ok' : `${r.reason}: ${r.detail}`).to.equal('caveat_failed: caveat 0 of discharge 0 (presenter): allowed only in the root macaroon');
  });

  it('a bad signature is refused before any checker sees a caveat', () => {
    const { root, discharge } = delegated();
    let calls = 0;
    const vocab = defaultCaveats().register<string>({ name: 'spy', parse: (v) => ({ ok: true, value: v }), check: () => (calls++, true) });
    const forged = addFirstPartyCaveat(root, 'spy x');
    const tampered = { ...forged, caveats: forged.caveats.map((c, i) => (i === 0 ? { identifier: Buffer.from('user mallory') } : c)) };
    const r = authorizeMacaroon(tampered, ROOT_KEY, [bindForRequest(tampered, discharge)], { ...CONTEXT, principal: 'backend' }, vocab);
    expect(r.ok ? 'ok' : r.reason).to.equal('macaroon_bad_signature');
    expect(calls).to.equal(0);
  });
});

// ------------------------------------------------------------------ attenuation only narrows

const POOL = [
  caveat.user('alice'),
  caveat.user('bob'),
  caveat.roles('a', 'b'),
  caveat.roles('b', 'c'),
  caveat.roles('c'),
  caveat.audience('ledger'),
  caveat.audience('billing', 'ledger'),
  caveat.audience('billing'),
  caveat.method(TRANSFER),
  caveat.method('/ledger.v1.LedgerService/*'),
  caveat.method('/billing.v1.BillingService/*'),
  caveat.expires(T0 + HOUR),
  caveat.expires(T0 - HOUR),
  caveat.notBefore(T0 - HOUR),
  caveat.notBefore(T0 + HOUR),
  caveat.requestKey('k1'),
  caveat.requestKey('k2'),
  'account = 42',
  'expires soon',
];
const PRINCIPALS = ['frontend', 'backend', 'alice'];

interface Case {
  root: string[];
  discharge: string[];
}

function randomCase(rng: Prng): Case {
  const pick = (): string => (rng.below(4) === 0 ? caveat.presenter(PRINCIPALS[rng.below(3)]!) : POOL[rng.below(POOL.length)]!);
  return { root: Array.from({ length: rng.below(6) }, pick), discharge: Array.from({ length: rng.below(3) }, pick) };
}

function randomContext(rng: Prng): CaveatContext {
  const maybe = <T>(v: T): T | undefined => (rng.below(5) === 0 ? undefined : v);
  return {
    nowMs: T0 + (rng.below(3) - 1) * 2 * HOUR,
    principal: maybe(PRINCIPALS[rng.below(3)]!),
    audience: maybe(['ledger', 'billing'][rng.below(2)]!),
    method: maybe([TRANSFER, '/ledger.v1.LedgerService/GetBalance', '/billing.v1.BillingService/Pay'][rng.below(3)]!),
    keyId: maybe(['k1', 'k2'][rng.below(2)]!),
  };
}

/** Half the time, the context's principal is the last presenter, so acceptances are common. */
function favourable(rng: Prng, c: Case, ctx: CaveatContext): CaveatContext {
  const presenters = c.root.filter((p) => p.startsWith('presenter '));
  if (presenters.length === 0 || rng.below(2) === 0) return ctx;
  return { ...ctx, principal: presenters[presenters.length - 1]!.slice('presenter '.length) };
}

const run = (c: Case, ctx: CaveatContext, options: AuthorizeOptions, vocab = vocabulary) =>
  authorizeCaveats(verified(c.root, ...(c.discharge.length > 0 ? [c.discharge] : [])), ctx, vocab, options);

describe('attenuation only narrows (seeded random caveat lists)', () => {
  const TRIALS = 4000;

  it('adding any caveat but a presenter never turns a refusal into an acceptance, and never widens a claim', () => {
    const rng = new Prng(0x5eed_ca7e);
    let refusedBefore = 0;
    let acceptedBoth = 0;
    for (let n = 0; n < TRIALS; n++) {
      const before = randomCase(rng);
      const ctx = favourable(rng, before, randomContext(rng));
      const options: AuthorizeOptions = rng.below(2) === 0 ? { exact: ['account = 42'] } : {};
      const added = POOL[rng.below(POOL.length)]!;
      // Anyone holding a macaroon can append to it or to a discharge before binding.
      const after = rng.below(2) === 0 ? { ...before, root: [...before.root, added] } : { ...before, discharge: [...before.discharge, added] };
      const a = run(before, ctx, options);
      const b = run(after, ctx, options);
      const label = JSON.stringify({ before, added, ctx, options });
      if (!a.ok) {
        refusedBefore++;
        expect(b.ok, label).to.equal(false);
        continue;
      }
      if (!b.ok) continue;
      acceptedBoth++;
      if (a.claims.roles !== undefined) expect(a.claims.roles, label).to.include.members([...b.claims.roles!]);
      if (a.claims.user !== undefined) expect(b.claims.user, label).to.equal(a.claims.user);
      if (a.claims.expiresAtMs !== undefined) expect(b.claims.expiresAtMs, label).to.be.at.most(a.claims.expiresAtMs);
      if (a.claims.notBeforeMs !== undefined) expect(b.claims.notBeforeMs, label).to.be.at.least(a.claims.notBeforeMs);
      expect(b.claims.presenter, label).to.equal(a.claims.presenter);
    }
    // The generator exercises both branches, not just refusals.
    expect(refusedBefore).to.be.greaterThan(TRIALS / 4);
    expect(acceptedBoth).to.be.greaterThan(TRIALS / 50);
  });

  it('adding a presenter only hands presentation to the one named: nothing else widens', () => {
    const rng = new Prng(0xde1e_6a7e);
    const open = defaultCaveats({ requirePresenter: false });
    let accepted = 0;
    for (let n = 0; n < TRIALS; n++) {
      const before = randomCase(rng);
      const ctx = randomContext(rng);
      const next = PRINCIPALS[rng.below(3)]!;
      const after = { ...before, root: [...before.root, caveat.presenter(next)] };
      const b = run(after, ctx, {});
      const label = JSON.stringify({ before, next, ctx });
      if (!b.ok) continue;
      accepted++;
      expect(ctx.principal, label).to.equal(next);
      // Before the delegation step, the macaroon allowed the same request from its own last
      // presenter (or from anyone, if it named none): the step changed only who presents.
      const presenters = before.root.filter((p) => p.startsWith('presenter ')).map((p) => p.slice('presenter '.length));
      const a = presenters.length > 0 ? run(before, { ...ctx, principal: presenters[presenters.length - 1]! }, {}) : run(before, ctx, {}, open);
      expect(a.ok, label).to.equal(true);
      if (a.ok) expect(b.claims.chain, label).to.deep.equal([...a.claims.chain, next]);
    }
    expect(accepted).to.be.greaterThan(TRIALS / 50);
  });

  it('a presenter added to a discharge is always refused', () => {
    const rng = new Prng(0xd15c);
    for (let n = 0; n < 500; n++) {
      const c = randomCase(rng);
      const r = run({ ...c, discharge: [...c.discharge, caveat.presenter(PRINCIPALS[rng.below(3)]!)] }, randomContext(rng), {});
      expect(r.ok).to.equal(false);
    }
  });
});
