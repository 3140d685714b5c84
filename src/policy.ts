// Who may call which method (docs/spec.md §7): per-method rules from code or from the
// `(reqauth.v1.access)` method option. Default deny: a method without a rule is refused to
// every caller unless it is declared public.
import { ReqauthConfigError, refuse, Refusal } from './errors';

export interface AccessRule {
  /** No request authentication at all (health checks, reflection). Excludes roles/principals. */
  readonly public?: boolean;
  /** Any authenticated caller holding one of these roles. */
  readonly roles?: readonly string[];
  /** Any of these authenticated principals, whatever its roles. */
  readonly principals?: readonly string[];
  /**
   * The server signs this method's responses (spec §13): each response message and the
   * call's end. Not with `public` (a public call has no key to sign with).
   */
  readonly signResponses?: boolean;
}

/** What the policy needs to know about an authenticated caller. */
export interface Caller {
  readonly principal: string;
  readonly roles: readonly string[];
}

export type PolicyDecision = { readonly ok: true; readonly rule: string } | Refusal;

export const ACCESS_OPTION = '(reqauth.v1.access)';

interface CompiledRule {
  readonly public: boolean;
  readonly signResponses: boolean;
  readonly roles: ReadonlySet<string>;
  readonly principals: ReadonlySet<string>;
}

/**
 * Rules keyed by full method path ("/pkg.Service/Method") or by a whole service
 * ("/pkg.Service/*"); an exact method rule wins over its service's rule.
 */
export class Policy {
  private readonly rules = new Map<string, CompiledRule>();

  constructor(rules: Readonly<Record<string, AccessRule>> = {}) {
    for (const [path, rule] of Object.entries(rules)) this.rules.set(checkPath(path), compile(path, rule));
  }

  /** A new policy with `other`'s rules added; a path present in both is a configuration error. */
  merge(other: Policy): Policy {
    const merged = new Policy();
    for (const source of [this, other]) {
      for (const [path, rule] of source.rules) {
        if (merged.rules.has(path)) throw new ReqauthConfigError(`two rules for ${path}`);
        merged.rules.set(path, rule);
      }
    }
    return merged;
  }

  isPublic(method: string): boolean {
    return this.ruleFor(method)?.public === true;
  }

  /** Whether the server signs this method's responses (spec §13). */
  signsResponses(method: string): boolean {
    return this.ruleFor(method)?.signResponses === true;
  }

  /** Authorization of an authenticated caller. */
  authorize(method: string, caller: Caller): PolicyDecision {
    const rule = this.ruleFor(method);
    if (!rule) return refuse('no_rule');
    if (rule.public || rule.principals.has(caller.principal)) return { ok: true, rule: method };
    for (const role of caller.roles) if (rule.roles.has(role)) return { ok: true, rule: method };
    return refuse(rule.roles.size > 0 ? 'missing_role' : 'principal_not_allowed');
  }

  private ruleFor(method: string): CompiledRule | undefined {
    const exact = this.rules.get(method);
    if (exact) return exact;
    const slash = method.lastIndexOf('/');
    return slash > 0 ? this.rules.get(method.slice(0, slash) + '/*') : undefined;
  }
}

/** The structural shape of a service definition's methods, as @grpc/proto-loader makes them. */
export interface MethodWithOptions {
  readonly path: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

/**
 * Rules from the `(reqauth.v1.access)` option of each method of a service definition loaded
 * with @grpc/proto-loader. Methods without the option get no rule, hence are denied.
 */
export function policyFromServiceDefinition(definition: Readonly<Record<string, MethodWithOptions>>): Policy {
  const rules: Record<string, AccessRule> = {};
  for (const method of Object.values(definition)) {
    const option = method.options?.[ACCESS_OPTION];
    if (option === undefined) continue;
    rules[method.path] = accessFromOption(method.path, option);
  }
  return new Policy(rules);
}

function accessFromOption(path: string, option: unknown): AccessRule {
  if (typeof option !== 'object' || option === null) throw new ReqauthConfigError(`${path}: ${ACCESS_OPTION} is not a message`);
  const rec = option as Record<string, unknown>;
  const list = (name: string): string[] => {
    const v = rec[name] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ReqauthConfigError(`${path}: ${name} must be strings`);
    return v as string[];
  };
  return { public: rec['public'] === true, roles: list('roles'), principals: list('principals'), signResponses: signResponsesOf(rec) };
}

/** proto-loader keeps option field names as declared (`sign_responses`); accept the camelCase form too. */
function signResponsesOf(option: Readonly<Record<string, unknown>>): boolean {
  return option['sign_responses'] === true || option['signResponses'] === true;
}

/**
 * The method paths of a service definition whose `(reqauth.v1.access)` option says
 * `sign_responses: true`: for a client's `requireSignedResponses`, so that client and server
 * read which responses are signed from the same .proto.
 */
export function signedResponseMethods(definition: Readonly<Record<string, MethodWithOptions>>): string[] {
  const paths: string[] = [];
  for (const method of Object.values(definition)) {
    const option = method.options?.[ACCESS_OPTION];
    if (typeof option === 'object' && option !== null && signResponsesOf(option as Record<string, unknown>)) paths.push(method.path);
  }
  return paths;
}

function checkPath(path: string): string {
  if (!/^\/[^/]+\/[^/]+$/.test(path)) throw new ReqauthConfigError(`rule path "${path}" must be "/pkg.Service/Method" or "/pkg.Service/*"`);
  return path;
}

function compile(path: string, rule: AccessRule): CompiledRule {
  const roles = new Set(rule.roles ?? []);
  const principals = new Set(rule.principals ?? []);
  if (rule.public && (roles.size > 0 || principals.size > 0)) {
    throw new ReqauthConfigError(`${path}: a public method cannot also list roles or principals`);
  }
  if (rule.public && rule.signResponses) {
    throw new ReqauthConfigError(`${path}: a public method cannot sign its responses (a public call has no key to sign with)`);
  }
  return { public: rule.public === true, signResponses: rule.signResponses === true, roles, principals };
}
