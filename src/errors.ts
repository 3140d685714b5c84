// Every refusal reqauth can make, as a stable code. The gRPC status a client sees and the
// reason an audit records both derive from the code (docs/spec.md §8); the client-facing
// message never carries the reason.

/** Which class of refusal a reason belongs to; bindings map it to a transport status. */
export type RefusalKind = 'unauthenticated' | 'permission_denied' | 'invalid_argument' | 'unavailable' | 'cancelled' | 'internal' | 'data_loss';

/** Every reason code, with the kind of refusal it is (which decides the client's status). */
export const REASONS = {
  // Request metadata (spec §4).
  missing_envelope: 'unauthenticated',
  duplicate_metadata: 'unauthenticated',
  oversized_envelope: 'unauthenticated',
  malformed_envelope: 'unauthenticated',
  unsupported_version: 'unauthenticated',
  // Keys and MAC (spec §6).
  wrong_audience: 'unauthenticated',
  wrong_method: 'unauthenticated',
  unknown_key: 'unauthenticated',
  revoked_key: 'unauthenticated',
  revoked_principal: 'unauthenticated',
  bad_mac: 'unauthenticated',
  // Time and replay (spec §6.4).
  expired: 'unauthenticated',
  issued_in_future: 'unauthenticated',
  replayed_nonce: 'unauthenticated',
  nonce_forgotten: 'unauthenticated',
  // The replay store could not answer (down, slow): refused, and the client may retry.
  replay_cache_unavailable: 'unavailable',
  // Message binding (spec §5).
  bad_digest: 'unauthenticated',
  missing_message: 'unauthenticated',
  unexpected_digest: 'unauthenticated',
  missing_stream_tag: 'unauthenticated',
  bad_stream_tag: 'unauthenticated',
  stream_truncated: 'unauthenticated',
  message_after_end: 'unauthenticated',
  unwrapped_service: 'unauthenticated',
  // Credentials: macaroons in the envelope (spec §11).
  credential_not_accepted: 'unauthenticated',
  malformed_credential: 'unauthenticated',
  unknown_macaroon_key: 'unauthenticated',
  revoked_macaroon: 'unauthenticated',
  handoff_not_accepted: 'unauthenticated',
  macaroon_bad_proof: 'unauthenticated',
  macaroon_signature_sent: 'unauthenticated',
  user_mismatch: 'unauthenticated',
  macaroon_malformed: 'unauthenticated',
  macaroon_oversized: 'unauthenticated',
  macaroon_bad_signature: 'unauthenticated',
  macaroon_bad_caveat_key: 'unauthenticated',
  macaroon_discharge_missing: 'unauthenticated',
  macaroon_discharge_ambiguous: 'unauthenticated',
  macaroon_discharge_reused: 'unauthenticated',
  macaroon_discharge_cycle: 'unauthenticated',
  macaroon_discharge_unused: 'unauthenticated',
  // The macaroon is genuine but does not allow this request (its caveats, spec §11.3).
  macaroon_caveat_refused: 'permission_denied',
  caveat_unknown: 'permission_denied',
  caveat_malformed: 'permission_denied',
  caveat_failed: 'permission_denied',
  caveat_missing: 'permission_denied',
  // A hand-off from someone other than the presenter named before this service.
  delegation_mismatch: 'permission_denied',
  // Policy (spec §7).
  no_rule: 'permission_denied',
  missing_role: 'permission_denied',
  principal_not_allowed: 'permission_denied',
  // The request message itself, after authentication.
  malformed_message: 'invalid_argument',
  // The call ended before it completed: the client cancelled it, its deadline passed or its
  // connection closed. Audited as such, never as a truncated stream (spec §5.2).
  cancelled: 'cancelled',
  // A fault on the server's side (a key source, policy or audit hook threw): fail closed.
  internal_error: 'internal',
  // A handler added with addService ran for a call the interceptor did not pass: the server
  // was set up without it. Every such call is refused (spec §8).
  interceptor_missing: 'internal',
  // The server's configuration is broken (a policy rule names a service never added).
  misconfigured: 'internal',
  // Responses (spec §13), refused by a client that requires signed responses: it fails the
  // call locally with DATA_LOSS, never handing the application what did not verify. A
  // server never sends these.
  missing_response_tag: 'data_loss',
  bad_response_tag: 'data_loss',
  missing_response_end: 'data_loss',
  malformed_response_end: 'data_loss',
  bad_response_end: 'data_loss',
  response_truncated: 'data_loss',
  // A response message that verified but does not decode: as grpc-js fails such a call.
  malformed_response: 'internal',
} as const satisfies Record<string, RefusalKind>;

/** A stable reason code: safe to log, index and alert on; never shown to the client. */
export type ReasonCode = keyof typeof REASONS;

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

export function refusalKind(reason: ReasonCode): RefusalKind {
  return REASONS[reason];
}

/** The message a client sees for each kind: deliberately generic (spec §8). */
export const CLIENT_MESSAGES: Readonly<Record<RefusalKind, string>> = {
  unauthenticated: 'request authentication failed',
  permission_denied: 'permission denied',
  invalid_argument: 'invalid request',
  unavailable: 'service unavailable',
  cancelled: 'call cancelled',
  internal: 'internal error',
  data_loss: 'response authentication failed',
};

/** A refusal as a value: the reason and, for clock errors, the server's time. */
export interface Refusal {
  readonly ok: false;
  readonly reason: ReasonCode;
  /** Set for `expired` and `issued_in_future`, so the client can correct its clock offset. */
  readonly serverTimeMs?: number;
  /**
   * Set when the request was refused after its MAC verified: the envelope's authenticated
   * facts, for the audit (who was refused). Never sent to the client.
   */
  readonly claims?: import('./verifier').Claims;
}

export function refuse(reason: ReasonCode, serverTimeMs?: number): Refusal {
  return serverTimeMs === undefined ? { ok: false, reason } : { ok: false, reason, serverTimeMs };
}

/** Thrown only for programming and configuration errors (bad options, bad key files). */
export class ReqauthConfigError extends Error {
  override readonly name = 'ReqauthConfigError';
}
