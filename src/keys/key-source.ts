// What a verifier needs from a keyring: its audience keys by key id and the deny list,
// swapped atomically when the keyring file changes (docs/spec.md §6.2).
import { ReqauthConfigError } from '../errors';
import { Keyring, parseKeyring, serviceKeyringFor } from './keyring';
import { WatchedFile, WatchedFileOptions } from '../watched-file';

/** One loaded keyring, immutable; a reload makes a new one with a higher generation. */
export interface VerificationKeys {
  readonly audience: string;
  /** Changes on every reload, so caches of derived keys know to start over. */
  readonly generation: number;
  audienceKey(keyId: string): Buffer | undefined;
  isKeyDenied(keyId: string): boolean;
  isPrincipalDenied(principal: string): boolean;
}

export interface KeySource {
  current(): VerificationKeys;
}

let generations = 0;

/** Audience keys for `audience` from either kind of keyring; the root secret is not kept. */
export function verificationKeys(ring: Keyring, audience: string): VerificationKeys {
  const service = ring.format === 'reqauth-root-keyring/v1' ? serviceKeyringFor(ring, audience) : ring;
  if (service.audience !== audience) {
    throw new ReqauthConfigError(`keyring is for audience "${service.audience}", not "${audience}"`);
  }
  const keys = new Map(service.keys.map((k) => [k.keyId, k.audienceKey]));
  const deniedKeys = new Set(service.deny.keyIds);
  const deniedPrincipals = new Set(service.deny.principals);
  return {
    audience,
    generation: ++generations,
    audienceKey: (keyId) => keys.get(keyId),
    isKeyDenied: (keyId) => deniedKeys.has(keyId),
    isPrincipalDenied: (principal) => deniedPrincipals.has(principal),
  };
}

/** A fixed keyring (tests, or keys managed by the application). */
export function staticKeySource(ring: Keyring, audience: string): KeySource {
  const keys = verificationKeys(ring, audience);
  return { current: () => keys };
}

export interface KeyringFileOptions extends WatchedFileOptions<VerificationKeys> {
  audience: string;
}

/**
 * A keyring file, reloaded when it changes, without a restart. A corrupt or unreadable file
 * keeps the previous keys and reports the error; the constructor throws if the first load
 * fails, so a service never starts without keys.
 */
export class KeyringFile extends WatchedFile<VerificationKeys> implements KeySource {
  constructor(path: string, options: KeyringFileOptions) {
    super(path, (text) => verificationKeys(parseKeyring(text), options.audience), options);
  }
}
