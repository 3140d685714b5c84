"""Audit events (spec §8, §12): the precise reason goes here, never to the client."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .verifier import Claims


@dataclass(frozen=True)
class AuditEvent:
    decision: str  # "allow" | "deny"
    method: str
    time_ms: int
    reason: Optional[str] = None
    claims: Optional[Claims] = None
    #: "signed" when the server signs this call's response (§12, §13.3).
    response: Optional[str] = None

    def to_json(self) -> dict:
        out = {"decision": self.decision, "method": self.method, "timeMs": self.time_ms}
        if self.reason:
            out["reason"] = self.reason
        if self.response:
            out["response"] = self.response
        if self.claims:
            c = self.claims
            out["claims"] = {"keyId": c.key_id, "principal": c.principal, "roles": list(c.roles),
                             "onBehalfOf": c.on_behalf_of, "userVerified": c.user_verified,
                             "chain": list(c.chain), "macaroonId": c.macaroon_id,
                             "audience": c.audience, "method": c.method}
        return out


AuditHook = Callable[[AuditEvent], None]


@dataclass(frozen=True)
class ResponseAuditEvent:
    """A client's verdict on a response it required to be signed (§12, §13.4): ``verified``,
    ``refused`` (with the reason) or ``unverified`` (a status its transport makes, passed on)."""

    method: str
    verdict: str
    reason: Optional[str] = None
    #: The status code the call ended with as received, before the client's verdict.
    received_code: Optional[int] = None

    def to_json(self) -> dict:
        out = {"method": self.method, "verdict": self.verdict}
        if self.reason:
            out["reason"] = self.reason
        if self.received_code is not None:
            out["receivedCode"] = self.received_code
        return out


ResponseAuditHook = Callable[[ResponseAuditEvent], None]
