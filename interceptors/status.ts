// Refusal -> gRPC status (docs/spec.md §8). The client gets the class's generic message and,
// for clock refusals, the server's time; the reason code stays on the server.
import { Metadata, status as Status, StatusObject } from '@grpc/grpc-js';
import { CLIENT_MESSAGES, Refusal, refusalKind, RefusalKind, SERVER_TIME_KEY } from '../src';

const CODES: Readonly<Record<RefusalKind, Status>> = {
  unauthenticated: Status.UNAUTHENTICATED,
  permission_denied: Status.PERMISSION_DENIED,
  invalid_argument: Status.INVALID_ARGUMENT,
  unavailable: Status.UNAVAILABLE,
  cancelled: Status.CANCELLED,
  internal: Status.INTERNAL,
  // Only ever a client's own status: a response that did not verify (spec §13.4).
  data_loss: Status.DATA_LOSS,
};

export function statusFor(refusal: Refusal): StatusObject {
  const kind = refusalKind(refusal.reason);
  const metadata = new Metadata();
  if (refusal.serverTimeMs !== undefined) metadata.set(SERVER_TIME_KEY, String(refusal.serverTimeMs));
  return { code: CODES[kind], details: CLIENT_MESSAGES[kind], metadata };
}
