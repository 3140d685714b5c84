// The audit hook (docs/spec.md §8): every decision, with its precise reason, goes here —
// never to the client. OpenTelemetry export builds on this event.
import { ReasonCode } from '../errors';
import { Claims } from '../verifier';

export type Decision = 'allow' | 'deny';

export interface AuditEvent {
  readonly decision: Decision;
  /** Present on `deny`; a stable code from errors.ts. */
  readonly reason: ReasonCode | undefined;
  /** The method path the call arrived on. */
  readonly method: string;
  /** Present once the header verified (so also on policy and message refusals). */
  readonly claims: Claims | undefined;
  /** The method was public: no authentication was asked for. */
  readonly public: boolean;
  readonly timeMs: number;
  /** The transport's peer address, when the binding knows it. */
  readonly peer: string | undefined;
  /**
   * The server signs this call's response (spec §13): the method signs its responses and the
   * request's nonce was accepted, so on every allow of such a method and on the refusals that
   * follow the replay check. Absent otherwise.
   */
  readonly signedResponse?: boolean;
}

export type AuditHook = (event: AuditEvent) => void;

/**
 * A client's verdict on a response it required to be signed (spec §13.4): `verified`,
 * `refused` (the client failed the call with its own status) or `unverified` (an unsigned
 * status passed on because it asserts no outcome). The reason is a stable code (§8).
 */
export interface ResponseAuditEvent {
  /** The method path of the call. */
  readonly method: string;
  readonly verdict: 'verified' | 'refused' | 'unverified';
  /** Present unless verified. */
  readonly reason: ReasonCode | undefined;
  /** The status code the server sent (for `refused`, not what the application received). */
  readonly receivedCode: number | undefined;
}

export type ResponseAuditHook = (event: ResponseAuditEvent) => void;
