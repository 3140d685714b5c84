// The typed accessor handlers read verified claims through. Claims are attached, by the
// server interceptor only, to the Metadata object the handler's call carries; a client
// cannot forge an entry in a WeakMap.
import { Metadata, status as Status } from '@grpc/grpc-js';
import { Claims, MacaroonPresentation } from '../src';

const verified = new WeakMap<Metadata, Claims>();
const delegated = new WeakMap<Metadata, MacaroonPresentation>();
/** Metadata of public calls the server interceptor let through (they carry no claims). */
const passed = new WeakSet<Metadata>();

/** @internal The server interceptor let this public call through. */
export function markPassed(metadata: Metadata): void {
  passed.add(metadata);
}

/** @internal Whether the server interceptor let this public call through. */
export function passedPublic(call: { readonly metadata: Metadata }): boolean {
  return passed.has(call.metadata);
}

/** @internal Called by the server interceptor once a call has passed verification. */
export function attachClaims(metadata: Metadata, claims: Claims, handedOver?: MacaroonPresentation): void {
  verified.set(metadata, claims);
  if (handedOver) delegated.set(metadata, handedOver);
}

/**
 * The macaroon handed to this service by a hand-off (spec §11.4), with the signature it recomputed:
 * this service may attenuate it and present it downstream by possession. Undefined for any
 * other call. Kept apart from the claims so it never reaches an audit record or a log.
 */
export function getDelegatedMacaroon(call: { readonly metadata: Metadata }): MacaroonPresentation | undefined {
  return delegated.get(call.metadata);
}

/**
 * The verified claims of a call, or `undefined` for a public method (or a call that did not
 * pass through reqauth's interceptor).
 *
 *     const claims = getClaims(call);
 */
export function getClaims(call: { readonly metadata: Metadata }): Claims | undefined {
  return verified.get(call.metadata);
}

/**
 * The verified claims of a call; throws a gRPC UNAUTHENTICATED error (which grpc-js sends as
 * the call's status) if there are none — fail closed when reqauth is misconfigured.
 */
export function requireClaims(call: { readonly metadata: Metadata }): Claims {
  const claims = verified.get(call.metadata);
  if (!claims) throw Object.assign(new Error('request authentication failed'), { code: Status.UNAUTHENTICATED });
  return claims;
}
