"""The client side (spec §4, §5): envelope, MAC, body digest or stream tags."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

from .crypto import LABELS, hmac_sha256, random_nonce, sha256
from .envelope import Envelope, encode_envelope
from .keyring import ClientCredential
from .stream_tag import StreamSigner

ENVELOPE_KEY = "reqauth-envelope-bin"
SERVER_TIME_KEY = "reqauth-server-time"


@dataclass(frozen=True)
class SignedHeader:
    """``value`` is the metadata value: envelope bytes followed by the 32-byte MAC."""

    envelope: bytes
    mac: bytes
    call_key: bytes  # the key of this call's stream tags (principal or possession key)

    @property
    def value(self) -> bytes:
        return self.envelope + self.mac


class RequestSigner:
    def __init__(self, credential: ClientCredential, now: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.credential = credential
        self._now = now
        #: Added to the local clock; set it only from a server reached over a trusted channel.
        self.clock_offset_ms = 0

    def sign(self, method: str, body: Optional[bytes], on_behalf_of: str = "",
             macaroon=None) -> SignedHeader:
        """``body``: the single request message exactly as framed, or None for a request
        stream. ``macaroon``: a :class:`reqauth.macaroon.Presentation` to present (§11)."""
        c = self.credential
        nonce = random_nonce()
        credential, call_key = b"", c.principal_key
        if macaroon is not None:
            from .macaroon.credential import encode_presentation

            credential, call_key = encode_presentation(macaroon, c.principal_key, nonce)
        env = Envelope(
            key_id=c.key_id, principal=c.principal, roles=c.roles, on_behalf_of=on_behalf_of or "",
            audience=c.audience, method=method, nonce=nonce,
            issued_at_ms=self._now() + self.clock_offset_ms,
            body_digest=sha256(body) if body is not None else b"", credential=credential,
        )
        data = encode_envelope(env)
        # The MAC is always under the principal key (§4, §11.2).
        return SignedHeader(data, hmac_sha256(c.principal_key, LABELS.REQUEST_MAC, data), call_key)

    def sign_stream(self, method: str, on_behalf_of: str = "", macaroon=None) -> tuple[SignedHeader, StreamSigner]:
        header = self.sign(method, None, on_behalf_of, macaroon)
        return header, StreamSigner(header.call_key, header.mac)

    def adopt_server_time(self, server_time_ms: int) -> None:
        self.clock_offset_ms = server_time_ms - self._now()
