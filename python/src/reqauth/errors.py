"""Reason codes (spec §8): one stable code per refusal; the gRPC status derives from its class.

The client sees only the generic message of the class; the audit gets the code.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .verifier import Claims


class RefusalClass(str, enum.Enum):
    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission_denied"
    INVALID_ARGUMENT = "invalid_argument"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
    DATA_LOSS = "data_loss"


U, P, I, A, N = (RefusalClass.UNAUTHENTICATED, RefusalClass.PERMISSION_DENIED,
                 RefusalClass.INVALID_ARGUMENT, RefusalClass.UNAVAILABLE, RefusalClass.INTERNAL)

#: Every reason code and its class (spec §8, the table of reason codes).
REASONS: dict[str, RefusalClass] = {
    # step 1: metadata
    "missing_envelope": U, "duplicate_metadata": U, "oversized_envelope": U,
    # step 2: parse, then the server's own values
    "malformed_envelope": U, "unsupported_version": U, "wrong_audience": U, "wrong_method": U,
    "bad_digest": U, "unexpected_digest": U,
    # step 3: key and MAC
    "unknown_key": U, "revoked_key": U, "bad_mac": U,
    # step 4: authenticated header
    "revoked_principal": U, "expired": U, "issued_in_future": U,
    "credential_not_accepted": U, "malformed_credential": U, "macaroon_signature_sent": U,
    "handoff_not_accepted": U, "unknown_macaroon_key": U, "macaroon_bad_proof": U,
    "revoked_macaroon": U, "macaroon_bad_signature": U, "macaroon_bad_caveat_key": U,
    "macaroon_discharge_missing": U, "macaroon_discharge_unused": U,
    "macaroon_discharge_reused": U, "macaroon_discharge_ambiguous": U,
    "macaroon_discharge_cycle": U,
    "caveat_unknown": P, "caveat_malformed": P, "caveat_failed": P, "caveat_missing": P,
    "macaroon_caveat_refused": P, "user_mismatch": U,
    "delegation_mismatch": P,
    "no_rule": P, "missing_role": P, "principal_not_allowed": P,
    "replayed_nonce": U, "nonce_forgotten": U, "replay_cache_unavailable": A,
    # step 5: messages
    "missing_message": U, "missing_stream_tag": U, "bad_stream_tag": U,
    "message_after_end": U, "stream_truncated": U, "malformed_message": I,
    # the server's own faults
    "internal_error": N,
}

#: A client's own codes, when it requires signed responses (spec §8, §13.4); no server sends them.
RESPONSE_REASONS: dict[str, RefusalClass] = {
    "missing_response_tag": RefusalClass.DATA_LOSS, "bad_response_tag": RefusalClass.DATA_LOSS,
    "missing_response_end": RefusalClass.DATA_LOSS, "malformed_response_end": RefusalClass.DATA_LOSS,
    "bad_response_end": RefusalClass.DATA_LOSS, "response_truncated": RefusalClass.DATA_LOSS,
    "malformed_response": N,
}

CLIENT_MESSAGES: dict[RefusalClass, str] = {
    U: "request authentication failed",
    P: "permission denied",
    I: "invalid request",
    A: "service unavailable",
    N: "internal error",
    RefusalClass.DATA_LOSS: "response authentication failed",
}


def refusal_class(reason: str) -> RefusalClass:
    return REASONS[reason]


@dataclass(frozen=True)
class Refusal:
    """A refusal as a value. ``claims`` is set once the MAC verified (for the audit only);
    ``server_time_ms`` for the clock refusals (spec §6.4)."""

    reason: str
    server_time_ms: Optional[int] = None
    claims: "Optional[Claims]" = None

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown reason code {self.reason!r}")

    @property
    def refusal_class(self) -> RefusalClass:
        return REASONS[self.reason]


class ReqauthConfigError(Exception):
    """A programming or configuration error: bad options, an unreadable key file."""
