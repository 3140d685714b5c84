// The token service: authenticates users from its table, mints their macaroons, discharges
// the "mfa-verified" third-party caveat it puts on them, and issues narrowed macaroons to a
// downstream service a user's presenter delegated to.
//
//   Login(user, password)     web only    -> alice's macaroon: user, roles, presenter web,
//                                            expires 15 min, third-party "mfa-verified alice"
//   Discharge(caveat_id, otp) web only    -> the discharge: expires 5 min
//   Delegate(grantee, method) web only, presenting alice's macaroon by possession
//                                         -> a one-time grant for alice, for the grantee
//   Redeem(grant)             frontend    -> alice's narrowed macaroon: user, roles,
//                                            presenter web, presenter frontend, method,
//                                            expires min(login's, 2 min)
//
// Why a grant, and not "the frontend presents alice's macaroon to Delegate": the frontend
// never holds alice's macaroon. It receives it by possession, signature withheld, and only
// `web`, the last presenter named, may present it. The token service mints only for the user
// the verified claims of the *presenter's* own call name; the grant it returns is useless to
// anyone but the grantee's principal, once, within a minute.
import * as grpc from '@grpc/grpc-js';
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { requireClaims } from '../../interceptors';
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  caveat,
  Claims,
  Macaroon,
  macaroonIdText,
  MacaroonKeyring,
  mintMacaroon,
  mintUserMacaroon,
  serializeMacaroon,
} from '../../src';
import type { TokenServiceHandlers } from '../generated/tokens/v1/TokenService';
import { METHODS, PRINCIPALS } from './definition';
import { USER_TABLE, UserRecord } from './users';

/** Where the token service is: the location of its macaroons and of its third-party caveats. */
export const TOKENS_LOCATION = 'tokens';

export interface TokenServiceOptions {
  /** Mints with its active key; the verifying services hold the same keyring's keys. */
  macaroonRing: MacaroonKeyring;
  /** The token service's own secret for its third-party caveats. Default: random. */
  mfaSecret?: Buffer;
  users?: Readonly<Record<string, UserRecord>>;
  /** Who may be delegated to, for which methods. Default: the frontend, for ledger Transfer. */
  delegations?: Readonly<Record<string, readonly string[]>>;
  loginLifetimeMs?: number;
  dischargeLifetimeMs?: number;
  delegationLifetimeMs?: number;
  grantLifetimeMs?: number;
  now?: () => number;
  /** Called as each handler starts, with the method name and the verified claims. */
  onCall?: (method: string, claims: Claims | undefined) => void;
}

export interface TokenServiceImpl {
  readonly handlers: TokenServiceHandlers;
  /**
   * A user macaroon as Login mints it, without the password check: for demonstrations that
   * need an unusual one (e.g. `lifetimeMs` < 0: already expired; `mfa: false`).
   */
  mintLoginMacaroon(user: string, presenter: string, options?: { lifetimeMs?: number; mfa?: boolean }): Macaroon;
}

interface Grant {
  readonly user: string;
  readonly roles: readonly string[];
  /** The presenters of the delegating macaroon, the grantee appended. */
  readonly presenters: readonly string[];
  readonly grantee: string;
  readonly method: string;
  readonly macaroonExpiresAtMs: number;
  readonly grantExpiresAtMs: number;
}

const MFA_CAVEAT = /^mfa-verified ([a-z][a-z0-9-]*) [A-Za-z0-9_-]{16}$/;

export function createTokenService(options: TokenServiceOptions): TokenServiceImpl {
  const ring = options.macaroonRing;
  const mfaSecret = options.mfaSecret ?? randomBytes(32);
  const users = options.users ?? USER_TABLE;
  const delegations = options.delegations ?? { [PRINCIPALS.frontend]: [METHODS.transfer] };
  const loginLifetimeMs = options.loginLifetimeMs ?? 15 * 60_000;
  const dischargeLifetimeMs = options.dischargeLifetimeMs ?? 5 * 60_000;
  const delegationLifetimeMs = options.delegationLifetimeMs ?? 2 * 60_000;
  const grantLifetimeMs = options.grantLifetimeMs ?? 60_000;
  const now = options.now ?? Date.now;
  /** Macaroon identifier (base64url, as claims carry it) -> its expiry: delegations never outlive it. */
  const issued = new Map<string, number>();
  const grants = new Map<string, Grant>();
  /** The last TOTP time step accepted per user: a code is good once. */
  const lastStep = new Map<string, number>();

  const seen = (method: string, call: { metadata: grpc.Metadata }): Claims => {
    const claims = requireClaims(call);
    options.onCall?.(method, claims);
    return claims;
  };
  const prune = () => {
    const t = now();
    for (const [id, exp] of issued) if (exp <= t) issued.delete(id);
    for (const [id, g] of grants) if (g.grantExpiresAtMs <= t) grants.delete(id);
  };
  /** The key of one mfa caveat: derived from its id, so the third party keeps no state. */
  const mfaCaveatKey = (caveatId: string) => createHmac('sha256', mfaSecret).update(caveatId, 'utf8').digest();

  const mint = (user: string, roles: readonly string[], presenters: readonly string[], expiresAtMs: number, more: readonly string[] = []): Macaroon => {
    let m = mintUserMacaroon(ring, TOKENS_LOCATION);
    for (const c of [caveat.user(user), caveat.roles(...roles), ...more, caveat.expires(expiresAtMs), ...presenters.map((p) => caveat.presenter(p))]) {
      m = addFirstPartyCaveat(m, c);
    }
    issued.set(macaroonIdText(m.identifier), expiresAtMs);
    return m;
  };

  const mintLoginMacaroon: TokenServiceImpl['mintLoginMacaroon'] = (user, presenter, opts = {}) => {
    const record = users[user];
    if (!record) throw new RangeError(`no user ${user}`);
    let m = mint(user, record.roles, [presenter], now() + (opts.lifetimeMs ?? loginLifetimeMs));
    if (opts.mfa !== false) {
      const caveatId = `mfa-verified ${user} ${randomBytes(12).toString('base64url')}`;
      m = addThirdPartyCaveat(m, { caveatKey: mfaCaveatKey(caveatId), caveatId, location: TOKENS_LOCATION });
    }
    return m;
  };

  const handlers: TokenServiceHandlers = {
    async Login(call, callback) {
      const claims = seen('Login', call);
      const { user, password } = call.request;
      const record = await checkPassword(users, user, password);
      if (!record) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'unknown user or wrong password' });
      prune();
      // The presenter is the authenticated principal that called Login: only it may present.
      const m = mintLoginMacaroon(user, claims.principal);
      callback(null, { macaroon: serializeMacaroon(m), expiresAtMs: String(issued.get(Buffer.from(m.identifier).toString('base64url'))) });
    },

    Discharge(call, callback) {
      seen('Discharge', call);
      const caveatId = Buffer.from(call.request.caveatId).toString('utf8');
      const match = MFA_CAVEAT.exec(caveatId);
      if (!match) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'not a caveat of this service' });
      const user = match[1]!;
      const record = users[user];
      if (!record || !checkTotp(record, call.request.otp, now(), lastStep, user)) {
        return callback({ code: grpc.status.UNAUTHENTICATED, details: 'wrong or used one-time code' });
      }
      // A forged caveat id derives another key, so its discharge discharges nothing.
      const expiresAtMs = now() + dischargeLifetimeMs;
      const discharge = addFirstPartyCaveat(mintMacaroon({ rootKey: mfaCaveatKey(caveatId), identifier: caveatId, location: TOKENS_LOCATION }), caveat.expires(expiresAtMs));
      callback(null, { discharge: serializeMacaroon(discharge), expiresAtMs: String(expiresAtMs) });
    },

    Delegate(call, callback) {
      const claims = seen('Delegate', call);
      // Only for the user a macaroon proved, presented by its last presenter (the verifier
      // checked that presenter against the envelope's principal).
      if (!claims.userVerified || claims.onBehalfOf === undefined || claims.macaroonId === undefined || claims.userRoles === undefined) {
        return callback({ code: grpc.status.PERMISSION_DENIED, details: "delegating needs the user's macaroon" });
      }
      const { grantee, method } = call.request;
      if (!(delegations[grantee] ?? []).includes(method)) return callback({ code: grpc.status.PERMISSION_DENIED, details: 'no such delegation' });
      prune();
      const loginExpiry = issued.get(claims.macaroonId);
      if (loginExpiry === undefined) return callback({ code: grpc.status.PERMISSION_DENIED, details: 'macaroon not issued here, or expired' });
      const t = now();
      const grant = randomBytes(24).toString('base64url');
      const grantExpiresAtMs = t + grantLifetimeMs;
      grants.set(grant, {
        user: claims.onBehalfOf,
        roles: claims.userRoles,
        presenters: [...claims.chain.slice(1), grantee],
        grantee,
        method,
        macaroonExpiresAtMs: Math.min(loginExpiry, t + delegationLifetimeMs),
        grantExpiresAtMs,
      });
      callback(null, { grant, expiresAtMs: String(grantExpiresAtMs) });
    },

    Redeem(call, callback) {
      const claims = seen('Redeem', call);
      prune();
      const grant = grants.get(call.request.grant);
      // The grantee redeems, for the user it names (the one its own caller's macaroon proved).
      if (!grant || grant.grantee !== claims.principal || grant.user !== claims.onBehalfOf) {
        return callback({ code: grpc.status.PERMISSION_DENIED, details: 'no such grant' });
      }
      grants.delete(call.request.grant); // once
      const m = mint(grant.user, grant.roles, grant.presenters, grant.macaroonExpiresAtMs, [caveat.method(grant.method)]);
      callback(null, { macaroon: serializeMacaroon(m), expiresAtMs: String(grant.macaroonExpiresAtMs) });
    },
  };

  return { handlers, mintLoginMacaroon };
}

// ------------------------------------------------------------------ passwords and codes

/** A hash no password matches: unknown users cost the same scrypt as known ones. */
const DUMMY_HASH = `scrypt$16384$8$1$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(32).toString('base64url')}`;

/** The user's record if the password matches its scrypt hash; compared in constant time. */
export async function checkPassword(users: Readonly<Record<string, UserRecord>>, user: string, password: string): Promise<UserRecord | undefined> {
  const record = Object.hasOwn(users, user) ? users[user] : undefined;
  const [scheme, n, r, p, salt, hash] = (record?.passwordHash ?? DUMMY_HASH).split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return undefined;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFC'), Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
  return timingSafeEqual(actual, expected) && record ? record : undefined;
}

/** RFC 6238 TOTP: HMAC-SHA1, 30-second steps, six digits. */
export function totp(secret: string | Uint8Array, timeMs: number, stepMs = 30_000): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / stepMs)));
  const mac = createHmac('sha1', typeof secret === 'string' ? Buffer.from(secret, 'base64url') : secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** The code of this step or the one before or after, and a step later than the last one used. */
function checkTotp(record: UserRecord, code: string, nowMs: number, lastStep: Map<string, number>, user: string): boolean {
  if (!/^[0-9]{6}$/.test(code)) return false;
  const step = Math.floor(nowMs / 30_000);
  const given = Buffer.from(code, 'ascii');
  for (const s of [step - 1, step, step + 1]) {
    const ok = timingSafeEqual(Buffer.from(totp(record.totpSecret, s * 30_000), 'ascii'), given);
    if (ok && s > (lastStep.get(user) ?? -1)) {
      lastStep.set(user, s);
      return true;
    }
  }
  return false;
}
