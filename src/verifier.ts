// The server half of the data path (docs/spec.md §6): received metadata values -> verified
// claims or a refusal; then each message's bytes against the verified header.
import { LABELS, MAC_BYTES, MacKey, sha256Equals } from './crypto';
import { decodeEnvelope, decodeKnownEnvelope, DEFAULT_ENVELOPE_LIMITS, Envelope, EnvelopeLimits, KeyReference, keyReferenceEnd } from './wire/envelope';
import { ReasonCode, refuse, Refusal } from './errors';
import { decodeMacaroonCredential, MacaroonPresentation, macaroonSignature, possessionKey, ReceivedMacaroonCredential } from './macaroon/credential';
import { macaroonIdText } from './macaroon/identifier';
import { verifyMacaroon, VerifiedCaveat } from './macaroon/index';
import { KeySource, VerificationKeys } from './keys/key-source';
import { PrincipalKeyCache } from './keys/principal-key-cache';
import { derivePrincipalKey } from './keys/derive';
import { Policy } from './policy';
import { MemoryReplayStore } from './replay/memory';
import { ReplayStore, ReplayVerdict } from './replay/store';
import { StreamVerifier } from './wire/stream-tag';
import { ResponseSigner } from './wire/response-tag';

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
  /**
   * The presented macaroon's identifier in its one text form (`macaroonIdText`: the UTF-8
   * text, or `base64url:` and the bytes), as audit, CLI and revocation lists name it.
   */
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
   * Accept PRESENTATION_HANDOFF: a macaroon handed to this service by the presenter named
   * before it (§11.4). Off by default; needs `self`.
   */
  acceptHandoff?: boolean;
  /** This service's own principal name, as presenter caveats name it (for hand-offs). */
  self?: string;
}

/** A header that passed every check; the key to check its messages with stays inside. */
export class VerifiedHeader {
  /** @internal */
  constructor(
    readonly claims: Claims,
    private readonly bodyDigest: Uint8Array,
    /** The call key: the principal key, or the possession key when a macaroon was presented. */
    private readonly callKey: MacKey,
    private readonly mac: Uint8Array,
    /**
     * A macaroon handed to this service (§11.4), with the signature this service recomputed:
     * it may now present it by possession. Never part of the claims or the audit.
     */
    readonly delegated?: MacaroonPresentation,
  ) {}

  /** For a single-message call: do these bytes match the signed digest? */
  checkBody(body: Uint8Array): Refusal | undefined {
    return sha256Equals(body, this.bodyDigest) ? undefined : refuse('bad_digest');
  }

  /** For a request stream: the verifier of its tagged messages. */
  streamVerifier(): StreamVerifier {
    return new StreamVerifier(this.callKey, this.mac);
  }

  /**
   * The signer of this call's response (spec §13), under the call key and chained from the
   * request MAC. Sign only the response of a call whose nonce the replay store accepted as
   * fresh (every header this verifier passes): §13.3 says why.
   */
  responseSigner(): ResponseSigner {
    return new ResponseSigner(this.callKey, this.mac);
  }
}

export type HeaderVerdict = { readonly ok: true; readonly header: VerifiedHeader } | Refusal;

/** The values of `reqauth-envelope-bin`, as many as were received (spec §4). */
export type ReceivedHeader = readonly (string | Uint8Array)[];

export interface RequestVerifierOptions {
  keys: KeySource;
  /**
   * Who may call what (spec §7), decided on the verified header before its nonce is
   * remembered, so a principal that may call nothing cannot fill the replay store. Without
   * it, every authenticated request passes this step (bindings always give one).
   */
  policy?: Policy;
  /** Default: a MemoryReplayStore with its default bounds. */
  replayStore?: ReplayStore;
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

/** A presented macaroon whose possession proof verified: its signature, recomputed here. */
interface ProvenMacaroon {
  readonly presented: ReceivedMacaroonCredential;
  readonly rootKey: Uint8Array;
  readonly signature: Buffer;
}

export class RequestVerifier {
  private readonly keys: KeySource;
  private readonly policy: Policy | undefined;
  private readonly macaroons: MacaroonAcceptance | undefined;
  private readonly replay: ReplayStore;
  private readonly maxAgeMs: number;
  private readonly maxFutureMs: number;
  private readonly limits: EnvelopeLimits;
  private readonly now: () => number;
  /**
   * Key references whose MAC verified, with their derived principal key, by the exact bytes of
   * the key reference in a canonical envelope (`keyReferenceEnd`); by their length-prefixed
   * fields for the others.
   */
  private readonly principalKeys: PrincipalKeyCache;
  private cachedGeneration = -1;
  /** The UTF-8 bytes of the keys' audience and of the methods verified, for the fast path. */
  private audienceOf: VerificationKeys | undefined;
  private audienceBytes: Uint8Array | undefined;
  private readonly methodBytes = new Map<string, Uint8Array | undefined>();

  constructor(options: RequestVerifierOptions) {
    this.keys = options.keys;
    this.policy = options.policy;
    this.macaroons = options.macaroons;
    this.now = options.now ?? Date.now;
    this.replay = options.replayStore ?? new MemoryReplayStore({ now: this.now });
    this.maxAgeMs = options.maxAgeMs ?? 120_000;
    this.maxFutureMs = options.maxFutureMs ?? 30_000;
    this.limits = { ...DEFAULT_ENVELOPE_LIMITS, ...options.limits };
    this.principalKeys = new PrincipalKeyCache(options.principalKeyCacheSize ?? 10_000);
    // A store that forgets on restart raises its floor past every request issued before now.
    this.replay.attach?.({ maxAgeMs: this.maxAgeMs, maxFutureMs: this.maxFutureMs });
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
    //    the other comparisons below can only refuse, never grant. A canonical envelope from
    //    a key reference that verified before, naming this audience and method, is read
    //    without decoding its key reference again (src/wire/envelope.ts, the fast path).
    const keys = this.keys.current();
    if (keys.generation !== this.cachedGeneration) {
      this.principalKeys.clear(); // a reload may have changed or retired keys
      this.cachedGeneration = keys.generation;
    }
    const refEnd = keyReferenceEnd(envelopeBytes);
    let known = refEnd > 0 ? this.principalKeys.get(envelopeBytes, 2, refEnd) : undefined;
    let env = known && this.decodeKnown(envelopeBytes, refEnd, known, keys, method);
    if (!env) {
      // The whole envelope, strictly. A key reference cached by its bytes is never used for
      // it: a non-canonical envelope may carry more roles after them.
      known = undefined;
      const decoded = decodeEnvelope(envelopeBytes, this.limits);
      if (!decoded.ok) return refuse(decoded.reason);
      env = decoded.envelope;
      if (env.audience !== keys.audience) return refuse('wrong_audience');
      if (env.method !== method) return refuse('wrong_method');
    }
    if (singleMessage ? env.bodyDigest.length === 0 : env.bodyDigest.length !== 0) {
      return refuse(singleMessage ? 'bad_digest' : 'unexpected_digest');
    }

    // 3. Key lookup and the MAC, under the principal key, over the bytes exactly as received:
    //    the same bounded work for every request, whatever its credential carries (§6.5).
    const audienceKey = keys.audienceKey(env.keyId);
    if (!audienceKey) return refuse('unknown_key');
    if (keys.isKeyDenied(env.keyId)) return refuse('revoked_key');
    if (!known) {
      // A canonical envelope is cached by its key reference's bytes (the fast path's lookup);
      // any other by its fields, length-prefixed so unambiguous (every field may hold any
      // character, NUL included), which never start as key reference bytes do (0x12).
      const canonical = refEnd > 0 && this.decodeKnown(envelopeBytes, refEnd, env, keys, method) !== undefined;
      const cacheKey = canonical ? envelopeBytes : Buffer.from(fieldsKey(env), 'utf8');
      const [start, end] = canonical ? [2, refEnd] : [0, cacheKey.length];
      known = this.principalKeys.get(cacheKey, start, end);
      if (!known) {
        const key = new MacKey(derivePrincipalKey(audienceKey, env.principal, env.roles));
        if (!key.verify(mac, LABELS.requestMac, envelopeBytes)) return refuse('bad_mac');
        // Cached only once a MAC made with it verified: forged envelopes naming new
        // principals cost one derivation each and evict nothing.
        known = { keyId: env.keyId, principal: env.principal, roles: Object.freeze(env.roles), key };
        this.principalKeys.set(cacheKey, start, end, known);
      }
    }
    const principalKey = known.key;
    if (!principalKey.verify(mac, LABELS.requestMac, envelopeBytes)) return refuse('bad_mac');

    // 4. Authenticated from here on: refusals carry the envelope's facts, for the audit.
    const after = (reason: ReasonCode, serverTimeMs?: number): Refusal => refuseAuthenticated(reason, env, serverTimeMs);
    if (keys.isPrincipalDenied(env.principal)) return after('revoked_principal');
    const now = this.now();
    if (env.issuedAtMs < now - this.maxAgeMs) return after('expired', now);
    if (env.issuedAtMs > now + this.maxFutureMs) return after('issued_in_future', now);

    // The credential: a macaroon, its possession proof, then its caveats against this request.
    let proven: Proven = NOTHING_PROVEN;
    let callKey = principalKey;
    if (env.credential.length > 0) {
      if (!this.macaroons) return after('credential_not_accepted');
      const macaroon = this.proveMacaroon(env, principalKey);
      if (!macaroon.ok) return after(macaroon.reason);
      const outcome = this.checkMacaroon(macaroon.proven, env, now);
      if (!outcome.ok) return after(outcome.reason);
      proven = outcome;
      callKey = macaroon.key;
    }
    const claims = claimsOf(env, proven);

    // 5. Policy, on the verified header, before the nonce is remembered (§7).
    if (this.policy) {
      const decision = this.policy.authorize(env.method, claims);
      if (!decision.ok) return { ok: false, reason: decision.reason, claims };
    }

    // 6. Replay: the nonce, scoped to its principal, must be new.
    const header = new VerifiedHeader(claims, env.bodyDigest, callKey, mac, proven.delegated);
    const expiresAt = env.issuedAtMs + this.maxAgeMs + this.maxFutureMs;
    let verdict: ReplayVerdict | Promise<ReplayVerdict>;
    try {
      verdict = this.replay.checkAndRemember(env.principal, env.nonce, expiresAt);
    } catch {
      return { ok: false, reason: 'replay_cache_unavailable', claims };
    }
    if (typeof verdict === 'string') return replayOutcome(verdict, header);
    return verdict.then(
      (v) => replayOutcome(v, header),
      () => ({ ok: false, reason: 'replay_cache_unavailable', claims }) as Refusal,
    );
  }

  /**
   * The macaroon's signature, recomputed from its root key, must be what the request's
   * possession proof was made with (§11.2). Runs only once the request MAC verified.
   */
  private proveMacaroon(
    env: Envelope,
    principalKey: MacKey,
  ): { ok: true; proven: ProvenMacaroon; key: MacKey } | { ok: false; reason: ReasonCode } {
    const accept = this.macaroons!;
    const decoded = decodeMacaroonCredential(env.credential);
    if (!decoded.ok) return decoded;
    const presented = decoded.credential;
    if (presented.presentation === 'handoff' && (accept.acceptHandoff !== true || !accept.self)) {
      return { ok: false, reason: 'handoff_not_accepted' };
    }
    const rootKey = accept.rootKey(presented.root.identifier);
    if (!rootKey) return { ok: false, reason: 'unknown_macaroon_key' };
    const signature = macaroonSignature(presented.root, rootKey);
    const key = possessionKey(principalKey, signature);
    if (!key.verify(presented.proof, LABELS.macaroonProof, env.nonce)) return { ok: false, reason: 'macaroon_bad_proof' };
    return { ok: true, proven: { presented, rootKey, signature }, key };
  }

  private checkMacaroon(m: ProvenMacaroon, env: Envelope, nowMs: number): (Proven & { ok: true }) | Refusal {
    const accept = this.macaroons!;
    const root = m.presented.root;
    if (accept.isRevoked?.(root.identifier)) return refuse('revoked_macaroon');
    // Each discharge's signature, bound to the root's, before any caveat is read; the caveats
    // are then the vocabulary's to check.
    const verified = verifyMacaroon({ ...root, signature: m.signature }, m.rootKey, m.presented.discharges, () => true);
    if (!verified.ok) return refuse(verified.reason);
    // A hand-off names this service as the last presenter (the caveats are checked as if it
    // presented), and the sender as the presenter just before it (§11.4).
    const handoff = m.presented.presentation === 'handoff';
    const principal = handoff ? accept.self! : env.principal;
    const request: MacaroonRequest = { principal, audience: env.audience, method: env.method, keyId: env.keyId, nowMs };
    let auth: MacaroonAuthorization;
    try {
      auth = accept.authorize(verified.caveats, request);
    } catch {
      return refuse('macaroon_caveat_refused'); // a checker fault fails closed
    }
    if (!auth.ok) return refuse(auth.reason);
    // With a macaroon, the user is the macaroon's: an envelope naming another, or naming one
    // when the macaroon names none, is refused (spec §11.3 step 5).
    if (env.onBehalfOf !== '' && env.onBehalfOf !== auth.user) return refuse('user_mismatch');
    const chain = auth.chain ?? [];
    if (handoff) {
      const presenters = auth.user !== undefined ? chain.slice(1) : chain;
      if (presenters.length < 2 || presenters[presenters.length - 1] !== principal || presenters[presenters.length - 2] !== env.principal) {
        return refuse('delegation_mismatch');
      }
    }
    return {
      ok: true,
      user: auth.user,
      userRoles: auth.roles,
      chain,
      // The receiver of a hand-off holds the macaroon now, with the signature it recomputed.
      delegated: handoff ? { root: { ...root, signature: m.signature }, discharges: m.presented.discharges, presentation: 'possession' } : undefined,
      macaroonId: macaroonIdText(root.identifier),
    };
  }

  /** The fast path's read of an envelope whose key reference is `ref` (decodeKnownEnvelope). */
  private decodeKnown(envelopeBytes: Uint8Array, refEnd: number, ref: KeyReference, keys: VerificationKeys, method: string): Envelope | undefined {
    if (keys !== this.audienceOf) {
      this.audienceOf = keys;
      this.audienceBytes = utf8Of(keys.audience);
    }
    let methodBytes = this.methodBytes.get(method);
    if (methodBytes === undefined && !this.methodBytes.has(method)) {
      methodBytes = utf8Of(method);
      // Bindings verify their registered methods only; a caller passing ever new ones is bounded.
      if (this.methodBytes.size < MAX_METHODS) this.methodBytes.set(method, methodBytes);
    }
    if (!this.audienceBytes || !methodBytes) return undefined;
    return decodeKnownEnvelope(envelopeBytes, refEnd, ref, keys.audience, this.audienceBytes, method, methodBytes, this.limits);
  }
}

const MAX_METHODS = 4096;

/**
 * The UTF-8 bytes of `text`, or undefined when they do not decode back to it (a lone
 * surrogate): the fast path compares bytes, and must never match what decoding would not.
 */
function utf8Of(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.toString('utf8') === text ? bytes : undefined;
}

/** A key reference as its length-prefixed fields (the cache key of a non-canonical envelope). */
function fieldsKey(env: Envelope): string {
  let key = `${env.keyId.length}:${env.keyId}${env.principal.length}:${env.principal}`;
  for (const role of env.roles) key += `${role.length}:${role}`;
  return key;
}

function replayOutcome(verdict: ReplayVerdict, header: VerifiedHeader): HeaderVerdict {
  if (verdict === 'fresh') return { ok: true, header };
  if (verdict !== 'replayed' && verdict !== 'forgotten') return { ok: false, reason: 'replay_cache_unavailable', claims: header.claims };
  return { ok: false, reason: verdict === 'replayed' ? 'replayed_nonce' : 'nonce_forgotten', claims: header.claims };
}

/** A refusal of a request whose MAC verified: with its authenticated (unproven-user) facts. */
function refuseAuthenticated(reason: ReasonCode, env: Envelope, serverTimeMs?: number): Refusal {
  const claims = claimsOf(env, NOTHING_PROVEN);
  return serverTimeMs === undefined ? { ok: false, reason, claims } : { ok: false, reason, serverTimeMs, claims };
}

interface Proven {
  /** A macaroon handed to this service (a hand-off), now its own to present. */
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

