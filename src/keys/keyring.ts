// Keyrings: root keys with key ids, their rotation states, and the deny list (docs/spec.md
// §6.2). A root keyring lives with whoever issues credentials; a service keyring holds one
// audience's derived keys and is all a service needs to verify requests.
import { KEY_BYTES, randomKey } from '../crypto';
import { ReqauthConfigError } from '../errors';
import { deriveAudienceKey } from './derive';

/** `active`: used to issue new credentials (and verifies). `verify`: still verifies. */
export type KeyStatus = 'active' | 'verify';

export interface DenyList {
  readonly keyIds: readonly string[];
  readonly principals: readonly string[];
}

export interface RootKey {
  readonly keyId: string;
  readonly secret: Buffer;
  readonly status: KeyStatus;
  readonly created: string;
}

export interface RootKeyring {
  readonly format: 'reqauth-root-keyring/v1';
  readonly keys: readonly RootKey[];
  readonly deny: DenyList;
}

export interface AudienceKey {
  readonly keyId: string;
  readonly audienceKey: Buffer;
  readonly status: KeyStatus;
}

export interface ServiceKeyring {
  readonly format: 'reqauth-service-keyring/v1';
  readonly audience: string;
  readonly keys: readonly AudienceKey[];
  readonly deny: DenyList;
}

export type Keyring = RootKeyring | ServiceKeyring;

const EMPTY_DENY: DenyList = { keyIds: [], principals: [] };
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

// ------------------------------------------------------------------ root keyrings

export function newKeyId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `k${stamp}-${randomKey().subarray(0, 3).toString('hex')}`;
}

/** A fresh root keyring with one active key. */
export function generateRootKeyring(now = new Date()): RootKeyring {
  return {
    format: 'reqauth-root-keyring/v1',
    keys: [{ keyId: newKeyId(now), secret: randomKey(), status: 'active', created: now.toISOString() }],
    deny: EMPTY_DENY,
  };
}

/** Rotation with overlap: a new key becomes active; the old ones keep verifying. */
export function rotateRootKeyring(ring: RootKeyring, now = new Date()): RootKeyring {
  const fresh: RootKey = { keyId: newKeyId(now), secret: randomKey(), status: 'active', created: now.toISOString() };
  return {
    ...ring,
    keys: [fresh, ...ring.keys.map((k) => ({ ...k, status: 'verify' as const }))],
  };
}

/** Retiring removes a key: requests under it then fail with `unknown_key`. */
export function retireKey(ring: RootKeyring, keyId: string): RootKeyring {
  const keys = ring.keys.filter((k) => k.keyId !== keyId);
  if (keys.length === ring.keys.length) throw new ReqauthConfigError(`no key ${keyId}`);
  if (!keys.some((k) => k.status === 'active')) throw new ReqauthConfigError('cannot retire the active key; rotate first');
  return { ...ring, keys };
}

export function withDenied<K extends Keyring>(ring: K, add: Partial<DenyList>): K {
  const merge = (a: readonly string[], b: readonly string[] = []) => [...new Set([...a, ...b])];
  return { ...ring, deny: { keyIds: merge(ring.deny.keyIds, add.keyIds), principals: merge(ring.deny.principals, add.principals) } };
}

export function activeKey(ring: RootKeyring): RootKey {
  const active = ring.keys.find((k) => k.status === 'active');
  if (!active) throw new ReqauthConfigError('keyring has no active key');
  return active;
}

/** The service keyring for one audience: derived keys only, the root stays behind. */
export function serviceKeyringFor(ring: RootKeyring, audience: string): ServiceKeyring {
  return {
    format: 'reqauth-service-keyring/v1',
    audience,
    keys: ring.keys.map((k) => ({ keyId: k.keyId, audienceKey: deriveAudienceKey(k.secret, k.keyId, audience), status: k.status })),
    deny: ring.deny,
  };
}

// ------------------------------------------------------------------ files (JSON)

export function keyringToJson(ring: Keyring): string {
  const b64 = (b: Buffer) => b.toString('base64url');
  const body =
    ring.format === 'reqauth-root-keyring/v1'
      ? { format: ring.format, keys: ring.keys.map((k) => ({ keyId: k.keyId, status: k.status, created: k.created, secret: b64(k.secret) })), deny: ring.deny }
      : { format: ring.format, audience: ring.audience, keys: ring.keys.map((k) => ({ keyId: k.keyId, status: k.status, audienceKey: b64(k.audienceKey) })), deny: ring.deny };
  return JSON.stringify(body, null, 2) + '\n';
}

/**
 * Parses a keyring file. Errors name the problem, never the file's content: V8's own JSON
 * errors quote the text, which would put a secret in a log.
 */
export function parseKeyring(text: string): Keyring {
  const doc = parseJsonObject(text, 'keyring');
  const deny = parseDeny(doc['deny']);
  const keys = doc['keys'];
  if (!Array.isArray(keys) || keys.length === 0) throw new ReqauthConfigError('keyring: "keys" must be a non-empty array');
  const seen = new Set<string>();
  const common = (k: unknown, i: number) => {
    if (typeof k !== 'object' || k === null) throw new ReqauthConfigError(`keyring: keys[${i}] is not an object`);
    const rec = k as Record<string, unknown>;
    const keyId = rec['keyId'];
    if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) throw new ReqauthConfigError(`keyring: keys[${i}].keyId must match ${KEY_ID}`);
    if (seen.has(keyId)) throw new ReqauthConfigError(`keyring: key id ${keyId} appears twice`);
    seen.add(keyId);
    const status = rec['status'];
    if (status !== 'active' && status !== 'verify') throw new ReqauthConfigError(`keyring: keys[${i}].status must be "active" or "verify"`);
    return { rec, keyId, status: status as KeyStatus };
  };
  if (doc['format'] === 'reqauth-root-keyring/v1') {
    const parsed: RootKey[] = keys.map((k, i) => {
      const { rec, keyId, status } = common(k, i);
      const created = typeof rec['created'] === 'string' ? rec['created'] : '';
      return { keyId, status, created, secret: parseKey(rec['secret'], `keys[${i}].secret`) };
    });
    if (parsed.filter((k) => k.status === 'active').length !== 1) throw new ReqauthConfigError('keyring: exactly one key must be "active"');
    return { format: 'reqauth-root-keyring/v1', keys: parsed, deny };
  }
  if (doc['format'] === 'reqauth-service-keyring/v1') {
    const audience = doc['audience'];
    if (typeof audience !== 'string' || audience === '') throw new ReqauthConfigError('keyring: "audience" must be a non-empty string');
    const parsed: AudienceKey[] = keys.map((k, i) => {
      const { rec, keyId, status } = common(k, i);
      return { keyId, status, audienceKey: parseKey(rec['audienceKey'], `keys[${i}].audienceKey`) };
    });
    return { format: 'reqauth-service-keyring/v1', audience, keys: parsed, deny };
  }
  throw new ReqauthConfigError('keyring: unknown "format" (want reqauth-root-keyring/v1 or reqauth-service-keyring/v1)');
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ReqauthConfigError(`${what}: not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ReqauthConfigError(`${what}: not a JSON object`);
  return doc as Record<string, unknown>;
}

export function parseKey(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) throw new ReqauthConfigError(`${where} must be base64url`);
  const key = Buffer.from(value, 'base64url');
  if (key.length !== KEY_BYTES) throw new ReqauthConfigError(`${where} must hold ${KEY_BYTES} bytes`);
  return key;
}

function parseDeny(value: unknown): DenyList {
  if (value === undefined) return EMPTY_DENY;
  if (typeof value !== 'object' || value === null) throw new ReqauthConfigError('keyring: "deny" must be an object');
  const rec = value as Record<string, unknown>;
  const list = (name: string): string[] => {
    const v = rec[name] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ReqauthConfigError(`keyring: deny.${name} must be an array of strings`);
    return v as string[];
  };
  return { keyIds: list('keyIds'), principals: list('principals') };
}
