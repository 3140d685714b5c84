// The usual way a server accepts macaroons (docs/spec.md §11): root keys from a macaroon
// keyring (static or watched), caveats checked by the typed vocabulary against the
// authenticated request.
import { MacaroonKeys } from './keyring';
import { authorizeCaveats, CaveatRegistry, defaultCaveats } from './caveats';
import { MacaroonAcceptance } from '../verifier';

export interface MacaroonAcceptanceOptions {
  /** The keyring's keys: fixed, or a WatchedFile that reloads them. */
  keys: MacaroonKeys | { current(): MacaroonKeys };
  /** Default: the built-in vocabulary (user, presenter, roles, audience, method, expires, …). */
  vocabulary?: CaveatRegistry;
  /**
   * Refuse a macaroon without a `user` caveat (default true). A missing caveat restricts
   * nothing, so a holder could add `user X` to a macaroon minted without one: the issuer
   * must always name the user, and the verifier insists on it.
   */
  requireUser?: boolean;
  /** Accept hand-offs (spec §11.4) to this service, named `self` in presenter caveats. */
  acceptHandoff?: boolean;
  self?: string;
}

export function macaroonAcceptance(options: MacaroonAcceptanceOptions): MacaroonAcceptance {
  const source = options.keys;
  const keys = 'current' in source ? () => source.current() : () => source;
  const vocabulary = options.vocabulary ?? defaultCaveats();
  const requireUser = options.requireUser !== false;
  return {
    rootKey: (identifier) => keys().rootKey(identifier),
    isRevoked: (identifier) => keys().isRevoked(identifier),
    acceptHandoff: options.acceptHandoff === true,
    ...(options.self === undefined ? {} : { self: options.self }),
    authorize(caveats, request) {
      const result = authorizeCaveats(caveats, request, vocabulary);
      if (!result.ok) return { ok: false, reason: result.reason };
      const { user, roles, chain } = result.claims;
      if (requireUser && user === undefined) return { ok: false, reason: 'caveat_missing' };
      return roles === undefined ? { ok: true, user, chain } : { ok: true, user, chain, roles };
    },
  };
}
