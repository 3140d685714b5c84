"""How a verifier accepts macaroons in the credential field: spec §11.3, in its order."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Optional, Union

from ..crypto import constant_time_equal
from ..envelope import Envelope
from .caveats import CaveatContext, CaveatRefusal, authorize_caveats
from .chain import verify
from .credential import HANDOFF, POSSESSION, Presentation, decode_credential, possession_key, possession_proof
from .identifier import id_text
from .keyring import MacaroonKeys


@dataclass(frozen=True)
class MacaroonResult:
    user: Optional[str]
    roles: Optional[tuple[str, ...]]
    chain: tuple[str, ...]
    macaroon_id: str
    possession_key: bytes
    #: For a hand-off: the macaroon with its recomputed signature, for the handler only.
    delegated: Optional[Presentation]
    #: The caveat refusal's detail (for logs of the server's own), when refused.
    detail: Optional[str] = None


class MacaroonAcceptance:
    """``keys``: MacaroonKeys or anything with ``current()`` (a MacaroonKeyringFile).
    ``require_user`` (default True): a macaroon without a ``user`` caveat restricts no user,
    so a holder could add one; the verifier insists on the issuer's.
    ``accept_handoff`` with ``self_name``: accept PRESENTATION_HANDOFF to this service."""

    def __init__(self, keys, require_user: bool = True, accept_handoff: bool = False,
                 self_name: Optional[str] = None, exact: Iterable[str] = ()) -> None:
        if accept_handoff and not self_name:
            raise ValueError("accept_handoff needs self_name, this service's principal name")
        self._keys, self._require_user = keys, require_user
        self._handoff, self._self = accept_handoff, self_name
        self._exact = tuple(exact)
        #: The last caveat refusal's detail (fixed text, never a caveat's value).
        self.last_detail: Optional[str] = None

    def _current(self) -> MacaroonKeys:
        return self._keys.current() if hasattr(self._keys, "current") else self._keys

    def check(self, env: Envelope, principal_key: bytes, now_ms: int) -> Union[MacaroonResult, str]:
        # 1. parse, presentation, root key, proof
        cred = decode_credential(env.credential)
        if isinstance(cred, str):
            return cred
        if cred.presentation == HANDOFF and not self._handoff:
            return "handoff_not_accepted"
        keys = self._current()
        root_key = keys.root_key(cred.root.identifier)
        if root_key is None:
            return "unknown_macaroon_key"
        verified = verify(cred.root, root_key, cred.discharges)
        signature = None if isinstance(verified, str) else verified[0]
        if signature is None:
            from .chain import signature_of

            signature = signature_of(cred.root, root_key)
        pkey = possession_key(principal_key, signature)
        if not constant_time_equal(possession_proof(pkey, env.nonce), cred.proof):
            return "macaroon_bad_proof"
        # 2. revocation
        if keys.is_revoked(cred.root.identifier):
            return "revoked_macaroon"
        # 3. discharges, before any caveat is read
        if isinstance(verified, str):
            return verified
        # 4. caveats, against the authenticated request (a hand-off as if this service presented)
        presenter = self._self if cred.presentation == HANDOFF else env.principal
        ctx = CaveatContext(now_ms=now_ms, principal=presenter, audience=env.audience,
                            method=env.method, key_id=env.key_id)
        claims = authorize_caveats(verified[1], ctx, self._exact)
        if isinstance(claims, CaveatRefusal):
            self.last_detail = claims.detail
            return claims.reason  # caveat_unknown | caveat_malformed | caveat_failed | caveat_missing
        if self._require_user and claims.user is None:
            self.last_detail = "no user caveat"
            return "caveat_missing"
        # 5. the asserted user must be the proven one
        if env.on_behalf_of and env.on_behalf_of != claims.user:
            return "user_mismatch"
        # 6. a hand-off comes from the presenter named just before this service
        delegated = None
        if cred.presentation == HANDOFF:
            presenters = claims.chain[1:] if claims.user is not None else claims.chain
            if len(presenters) < 2 or presenters[-2] != env.principal:
                return "delegation_mismatch"
            delegated = Presentation(replace(cred.root, signature=signature), cred.discharges, POSSESSION)
        return MacaroonResult(claims.user, claims.roles, claims.chain, id_text(cred.root.identifier), pkey, delegated)
