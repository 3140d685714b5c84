"""The server side: spec §6.5, in its order. Returns values (VerifiedHeader or Refusal)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

from .crypto import LABELS, MAC_BYTES, constant_time_equal, hmac_sha256, sha256
from .envelope import DEFAULT_LIMITS, Envelope, EnvelopeLimits, parse_envelope
from .errors import Refusal
from .keys import derive_principal_key
from .policy import Policy
from .replay import FRESH, REPLAYED, MemoryReplayStore, ReplayWindow
from .response import ResponseSigner
from .stream_tag import StreamVerifier


@dataclass(frozen=True)
class Claims:
    """What a handler may rely on once the request verified."""

    key_id: str
    principal: str
    roles: tuple[str, ...]
    #: The user the call is for: proven when ``user_verified``, else the principal's assertion.
    on_behalf_of: Optional[str]
    audience: str
    method: str
    issued_at_ms: int
    user_verified: bool = False
    user_roles: Optional[tuple[str, ...]] = None
    chain: tuple[str, ...] = ()
    macaroon_id: Optional[str] = None


class VerifiedHeader:
    """A header that passed steps 1-4; the call key stays inside."""

    def __init__(self, claims: Claims, body_digest: bytes, call_key: bytes, mac: bytes, delegated=None) -> None:
        self.claims = claims
        self._digest, self._key, self._mac = body_digest, call_key, mac
        #: A macaroon handed to this service (§11.4), signature recomputed; never audited.
        self.delegated = delegated

    def check_body(self, body: bytes) -> Optional[Refusal]:
        """Step 5 for a single-message call: the message bytes against the signed digest."""
        if not constant_time_equal(sha256(body), self._digest):
            return Refusal("bad_digest", claims=self.claims)
        return None

    def stream_verifier(self) -> StreamVerifier:
        return StreamVerifier(self._key, self._mac)

    def response_signer(self, covered: Sequence[str] = ()) -> ResponseSigner:
        """Signs this call's response (§13) under its call key, chained from its MAC. Only
        for a header that passed step 4, replay store included (§13.3)."""
        return ResponseSigner(self._key, self._mac, covered)


Received = Sequence[Union[bytes, str]]


class RequestVerifier:
    def __init__(self, keys, policy: Optional[Policy] = None, replay_store=None,
                 max_age_ms: int = 120_000, max_future_ms: int = 30_000,
                 limits: EnvelopeLimits = DEFAULT_LIMITS, macaroons=None,
                 principal_key_cache_size: int = 10_000,
                 now: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self._keys, self._policy, self._macaroons = keys, policy, macaroons
        self._max_age, self._max_future, self._limits, self._now = max_age_ms, max_future_ms, limits, now
        self._replay = replay_store if replay_store is not None else MemoryReplayStore(now=now)
        attach = getattr(self._replay, "attach", None)
        if attach:
            attach(ReplayWindow(max_age_ms, max_future_ms))
        self._cache: "OrderedDict[tuple, bytes]" = OrderedDict()
        self._cache_size = principal_key_cache_size
        self._cache_generation = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ §6.5
    def verify_header(self, received: Received, method: str, single_message: bool) -> Union[VerifiedHeader, Refusal]:
        # 1. Metadata cardinality and size (§4).
        if len(received) == 0:
            return Refusal("missing_envelope")
        if len(received) > 1:
            return Refusal("duplicate_metadata")
        value = received[0]
        if not isinstance(value, (bytes, bytearray)) or len(value) <= MAC_BYTES:
            return Refusal("malformed_envelope")
        if len(value) > self._limits.max_envelope_bytes + MAC_BYTES:
            return Refusal("oversized_envelope")
        data, mac = bytes(value[:-MAC_BYTES]), bytes(value[-MAC_BYTES:])
        # 2. Strict parse, then the server's own values (can only refuse).
        env = parse_envelope(data, self._limits)
        if isinstance(env, str):
            return Refusal(env)
        keys = self._keys.current()
        if env.audience != keys.audience:
            return Refusal("wrong_audience")
        if env.method != method:
            return Refusal("wrong_method")
        if single_message and not env.body_digest:
            return Refusal("bad_digest")
        if not single_message and env.body_digest:
            return Refusal("unexpected_digest")
        # 3. Key and MAC: only key_id, principal and roles are used before the MAC verified.
        audience_key = keys.audience_key(env.key_id)
        if audience_key is None:
            return Refusal("unknown_key")
        if keys.is_key_denied(env.key_id):
            return Refusal("revoked_key")
        principal_key = self._principal_key(keys, audience_key, env, data, mac)
        if principal_key is None:
            return Refusal("bad_mac")
        # 4. Authenticated from here: refusals name the principal in the audit.
        claims = Claims(env.key_id, env.principal, env.roles, env.on_behalf_of or None,
                        env.audience, env.method, env.issued_at_ms)
        if keys.is_principal_denied(env.principal):
            return Refusal("revoked_principal", claims=claims)
        now = self._now()
        if env.issued_at_ms < now - self._max_age:
            return Refusal("expired", server_time_ms=now, claims=claims)
        if env.issued_at_ms > now + self._max_future:
            return Refusal("issued_in_future", server_time_ms=now, claims=claims)
        call_key, delegated = principal_key, None
        if env.credential:
            if self._macaroons is None:
                return Refusal("credential_not_accepted", claims=claims)
            result = self._macaroons.check(env, principal_key, now)
            if isinstance(result, str):
                return Refusal(result, claims=claims)
            claims = Claims(env.key_id, env.principal, env.roles, result.user or env.on_behalf_of or None,
                            env.audience, env.method, env.issued_at_ms, user_verified=result.user is not None,
                            user_roles=result.roles, chain=result.chain, macaroon_id=result.macaroon_id)
            call_key, delegated = result.possession_key, result.delegated
        if self._policy is not None:
            reason = self._policy.authorize(method, env.principal, env.roles)
            if reason:
                return Refusal(reason, claims=claims)
        try:
            verdict = self._replay.check_and_remember(env.principal, env.nonce,
                                                      env.issued_at_ms + self._max_age + self._max_future)
        except Exception:
            return Refusal("replay_cache_unavailable", claims=claims)
        if verdict == REPLAYED:
            return Refusal("replayed_nonce", claims=claims)
        if verdict != FRESH:
            return Refusal("nonce_forgotten", claims=claims)
        return VerifiedHeader(claims, env.body_digest, call_key, mac, delegated)

    def _principal_key(self, keys, audience_key: bytes, env: Envelope, data: bytes, mac: bytes) -> Optional[bytes]:
        """The principal key whose MAC matches, or None. Cached only once a MAC verified with
        it, so forged envelopes naming new principals evict nothing (§6.5 step 3)."""
        ck = (env.key_id, env.principal, env.roles)
        with self._lock:
            if self._cache_generation != keys.generation:
                self._cache.clear()
                self._cache_generation = keys.generation
            cached = self._cache.get(ck)
        key = cached if cached is not None else derive_principal_key(audience_key, env.principal, env.roles)
        if not constant_time_equal(hmac_sha256(key, LABELS.REQUEST_MAC, data), mac):
            return None
        if cached is None:
            with self._lock:
                if self._cache_generation == keys.generation:
                    self._cache[ck] = key
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return key
