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
}

export type AuditHook = (event: AuditEvent) => void;
