// Policy (spec §7): default deny, roles any-of, principals, service rules with exact rules
// winning, public methods, and rules read from the (reqauth.v1.access) method option.
import { expect } from 'chai';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { ReqauthConfigError } from '../../src/errors';
import { Caller, MethodWithOptions, Policy, policyFromServiceDefinition, PolicyDecision } from '../../src/policy';
import { repoRoot } from '../support/vectors';

const teller: Caller = { principal: 'frontdesk', roles: ['teller'] };
const auditor: Caller = { principal: 'audit-bot', roles: ['auditor'] };
const nobody: Caller = { principal: 'stranger', roles: [] };

const outcome = (d: PolicyDecision): string => (d.ok ? 'allow' : d.reason);

describe('Policy denies by default', () => {
  it('a method without a rule is refused with no_rule, whoever calls', () => {
    const policy = new Policy({ '/ledger.v1.LedgerService/GetBalance': { roles: ['teller'] } });
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/Transfer', teller))).to.equal('no_rule');
    expect(outcome(policy.authorize('/other.v1.Other/GetBalance', teller))).to.equal('no_rule');
    expect(outcome(new Policy().authorize('/ledger.v1.LedgerService/GetBalance', teller))).to.equal('no_rule');
  });

  it('a rule listing nobody allows nobody', () => {
    const policy = new Policy({ '/p.S/M': {} });
    expect(outcome(policy.authorize('/p.S/M', teller))).to.equal('principal_not_allowed');
  });
});

describe('Policy allows a caller holding any one of the listed roles', () => {
  const policy = new Policy({ '/ledger.v1.LedgerService/GetBalance': { roles: ['teller', 'auditor'] } });

  it('allows each listed role on its own', () => {
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', teller))).to.equal('allow');
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', auditor))).to.equal('allow');
  });

  it('allows a caller with a listed role among others', () => {
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', { principal: 'x', roles: ['intern', 'teller'] }))).to.equal('allow');
  });

  it('refuses a caller without any listed role with missing_role', () => {
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', nobody))).to.equal('missing_role');
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', { principal: 'x', roles: ['Teller', 'teller '] }))).to.equal('missing_role');
  });

  it('a principal named like a role is not granted the role', () => {
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', { principal: 'teller', roles: [] }))).to.equal('missing_role');
  });

  it('names the matching rule when it allows', () => {
    expect(policy.authorize('/ledger.v1.LedgerService/GetBalance', teller)).to.deep.equal({ ok: true, rule: '/ledger.v1.LedgerService/GetBalance' });
  });
});

describe('Policy allows listed principals whatever their roles', () => {
  it('only-principals rule: the listed principal is allowed, others get principal_not_allowed', () => {
    const policy = new Policy({ '/p.S/M': { principals: ['batch-importer'] } });
    expect(outcome(policy.authorize('/p.S/M', { principal: 'batch-importer', roles: [] }))).to.equal('allow');
    expect(outcome(policy.authorize('/p.S/M', teller))).to.equal('principal_not_allowed');
  });

  it('principals and roles together: either grants access', () => {
    const policy = new Policy({ '/p.S/M': { principals: ['batch-importer'], roles: ['importer'] } });
    expect(outcome(policy.authorize('/p.S/M', { principal: 'batch-importer', roles: [] }))).to.equal('allow');
    expect(outcome(policy.authorize('/p.S/M', { principal: 'someone', roles: ['importer'] }))).to.equal('allow');
    expect(outcome(policy.authorize('/p.S/M', teller))).to.equal('missing_role');
  });
});

describe('Policy service rules ("/pkg.Service/*") cover a whole service, and an exact rule wins', () => {
  const policy = new Policy({
    '/ledger.v1.LedgerService/*': { roles: ['auditor'] },
    '/ledger.v1.LedgerService/Transfer': { roles: ['teller'] },
  });

  it('the service rule applies to a method without its own rule', () => {
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', auditor))).to.equal('allow');
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/GetBalance', teller))).to.equal('missing_role');
  });

  it('the exact rule replaces the service rule rather than adding to it', () => {
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/Transfer', teller))).to.equal('allow');
    expect(outcome(policy.authorize('/ledger.v1.LedgerService/Transfer', auditor))).to.equal('missing_role');
  });

  it('the service rule covers only its own service', () => {
    expect(outcome(policy.authorize('/ledger.v2.LedgerService/GetBalance', auditor))).to.equal('no_rule');
    expect(outcome(policy.authorize('/ledger.v1.LedgerServiceAdmin/GetBalance', auditor))).to.equal('no_rule');
  });

  it('refuses rule paths that are neither a method nor a service', () => {
    for (const path of ['ledger.v1.LedgerService/Transfer', '/ledger.v1.LedgerService', '/a/b/c', '/*', '//M']) {
      expect(() => new Policy({ [path]: { roles: ['x'] } }), path).to.throw(ReqauthConfigError);
    }
  });

  it('merge combines two policies and refuses two rules for one path', () => {
    const a = new Policy({ '/p.S/A': { roles: ['x'] } });
    const b = new Policy({ '/p.S/B': { roles: ['y'] } });
    const merged = a.merge(b);
    expect(outcome(merged.authorize('/p.S/A', { principal: 'p', roles: ['x'] }))).to.equal('allow');
    expect(outcome(merged.authorize('/p.S/B', { principal: 'p', roles: ['y'] }))).to.equal('allow');
    expect(() => a.merge(new Policy({ '/p.S/A': { roles: ['z'] } }))).to.throw(ReqauthConfigError);
  });
});

describe('Policy public methods need no authentication, and cannot also list callers', () => {
  it('a public method is public and allows anyone', () => {
    const policy = new Policy({ '/grpc.health.v1.Health/Check': { public: true }, '/p.S/M': { roles: ['x'] } });
    expect(policy.isPublic('/grpc.health.v1.Health/Check')).to.equal(true);
    expect(policy.isPublic('/p.S/M')).to.equal(false);
    expect(policy.isPublic('/p.S/Unknown')).to.equal(false);
    expect(outcome(policy.authorize('/grpc.health.v1.Health/Check', nobody))).to.equal('allow');
  });

  it('public with roles or principals is a configuration error', () => {
    expect(() => new Policy({ '/p.S/M': { public: true, roles: ['admin'] } })).to.throw(ReqauthConfigError, /public/);
    expect(() => new Policy({ '/p.S/M': { public: true, principals: ['root'] } })).to.throw(ReqauthConfigError, /public/);
  });

  it('public with empty lists is fine', () => {
    expect(new Policy({ '/p.S/M': { public: true, roles: [], principals: [] } }).isPublic('/p.S/M')).to.equal(true);
  });
});

describe('policyFromServiceDefinition reads the (reqauth.v1.access) option of ledger.proto', () => {
  const root = repoRoot();
  const pkg = protoLoader.loadSync('ledger/v1/ledger.proto', {
    includeDirs: [join(root, 'proto'), join(root, 'examples/proto')],
  });
  const service = pkg['ledger.v1.LedgerService'] as unknown as Record<string, MethodWithOptions>;
  const policy = policyFromServiceDefinition(service);
  const path = (m: string) => `/ledger.v1.LedgerService/${m}`;

  it('Ping is public', () => {
    expect(policy.isPublic(path('Ping'))).to.equal(true);
    expect(outcome(policy.authorize(path('Ping'), nobody))).to.equal('allow');
  });

  it('GetBalance and ListTransactions: teller or auditor', () => {
    for (const m of ['GetBalance', 'ListTransactions']) {
      expect(outcome(policy.authorize(path(m), teller)), m).to.equal('allow');
      expect(outcome(policy.authorize(path(m), auditor)), m).to.equal('allow');
      expect(outcome(policy.authorize(path(m), nobody)), m).to.equal('missing_role');
      expect(policy.isPublic(path(m)), m).to.equal(false);
    }
  });

  it('Transfer: teller only', () => {
    expect(outcome(policy.authorize(path('Transfer'), teller))).to.equal('allow');
    expect(outcome(policy.authorize(path('Transfer'), auditor))).to.equal('missing_role');
  });

  it('ImportTransactions: role importer or principal batch-importer', () => {
    expect(outcome(policy.authorize(path('ImportTransactions'), { principal: 'x', roles: ['importer'] }))).to.equal('allow');
    expect(outcome(policy.authorize(path('ImportTransactions'), { principal: 'batch-importer', roles: [] }))).to.equal('allow');
    expect(outcome(policy.authorize(path('ImportTransactions'), teller))).to.equal('missing_role');
  });

  it('Reconcile: auditor only', () => {
    expect(outcome(policy.authorize(path('Reconcile'), auditor))).to.equal('allow');
    expect(outcome(policy.authorize(path('Reconcile'), teller))).to.equal('missing_role');
  });

  it('CloseAccount, declared without the option, is denied to everyone (no_rule)', () => {
    for (const caller of [teller, auditor, nobody, { principal: 'batch-importer', roles: ['importer', 'teller', 'auditor'] }]) {
      expect(outcome(policy.authorize(path('CloseAccount'), caller))).to.equal('no_rule');
    }
    expect(policy.isPublic(path('CloseAccount'))).to.equal(false);
  });

  it('an option that is public and lists roles is a configuration error', () => {
    const bad = { M: { path: '/p.S/M', options: { '(reqauth.v1.access)': { public: true, roles: ['admin'] } } } };
    expect(() => policyFromServiceDefinition(bad)).to.throw(ReqauthConfigError);
  });

  it('an option whose roles are not strings is a configuration error', () => {
    const bad = { M: { path: '/p.S/M', options: { '(reqauth.v1.access)': { roles: 'admin' } } } };
    expect(() => policyFromServiceDefinition(bad)).to.throw(ReqauthConfigError);
  });
});

describe('rules must name methods that exist (checkAgainst, checkService)', () => {
  const ledger = {
    Ping: { path: '/ledger.v1.LedgerService/Ping' },
    Transfer: { path: '/ledger.v1.LedgerService/Transfer' },
  };
  const health = { Check: { path: '/grpc.health.v1.Health/Check' } };

  it('a misspelled method is an error naming the rule and the method it probably meant', () => {
    const policy = new Policy({ '/ledger.v1.LedgerService/*': { roles: ['auditor'] }, '/ledger.v1.LedgerService/Transfr': { roles: ['teller'] } });
    expect(() => policy.checkAgainst(ledger)).to.throw(ReqauthConfigError, /\/ledger\.v1\.LedgerService\/Transfr: .*no method Transfr \(did you mean \/ledger\.v1\.LedgerService\/Transfer\?\)/);
    expect(() => policy.checkService(ledger)).to.throw(ReqauthConfigError, /Transfr/);
  });

  it('a misspelled service is an error for checkAgainst, and left to checkAgainst by checkService', () => {
    const policy = new Policy({ '/ledger.v1.LedgerServce/*': { roles: ['teller'] } });
    expect(() => policy.checkAgainst(ledger)).to.throw(ReqauthConfigError, /no service ledger\.v1\.LedgerServce here \(did you mean ledger\.v1\.LedgerService\?\)/);
    expect(() => policy.checkService(ledger)).to.not.throw();
  });

  it('every problem is listed at once', () => {
    const policy = new Policy({ '/ledger.v1.LedgerService/Transfr': { roles: ['teller'] }, '/ledger.v1.LedgerService/Png': { public: true }, '/x.Y/*': { roles: ['a'] } });
    expect(() => policy.checkAgainst(ledger)).to.throw(ReqauthConfigError).with.property('message').that.matches(/Png[\s\S]*Transfr[\s\S]*\/x\.Y\/\*/);
  });

  it('rules that name real methods and services pass, across several definitions', () => {
    const policy = new Policy({ '/ledger.v1.LedgerService/Transfer': { roles: ['teller'] }, '/ledger.v1.LedgerService/*': { roles: ['auditor'] }, '/grpc.health.v1.Health/*': { public: true } });
    expect(() => policy.checkAgainst([ledger, health])).to.not.throw();
    expect(() => policy.checkService(ledger)).to.not.throw();
  });

  it('allowPublicElsewhere accepts public rules for services not given, and only those', () => {
    const policy = new Policy({ '/grpc.health.v1.Health/*': { public: true }, '/ledger.v1.LedgerService/Transfer': { roles: ['teller'] } });
    expect(() => policy.checkAgainst(ledger)).to.throw(ReqauthConfigError, /grpc\.health\.v1\.Health/);
    expect(() => policy.checkAgainst(ledger, { allowPublicElsewhere: true })).to.not.throw();
    const restricted = new Policy({ '/grpc.health.v1.Health/*': { roles: ['ops'] } });
    expect(() => restricted.checkAgainst(ledger, { allowPublicElsewhere: true })).to.throw(ReqauthConfigError);
  });
});

describe('policyFromServiceDefinition never silently denies everything', () => {
  it('a definition whose methods carry no options at all (grpc-tools, ts-proto) is a configuration error pointing to policyFromDescriptorSet', () => {
    const generated = { transfer: { path: '/ledger.v1.LedgerService/Transfer' }, ping: { path: '/ledger.v1.LedgerService/Ping' } };
    expect(() => policyFromServiceDefinition(generated)).to.throw(ReqauthConfigError, /ledger\.v1\.LedgerService: this service definition carries no method options.*policyFromDescriptorSet/);
  });

  it('a service none of whose methods declares access is a configuration error', () => {
    const bare = { M: { path: '/p.S/M', options: {} }, N: { path: '/p.S/N', options: { deprecated: true } } };
    expect(() => policyFromServiceDefinition(bare)).to.throw(ReqauthConfigError, /p\.S: no method declares \(reqauth\.v1\.access\)/);
  });

  it('an empty definition is a configuration error', () => {
    expect(() => policyFromServiceDefinition({})).to.throw(ReqauthConfigError, /no methods/);
  });
});
