// A client's credential file, reloaded when it changes, without a restart (docs/spec.md
// §6.3): after a key rotation, or a change of roles, the issuer writes the client a new
// credential and the running client picks it up. Built on WatchedFile, like KeyringFile.
import { ClientCredential, parseCredential } from './credential';
import { ReqauthConfigError } from '../errors';
import { WatchedFile, WatchedFileOptions } from '../watched-file';

/** Options of {@link CredentialFile}: how often to poll, and what to tell on a reload. */
export type CredentialFileOptions = WatchedFileOptions<ClientCredential>;

/**
 * A credential file (`reqauth derive --principal P --audience A --out F`), reloaded when it
 * changes. `current()` is the credential to sign with now.
 *
 * A reload may bring a new key id (a rotation) or other roles, but never another principal
 * or audience: a file that names either is refused like a corrupt one, so the client keeps
 * its previous credential and `onError` is told. Changing who a client is, or which service
 * it talks to, is a redeployment, not a file edit. The constructor throws if the first load
 * fails, so a client never starts without a credential.
 *
 * ```ts
 * const credential = new CredentialFile('frontend.json', { onError: (e) => log.warn(e.message) });
 * credential.current(); // the ClientCredential in force
 * ```
 */
export class CredentialFile extends WatchedFile<ClientCredential> {
  constructor(path: string, options: CredentialFileOptions = {}) {
    let pinned: ClientCredential | undefined;
    super(
      path,
      (text) => {
        const credential = parseCredential(text);
        if (pinned && (credential.principal !== pinned.principal || credential.audience !== pinned.audience)) {
          throw new ReqauthConfigError(
            `credential: the new file is for principal "${credential.principal}", audience "${credential.audience}"; ` +
              `this client is "${pinned.principal}" for "${pinned.audience}" (keeping the previous credential)`,
          );
        }
        pinned ??= credential;
        return credential;
      },
      options,
    );
  }
}
