// The server half of the data path (docs/spec.md §6): received metadata values -> verified
// claims or a refusal; then each message's bytes against the verified header.
import { LABELS, MAC_BYTES, MacKey, sha256Equals } from './crypto';
import { decodeEnvelope, DEFAULT_ENVELOPE_LIMITS, Envelope, EnvelopeLimits } from './wire/envelope';
import { ReasonCode, refuse, Refusal } from './errors';
import { decodeMacaroonCredential, MacaroonPresentation, macaroonSignature, possessionKey } from './macaroon/credential';
import { verifyMacaroon, VerifiedCaveat } from './macaroon/index';
import { KeySource } from './keys/key-source';
import { derivePrincipalKey } from './keys/derive';
import { MemoryReplayCache, ReplayCache, ReplayVerdict } from './replay/memory';
import { StreamVerifier } from './wire/stream-tag';

/** What a handler may rely on once a request is verified. */
export interface Claims {
  readonly keyId: string;
  readonly principal: string;
  readonly roles: readonly string[];
  /**
   * The user the call is made for; `undefined` when none. Proven when `userVerified` (a
   * macaroon named the user), otherwise only asserted by the principal.
   */
  readonly onBehalfOf: string | undefined;
  readonly userVerified: boolean;
  /** The user's roles as a macaroon's `roles` caveats state them; undefined without. */
  readonly userRoles: readonly string[] | undefined;
  /** The delegation chain a macaroon proved: the user, then each presenter in order (§11.3). */
  readonly chain: readonly string[];
  /** The presented macaroon's identifier (base64url), for audit and revocation; or undefined. */
  readonly macaroonId: string | undefined;
  readonly audience: string;
  readonly method: string;
  readonly issuedAtMs: number;
}

/** What a macaroon's caveats are checked against: the authenticated request (§11.3). */
export interface MacaroonRequest {
  readonly principal: string;
  readonly audience: string;
  readonly method: string;
  readonly keyId: string;
  readonly nowMs: number;
}

export type MacaroonAuthorization =
  | { readonly ok: true; readonly user?: string | undefined; readonly chain?: readonly string[]; readonly roles?: readonly string[] }
  | { readonly ok: false; readonly reason: ReasonCode };

/** How a server accepts macaroons in the envelope's credential field (§11). */
export interface MacaroonAcceptance {
  /** The root key for a macaroon identifier (which names its key id), or undefined. */
  rootKey(identifier: Uint8Array): Uint8Array | undefined;
  /** Revoked macaroon identifiers. */
  isRevoked?(identifier: Uint8Array): boolean;
  /** Checks the verified first-party caveats against the request (the caveat vocabulary). */
  authorize(caveats: readonly VerifiedCaveat[], request: MacaroonRequest): MacaroonAuthorization;
  /**
   * Accept PRESENTATION_BEARER: a macaroon handed to this service by the presenter named
   * before it (§11.4). Off by default; needs `self`.
   */
  acceptBearer?: boolean;
  /** This service's own principal name, as presenter caveats name it (for bearer hand-offs). */
  self?: string;
}

/** A header that passed every check; the key to check its messages with stays inside. */
export class VerifiedHeader {
  /** @internal */
  constructor(
    readonly claims: Claims,
    private readonly bodyDigest: Uint8Array,
    private readonly principalKey: MacKey,
    private readonly mac: Uint8Array,
    /**
     * A macaroon handed to this service by bearer presentation (§11.4), signature included:
     * this service may now attenuate and present it. Never part of the claims or the audit.
     */
    readonly delegated?: MacaroonPresentation,
  ) {}

  /** For a single-message call: do these bytes match the signed digest? */
  checkBody(body: Uint8Array): Refusal | undefined {
    return sha256Equals(body, this.bodyDigest) ? undefined : refuse('bad_digest');
  }

  /** For a request stream: the verifier of its tagged messages. */
  streamVerifier(): StreamVerifier {
    return new StreamVerifier(this.principalKey, this.mac);
  }
}

export type HeaderVerdict = { readonly ok: true; readonly header: VerifiedHeader } | Refusal;

/** The values of `reqauth-envelope-bin`, as many as were received (spec §4). */
export type ReceivedHeader = readonly (string | Uint8Array)[];

export interface RequestVerifierOptions {
  keys: KeySource;
  /** Default: a MemoryReplayCache with its default bound. */
  replayCache?: ReplayCache;
  /** How old an issued-at may be. Default 120 s. */
  maxAgeMs?: number;
  /** How far in the future an issued-at may be (client clocks run fast). Default 30 s. */
  maxFutureMs?: number;
  limits?: Partial<EnvelopeLimits>;
  /** Accept macaroons in the envelope's credential field; without it a credential is refused. */
  macaroons?: MacaroonAcceptance;
  /** Derived principal keys kept, to skip HKDF on repeat callers. Default 10,000. */
  principalKeyCacheSize?: number;
  now?: () => number;
}

export class RequestVerifier {
  private readonly keys: KeySource;
  private readonly macaroons: MacaroonAcceptance | undefined;
  private readonly replay: ReplayCache;
  private readonly maxAgeMs: number;
  private readonly maxFutureMs: number;
  private readonly limits: EnvelopeLimits;
  private readonly now: () => number;
  private readonly principalKeys = new Map<string, MacKey>();
  private readonly principalKeyCacheSize: number;
  private cachedGeneration = -1;

  constructor(options: RequestVerifierOptions) {
    this.keys = options.keys;
    this.macaroons = options.macaroons;
    this.now = options.now ?? Date.now;
    this.replay = options.replayCache ?? new MemoryReplayCache({ now: this.now });
    this.maxAgeMs = options.maxAgeMs ?? 120_000;
    this.maxFutureMs = options.maxFutureMs ?? 30_000;
    this.limits = { ...DEFAULT_ENVELOPE_LIMITS, ...options.limits };
    this.principalKeyCacheSize = options.principalKeyCacheSize ?? 10_000;
  }

  /**
   * Verifies a call's header against the method it arrived on. `singleMessage` is true for
   * unary and server-streaming methods (the envelope must carry the body digest), false for
   * request streams (it must not). The order of checks is spec §6.5.
   */
  verifyHeader(received: ReceivedHeader, method: string, singleMessage: boolean): HeaderVerdict | Promise<HeaderVerdict> {
    // 1. Exactly one binary metadata value: envelope bytes, then the 32-byte MAC.
    if (received.length === 0) return refuse('missing_envelope');
    if (received.length > 1) return refuse('duplicate_metadata');
    const value = received[0]!;
    if (typeof value === 'string' || value.length <= MAC_BYTES) return refuse('malformed_envelope');
    const envelopeBytes = value.subarray(0, value.length - MAC_BYTES);
    const mac = value.subarray(value.length - MAC_BYTES);

    // 2. Strict, bounded parse. Only the key reference is used before the MAC is checked;
    //    the other comparisons below can only refuse, never grant.
    const decoded = decodeEnvelope(envelopeBytes, this.limits);
    if (!decoded.ok) return refuse(decoded.reason);
    const env = decoded.envelope;
    const keys = this.keys.current();
    if (env.audience !== keys.audience) return refuse('wrong_audience');
    if (env.method !== method) return refuse('wrong_method');
    if (singleMessage ? env.bodyDigest.length === 0 : env.bodyDigest.length !== 0) {
      return refuse(singleMessage ? 'bad_digest' : 'unexpected_digest');
    }

    // 3. Key lookup and the MAC over the bytes exactly as received.
    const audienceKey = keys.audienceKey(env.keyId);
    if (!audienceKey) return refuse('unknown_key');
    if (keys.isKeyDenied(env.keyId)) return refuse('revoked_key');
    const principalKey = this.principalKey(keys.generation, audienceKey, env);
    let key = principalKey;
    let macaroon: { presented: MacaroonPresentation; rootKey: Uint8Array; signature: Uint8Array } | undefined;
    if (env.credential.length > 0) {
      // A macaroon: in possession mode the MAC is keyed from its signature, which this
      // server recomputes from the root key (§11.2). Nothing in it is trusted before the MAC.
      if (!this.macaroons) return refuse('credential_not_accepted');
      const decoded = decodeMacaroonCredential(env.credential);
      if (!decoded.ok) return refuse('malformed_credential');
      const presented = decoded.credential;
      const rootKey = this.macaroons.rootKey(presented.root.identifier);
      if (!rootKey) return refuse('unknown_macaroon_key');
      let signature = presented.root.signature;
      if (presented.presentation === 'bearer') {
        if (this.macaroons.acceptBearer !== true || !this.macaroons.self) return refuse('bearer_not_accepted');
      } else {
        signature = macaroonSignature(presented.root, rootKey);
        key = possessionKey(principalKey, signature);
      }
      macaroon = { presented, rootKey, signature };
    }
    if (!key.verify(mac, LABELS.requestMac, envelopeBytes)) return refuse('bad_mac');

    // 4. Authenticated from here on.
    // Refusals from here on are of an authenticated request: the audit learns whose.
    const after = (reason: ReasonCode, serverTimeMs?: number): Refusal => refuseAuthenticated(reason, env, serverTimeMs);
    if (keys.isPrincipalDenied(env.principal)) return after('revoked_principal');
    const now = this.now();
    if (env.issuedAtMs < now - this.maxAgeMs) return after('expired', now);
    if (env.issuedAtMs > now + this.maxFutureMs) return after('issued_in_future', now);

    // The macaroon: its discharges, revocation, then its caveats against this request.
    let proven: Proven = NOTHING_PROVEN;
    if (macaroon) {
      const outcome = this.checkMacaroon(macaroon, env, now);
      if (!outcome.ok) return after(outcome.reason);
      proven = outcome;
    }

    // 5. Replay: the nonce, scoped to its principal, must be new.
    const header = new VerifiedHeader(claimsOf(env, proven), env.bodyDigest, key, mac, proven.delegated);
    // Unambiguous although the principal may hold any character: the nonce is always the
    // last 16 characters (its bytes as latin1).
    const replayKey = env.principal + '\u0000' + latin1(env.nonce);
    const expiresAt = env.issuedAtMs + this.maxAgeMs + this.maxFutureMs;
    let verdict: ReplayVerdict | Promise<ReplayVerdict>;
    try {
      verdict = this.replay.checkAndRemember(replayKey, expiresAt);
    } catch {
      return after('replay_cache_unavailable');
    }
    if (typeof verdict === 'string') return replayOutcome(verdict, header);
    return verdict.then(
      (v) => replayOutcome(v, header),
      () => after('replay_cache_unavailable'),
    );
  }

  private checkMacaroon(
    m: { presented: MacaroonPresentation; rootKey: Uint8Array; signature: Uint8Array },
    env: Envelope,
    nowMs: number,
  ): (Proven & { ok: true }) | Refusal {
    const accept = this.macaroons!;
    const root = m.presented.root;
    if (accept.isRevoked?.(root.identifier)) return refuse('revoked_macaroon');
    // Every signature (the root's, in bearer mode; each discharge's, bound to the root's)
    // before any caveat is read; the caveats are then the vocabulary's to check.
    const verified = verifyMacaroon({ ...root, signature: m.signature }, m.rootKey, m.presented.discharges, () => true);
    if (!verified.ok) return refuse(verified.reason);
    // A bearer hand-off names this service as the last presenter (the caveats are checked as
    // if it presented), and the sender as the presenter just before it (§11.4).
    const bearer = m.presented.presentation === 'bearer';
    const principal = bearer ? accept.self! : env.principal;
    const request: MacaroonRequest = { principal, audience: env.audience, method: env.method, keyId: env.keyId, nowMs };
    let auth: MacaroonAuthorization;
    try {
      auth = accept.authorize(verified.caveats, request);
    } catch {
      return refuse('macaroon_caveat_refused'); // a checker fault fails closed
    }
    if (!auth.ok) return refuse(auth.reason);
    if (env.onBehalfOf !== '' && auth.user !== undefined && env.onBehalfOf !== auth.user) return refuse('user_mismatch');
    const chain = auth.chain ?? [];
    if (bearer) {
      const presenters = auth.user !== undefined ? chain.slice(1) : chain;
      if (presenters.length < 2 || presenters[presenters.length - 1] !== principal || presenters[presenters.length - 2] !== env.principal) {
        return refuse('delegation_mismatch');
      }
    }
    return { ok: true, user: auth.user, userRoles: auth.roles, chain, delegated: bearer ? { ...m.presented, root: { ...root, signature: m.signature } } : undefined, macaroonId: Buffer.from(root.identifier).toString('base64url') };
  }

  private principalKey(generation: number, audienceKey: Buffer, env: Envelope): MacKey {
    if (generation !== this.cachedGeneration) {
      this.principalKeys.clear(); // a reload may have changed or retired keys
      this.cachedGeneration = generation;
    }
    // Length-prefixed, so unambiguous: every field may hold any character, NUL included (a
    // NUL-joined key let principal "a\0b" with role "c" hit the key of "a" with roles b, c).
    let cacheKey = `${env.keyId.length}:${env.keyId}${env.principal.length}:${env.principal}`;
    for (const role of env.roles) cacheKey += `${role.length}:${role}`;
    let key = this.principalKeys.get(cacheKey);
    if (!key) {
      key = new MacKey(derivePrincipalKey(audienceKey, env.principal, env.roles));
      if (this.principalKeys.size >= this.principalKeyCacheSize) {
        this.principalKeys.delete(this.principalKeys.keys().next().value as string);
      }
      this.principalKeys.set(cacheKey, key);
    }
    return key;
  }
}

function replayOutcome(verdict: ReplayVerdict, header: VerifiedHeader): HeaderVerdict {
  if (verdict === 'fresh') return { ok: true, header };
  return { ok: false, reason: verdict === 'replayed' ? 'replayed_nonce' : 'nonce_forgotten', claims: header.claims };
}

/** A refusal of a request whose MAC verified: with its authenticated (unproven-user) facts. */
function refuseAuthenticated(reason: ReasonCode, env: Envelope, serverTimeMs?: number): Refusal {
  const claims = claimsOf(env, NOTHING_PROVEN);
  return serverTimeMs === undefined ? { ok: false, reason, claims } : { ok: false, reason, serverTimeMs, claims };
}

interface Proven {
  /** A macaroon handed to this service (bearer hand-off), now its own to present. */
  readonly delegated?: MacaroonPresentation | undefined;
  readonly user: string | undefined;
  readonly userRoles: readonly string[] | undefined;
  readonly chain: readonly string[];
  readonly macaroonId: string | undefined;
}

const NO_CHAIN: readonly string[] = Object.freeze([]);
const NOTHING_PROVEN: Proven = { user: undefined, userRoles: undefined, chain: NO_CHAIN, macaroonId: undefined };

function claimsOf(env: Envelope, proven: Proven): Claims {
  const user = proven.user ?? (env.onBehalfOf === '' ? undefined : env.onBehalfOf);
  return Object.freeze({
    keyId: env.keyId,
    principal: env.principal,
    roles: Object.freeze(env.roles), // the decoder's own array, held by nothing else
    onBehalfOf: user,
    userVerified: proven.user !== undefined,
    userRoles: proven.userRoles === undefined ? undefined : Object.freeze([...proven.userRoles]),
    chain: proven.chain.length === 0 ? NO_CHAIN : Object.freeze([...proven.chain]),
    macaroonId: proven.macaroonId,
    audience: env.audience,
    method: env.method,
    issuedAtMs: env.issuedAtMs,
  });
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
