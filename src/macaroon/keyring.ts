// Macaroon root keys and revocation (docs/spec.md §11.2: the verifier looks up the root key
// by the macaroon's identifier; §11.3: a revoked identifier is refused first). The identifier
// carries the id of the root key it was minted under, so keys rotate with overlap exactly as
// request keys do (the active key mints, `verify` keys still verify); revocation is by
// identifier.
import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from '../crypto';
import { ReqauthConfigError } from '../errors';
import { KeyStatus, newKeyId, parseJsonObject, parseKey } from '../keys/keyring';
import { macaroonIdFromText, macaroonIdText } from './identifier';
import { Macaroon, mintMacaroon } from './index';

export interface MacaroonRootKey {
  readonly keyId: string;
  readonly rootKey: Buffer;
  readonly status: KeyStatus;
}

export interface MacaroonKeyring {
  readonly format: 'reqauth-macaroon-keyring/v1';
  readonly keys: readonly MacaroonRootKey[];
  /** Revoked macaroon identifiers, each in its one text form (macaroonIdText, spec §11.3). */
  readonly revoked: readonly string[];
}

const FORMAT = 'reqauth-macaroon-keyring/v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function generateMacaroonKeyring(now = new Date()): MacaroonKeyring {
  return { format: FORMAT, keys: [{ keyId: newKeyId(now), rootKey: randomBytes(KEY_BYTES), status: 'active' }], revoked: [] };
}

/** Rotation with overlap: a new active key mints; the old ones keep verifying until removed. */
export function rotateMacaroonKeyring(ring: MacaroonKeyring, now = new Date()): MacaroonKeyring {
  return {
    ...ring,
    keys: [{ keyId: newKeyId(now), rootKey: randomBytes(KEY_BYTES), status: 'active' }, ...ring.keys.map((k) => ({ ...k, status: 'verify' as const }))],
  };
}

export function revokeMacaroons(ring: MacaroonKeyring, identifiers: readonly string[]): MacaroonKeyring {
  return { ...ring, revoked: [...new Set([...ring.revoked, ...identifiers])] };
}

/**
 * A fresh macaroon under the active key. Its identifier is `KEYID.RANDOM` (UTF-8): the key id,
 * a dot, then 16 random bytes in base64url, so every macaroon can be revoked on its own.
 */
export function mintUserMacaroon(ring: MacaroonKeyring, location?: string): Macaroon {
  const active = ring.keys.find((k) => k.status === 'active');
  if (!active) throw new ReqauthConfigError('macaroon keyring has no active key');
  const identifier = `${active.keyId}.${randomBytes(16).toString('base64url')}`;
  return mintMacaroon(location === undefined ? { rootKey: active.rootKey, identifier } : { rootKey: active.rootKey, identifier, location });
}

/** What a verifier needs from a macaroon keyring: the root key an identifier names, and revocation. */
export interface MacaroonKeys {
  rootKey(identifier: Uint8Array): Uint8Array | undefined;
  isRevoked(identifier: Uint8Array): boolean;
}

export function macaroonKeys(ring: MacaroonKeyring): MacaroonKeys {
  const keys = new Map(ring.keys.map((k) => [k.keyId, k.rootKey]));
  const revoked = new Set(ring.revoked);
  return {
    rootKey(identifier) {
      const text = Buffer.from(identifier).toString('latin1');
      const dot = text.indexOf('.');
      return dot > 0 ? keys.get(text.slice(0, dot)) : undefined;
    },
    isRevoked: (identifier) => revoked.has(macaroonIdText(identifier)),
  };
}

// ------------------------------------------------------------------ file (JSON)

export function macaroonKeyringToJson(ring: MacaroonKeyring): string {
  const keys = ring.keys.map((k) => ({ keyId: k.keyId, status: k.status, rootKey: k.rootKey.toString('base64url') }));
  return JSON.stringify({ format: FORMAT, keys, revoked: ring.revoked }, null, 2) + '\n';
}

/** Strict; errors name the problem, never the file's content (it holds root keys). */
export function parseMacaroonKeyring(text: string): MacaroonKeyring {
  const doc = parseJsonObject(text, 'macaroon keyring');
  if (doc['format'] !== FORMAT) throw new ReqauthConfigError(`macaroon keyring: "format" must be ${FORMAT}`);
  const keys = doc['keys'];
  if (!Array.isArray(keys) || keys.length === 0) throw new ReqauthConfigError('macaroon keyring: "keys" must be a non-empty array');
  const seen = new Set<string>();
  const parsed = keys.map((k: unknown, i): MacaroonRootKey => {
    if (typeof k !== 'object' || k === null) throw new ReqauthConfigError(`macaroon keyring: keys[${i}] is not an object`);
    const rec = k as Record<string, unknown>;
    const keyId = rec['keyId'];
    if (typeof keyId !== 'string' || !KEY_ID.test(keyId) || seen.has(keyId)) {
      throw new ReqauthConfigError(`macaroon keyring: keys[${i}].keyId must be unique and match ${KEY_ID} (no dots: identifiers are KEYID.RANDOM)`);
    }
    seen.add(keyId);
    const status = rec['status'];
    if (status !== 'active' && status !== 'verify') throw new ReqauthConfigError(`macaroon keyring: keys[${i}].status must be "active" or "verify"`);
    return { keyId, status, rootKey: parseKey(rec['rootKey'], `macaroon keyring: keys[${i}].rootKey`) };
  });
  if (parsed.filter((k) => k.status === 'active').length !== 1) throw new ReqauthConfigError('macaroon keyring: exactly one key must be "active"');
  const revoked = doc['revoked'] ?? [];
  if (!Array.isArray(revoked) || !revoked.every((r) => typeof r === 'string' && macaroonIdFromText(r) !== undefined)) {
    throw new ReqauthConfigError('macaroon keyring: "revoked" must be an array of macaroon identifiers (their text, or "base64url:" and their bytes)');
  }
  return { format: FORMAT, keys: parsed, revoked: revoked as string[] };
}
