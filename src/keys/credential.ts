// A client's credential: its principal key and the grant it was derived for (docs/spec.md
// §6.3). This is everything a client of one audience runs with; it holds no root secret.
import { activeKey, parseJsonObject, parseKey, RootKeyring } from './keyring';
import { canonicalRoles } from '../wire/envelope';
import { ReqauthConfigError } from '../errors';
import { deriveAudienceKey, derivePrincipalKey } from './derive';

export interface ClientCredential {
  readonly keyId: string;
  readonly audience: string;
  readonly principal: string;
  /** Canonical: sorted, unique. */
  readonly roles: readonly string[];
  readonly principalKey: Buffer;
}

export const CREDENTIAL_FORMAT = 'reqauth-credential/v1';

/** Issue a credential from the keyring's active key. */
export function issueCredential(ring: RootKeyring, audience: string, principal: string, roles: readonly string[] = []): ClientCredential {
  if (audience === '' || principal === '') throw new ReqauthConfigError('audience and principal must be non-empty');
  const key = activeKey(ring);
  const sorted = canonicalRoles(roles);
  const audienceKey = deriveAudienceKey(key.secret, key.keyId, audience);
  return { keyId: key.keyId, audience, principal, roles: sorted, principalKey: derivePrincipalKey(audienceKey, principal, sorted) };
}

export function credentialToJson(cred: ClientCredential): string {
  return (
    JSON.stringify(
      {
        format: CREDENTIAL_FORMAT,
        keyId: cred.keyId,
        audience: cred.audience,
        principal: cred.principal,
        roles: cred.roles,
        principalKey: cred.principalKey.toString('base64url'),
      },
      null,
      2,
    ) + '\n'
  );
}

export function parseCredential(text: string): ClientCredential {
  const doc = parseJsonObject(text, 'credential');
  if (doc['format'] !== CREDENTIAL_FORMAT) throw new ReqauthConfigError(`credential: "format" must be ${CREDENTIAL_FORMAT}`);
  const str = (name: string): string => {
    const v = doc[name];
    if (typeof v !== 'string' || v === '') throw new ReqauthConfigError(`credential: "${name}" must be a non-empty string`);
    return v;
  };
  const roles = doc['roles'] ?? [];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw new ReqauthConfigError('credential: "roles" must be an array of strings');
  return {
    keyId: str('keyId'),
    audience: str('audience'),
    principal: str('principal'),
    roles: canonicalRoles(roles as string[]),
    principalKey: parseKey(doc['principalKey'], 'credential.principalKey'),
  };
}
