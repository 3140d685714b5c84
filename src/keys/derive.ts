// The key hierarchy (docs/spec.md §6.1): root secret -> audience key -> principal key.
// A service holds only its audience key, so it cannot mint requests to another service; a
// client holds only its principal key, so it cannot speak as another principal or claim a
// role its credential does not grant.
import { hkdfSha256, KEY_BYTES, LABELS, lengthPrefixed } from '../crypto';
import { canonicalRoles } from '../wire/envelope';

const NO_SALT = new Uint8Array(0);

/** audience key = HKDF-SHA256(root, salt = "", info = label || lp(kid) || lp(audience)) */
export function deriveAudienceKey(rootSecret: Uint8Array, keyId: string, audience: string): Buffer {
  const info = Buffer.concat([LABELS.audienceKey, lengthPrefixed(keyId), lengthPrefixed(audience)]);
  return hkdfSha256(rootSecret, NO_SALT, info, KEY_BYTES);
}

/**
 * principal key = HKDF-SHA256(audience key, salt = "",
 *                   info = label || lp(principal) || u8(#roles) || lp(role)...)
 * Roles are taken in canonical order (sorted, unique), so the same grant always derives the
 * same key.
 */
export function derivePrincipalKey(audienceKey: Uint8Array, principal: string, roles: readonly string[]): Buffer {
  const sorted = canonicalRoles(roles);
  if (sorted.length > 255) throw new RangeError('too many roles');
  const parts = [LABELS.principalKey, lengthPrefixed(principal), Buffer.of(sorted.length)];
  for (const role of sorted) parts.push(lengthPrefixed(role));
  return hkdfSha256(audienceKey, NO_SALT, Buffer.concat(parts), KEY_BYTES);
}
