// Who may call which method (docs/spec.md §7): per-method rules from code or from the
// `(reqauth.v1.access)` method option. Default deny: a method without a rule is refused to
// every caller unless it is declared public. A rule must name a method (or a service) that
// exists: a misspelled method would hand the real one to its service's rule, or to none.
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

/** The method option's name as @grpc/proto-loader reports it in a method's `options`. */
export const ACCESS_OPTION = '(reqauth.v1.access)';

/** A method of a grpc-js service definition, in any codegen style: all a policy check needs. */
export interface MethodPath {
  /** The full path, `/package.Service/Method`. */
  readonly path: string;
}

/**
 * A grpc-js service definition as far as a policy check needs it: the methods by name, as
 * proto-loader, grpc-tools and ts-proto all make them.
 */
export type ServiceMethods = Readonly<Record<string, MethodPath>>;

/** Options of {@link Policy.checkAgainst}. */
export interface PolicyCheckOptions {
  /**
   * Accept public rules for services not among the definitions (services added to the
   * server without reqauth, such as `grpc.health.v1.Health`). Default false.
   */
  readonly allowPublicElsewhere?: boolean;
}

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

  /** The rule paths, sorted. */
  get paths(): string[] {
    return [...this.rules.keys()].sort();
  }

  /**
   * Checks the rules against the service definitions they guard: every rule must name a
   * method of one of them, or (`/pkg.Service/*`) one of their services. Throws a
   * {@link ReqauthConfigError} naming every rule that does not, with the closest real name.
   *
   * ```ts
   * policy.checkAgainst([LedgerService.service, AdminService.service]);
   * ```
   */
  checkAgainst(definitions: ServiceMethods | Iterable<ServiceMethods>, options: PolicyCheckOptions = {}): void {
    const known = knownMethods(definitions);
    const problems: string[] = [];
    for (const path of this.paths) {
      const rule = this.rules.get(path)!;
      if (options.allowPublicElsewhere && rule.public && !known.services.has(serviceOf(path))) continue;
      const problem = mismatch(path, known);
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) throw new ReqauthConfigError(`policy rules that name no method:\n  ${problems.join('\n  ')}`);
  }

  /**
   * Checks the rules for the service(s) of one definition: each must name one of its
   * methods. Rules for other services are left alone (they may guard services added later);
   * {@link Policy.checkAgainst} checks those once all services are known.
   */
  checkService(definition: ServiceMethods): void {
    const known = knownMethods(definition);
    const problems: string[] = [];
    for (const path of this.paths) {
      if (!known.services.has(serviceOf(path))) continue;
      const problem = mismatch(path, known);
      if (problem) problems.push(problem);
    }
    if (problems.length > 0) throw new ReqauthConfigError(`policy rules that name no method:\n  ${problems.join('\n  ')}`);
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
  /** The method's options; proto-loader sets it on every method, other generators on none. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/**
 * Rules from the `(reqauth.v1.access)` option of each method of a service definition loaded
 * with @grpc/proto-loader. Methods without the option get no rule, hence are denied.
 *
 * Only proto-loader keeps method options in the definition. A definition without any (from
 * grpc-tools, ts-proto or another protoc or buf plugin) throws rather than deny every
 * call: read those rules with {@link policyFromDescriptorSet}. A service none of whose
 * methods declares the option throws too.
 */
export function policyFromServiceDefinition(definition: Readonly<Record<string, MethodWithOptions>>): Policy {
  const methods = Object.values(definition);
  const first = methods[0];
  if (!first) throw new ReqauthConfigError('policyFromServiceDefinition: the service definition has no methods');
  const service = serviceOf(first.path);
  if (!methods.some((m) => m.options !== undefined)) {
    throw new ReqauthConfigError(
      `${service}: this service definition carries no method options, so its (reqauth.v1.access) declarations ` +
        `cannot be read from it (code generated by grpc-tools, ts-proto and other protoc or buf plugins drops them). ` +
        `Read them from a descriptor set: policyFromDescriptorSet(readFileSync('service.binpb'), '${service}') ` +
        `after \`buf build -o service.binpb\` or \`protoc --include_imports --descriptor_set_out=service.binpb ...\`; ` +
        `or write the rules in code with new Policy({...})`,
    );
  }
  const rules: Record<string, AccessRule> = {};
  for (const method of methods) {
    const option = method.options?.[ACCESS_OPTION];
    if (option === undefined) continue;
    rules[method.path] = accessFromOption(method.path, option);
  }
  return new Policy(checkDeclared(service, rules));
}

/**
 * A service that declares no access at all would refuse every call: that is a forgotten
 * import or option, not a policy.
 */
function checkDeclared(service: string, rules: Record<string, AccessRule>): Record<string, AccessRule> {
  if (Object.keys(rules).length === 0) {
    throw new ReqauthConfigError(
      `${service}: no method declares (reqauth.v1.access), so every call would be refused; ` +
        `declare access on its methods (public, roles or principals) or write the rules in code with new Policy({...})`,
    );
  }
  return rules;
}

/** `(reqauth.v1.access)` as decoded (by proto-loader, or from a descriptor set) into a rule. */
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

/** `/pkg.Service/Method` -> `pkg.Service`. */
function serviceOf(path: string): string {
  return path.slice(1, path.lastIndexOf('/'));
}

interface KnownMethods {
  readonly methods: ReadonlySet<string>;
  readonly services: ReadonlySet<string>;
}

function knownMethods(definitions: ServiceMethods | Iterable<ServiceMethods>): KnownMethods {
  const list: Iterable<ServiceMethods> = Symbol.iterator in definitions ? (definitions as Iterable<ServiceMethods>) : [definitions as ServiceMethods];
  const methods = new Set<string>();
  const services = new Set<string>();
  for (const definition of list) {
    for (const method of Object.values(definition)) {
      methods.add(method.path);
      services.add(serviceOf(method.path));
    }
  }
  return { methods, services };
}

/** Why `path` names nothing in `known`, with the closest real name; undefined if it is fine. */
function mismatch(path: string, known: KnownMethods): string | undefined {
  const service = serviceOf(path);
  const method = path.slice(path.lastIndexOf('/') + 1);
  if (!known.services.has(service)) {
    const near = closest(service, known.services);
    return `${path}: no service ${service} here${near ? ` (did you mean ${near}?)` : ''}`;
  }
  if (method === '*' || known.methods.has(path)) return undefined;
  const siblings = [...known.methods].filter((m) => serviceOf(m) === service);
  const near = closest(path, siblings);
  return `${path}: ${service} has no method ${method}${near ? ` (did you mean ${near}?)` : ''}`;
}

/** The candidate within a small edit distance of `name`, if any (for "did you mean"). */
function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}
