// The names audit facts are recorded under, in OpenTelemetry spans and in the audit store:
// one place, so the exporter, the store and Jaeger searches agree (docs/spec.md §12).
// Current semantic conventions where they exist (`user.id`, `user.roles`, `rpc.*`; the
// `enduser.*` names are deprecated), a `reqauth.*` namespace for the rest. Jaeger matches
// tag values as exact strings, so list-valued facts are also given as one joined string.
import { AuditEvent } from './event';

export const ATTR = {
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  userId: 'user.id',
  userRoles: 'user.roles',
  principal: 'reqauth.principal',
  /** The principal's roles, as an array. */
  roles: 'reqauth.roles',
  /** The same roles as one comma-joined string, for exact-match tag search. */
  role: 'reqauth.role',
  user: 'reqauth.user',
  userVerified: 'reqauth.user_verified',
  audience: 'reqauth.audience',
  keyId: 'reqauth.key_id',
  credentialKind: 'reqauth.credential_kind',
  macaroonId: 'reqauth.macaroon_id',
  /** The delegation chain, `alice>frontend>backend`. */
  chain: 'reqauth.chain',
  decision: 'reqauth.decision',
  reason: 'reqauth.reason',
  method: 'reqauth.method',
  /**
   * The response (spec §13): `signed` on the server's spans; on the client's span `verified`,
   * `refused` (the client failed the call) or `unverified` (an unsigned status the client
   * passed on because it asserts no outcome: cancelled, deadline exceeded, unavailable).
   */
  response: 'reqauth.response',
  /** Why a client refused a response, or left it unverified: a stable code (§8). */
  responseReason: 'reqauth.response_reason',
} as const;

export type AuditAttributeValue = string | number | boolean | string[];

/**
 * The attributes of one decision. Never a secret, MAC, nonce-derived key or macaroon
 * signature: only the facts below, all of which are claims or stable codes.
 */
export function auditAttributes(event: AuditEvent): Record<string, AuditAttributeValue> {
  const slash = event.method.lastIndexOf('/');
  const attrs: Record<string, AuditAttributeValue> = {
    [ATTR.rpcSystem]: 'grpc',
    [ATTR.rpcService]: event.method.slice(1, slash),
    [ATTR.rpcMethod]: event.method.slice(slash + 1),
    [ATTR.method]: event.method,
    [ATTR.decision]: event.decision,
  };
  if (event.reason) attrs[ATTR.reason] = event.reason;
  if (event.signedResponse) attrs[ATTR.response] = 'signed';
  const c = event.claims;
  if (!c) return attrs;
  attrs[ATTR.principal] = c.principal;
  attrs[ATTR.roles] = [...c.roles];
  attrs[ATTR.role] = c.roles.join(',');
  attrs[ATTR.audience] = c.audience;
  attrs[ATTR.keyId] = c.keyId;
  attrs[ATTR.credentialKind] = c.macaroonId ? 'macaroon' : 'none';
  if (c.onBehalfOf !== undefined) {
    attrs[ATTR.userId] = c.onBehalfOf;
    attrs[ATTR.user] = c.onBehalfOf;
    attrs[ATTR.userVerified] = c.userVerified;
  }
  if (c.userRoles) attrs[ATTR.userRoles] = [...c.userRoles];
  if (c.macaroonId) attrs[ATTR.macaroonId] = c.macaroonId;
  if (c.chain.length > 0) attrs[ATTR.chain] = c.chain.join('>');
  return attrs;
}
