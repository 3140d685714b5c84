"""Request streams: each frame carries a trailer with its tag; an end marker closes (spec §5.2)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .crypto import LABELS, constant_time_equal, hmac_sha256, u64be

# The protobuf key of field 536870911, wire type 2, then the length 33 (flags + tag).
TRAILER_PREFIX = bytes([0xFA, 0xFF, 0xFF, 0xFF, 0x0F, 0x21])
TRAILER_BYTES = len(TRAILER_PREFIX) + 1 + 32  # 39
FLAG_MESSAGE = 0
FLAG_END = 1


def stream_tag(call_key: bytes, header_mac: bytes, seq: int, flags: int, body: bytes) -> bytes:
    return hmac_sha256(call_key, LABELS.STREAM_TAG, header_mac, u64be(seq), bytes([flags]), body)


class StreamSigner:
    """Client side. ``call_key`` is the principal key, or the possession key when the call
    presents a macaroon (§11.2)."""

    def __init__(self, call_key: bytes, header_mac: bytes) -> None:
        self._key, self._mac, self._seq, self._ended = call_key, header_mac, 0, False

    def _frame(self, body: bytes, flags: int) -> bytes:
        if self._ended:
            raise RuntimeError("stream already ended")
        tag = stream_tag(self._key, self._mac, self._seq, flags, body)
        self._seq += 1
        return body + TRAILER_PREFIX + bytes([flags]) + tag

    def tag_message(self, body: bytes) -> bytes:
        return self._frame(bytes(body), FLAG_MESSAGE)

    def end_marker(self) -> bytes:
        frame = self._frame(b"", FLAG_END)
        self._ended = True
        return frame


@dataclass(frozen=True)
class Opened:
    """A verified frame: ``end`` for the end marker, else ``body``; or a refusal ``reason``."""

    body: bytes = b""
    end: bool = False
    reason: Optional[str] = None


class StreamVerifier:
    """Server side: checks and strips each frame's trailer in arrival order (§5.2)."""

    def __init__(self, call_key: bytes, header_mac: bytes) -> None:
        self._key, self._mac, self._seq, self._ended = call_key, header_mac, 0, False

    @property
    def complete(self) -> bool:
        """The end marker verified; a half-close before it is ``stream_truncated``."""
        return self._ended

    def open(self, framed: bytes) -> Opened:
        if self._ended:
            return Opened(reason="message_after_end")
        if len(framed) < TRAILER_BYTES or framed[-TRAILER_BYTES:-33] != TRAILER_PREFIX:
            return Opened(reason="missing_stream_tag")
        body = framed[:-TRAILER_BYTES]
        flags = framed[-33]
        tag = framed[-32:]
        # The tag covers the flags: any flags byte is first checked by the tag, so a frame
        # altered on the way is bad_stream_tag whatever it altered (§5.2).
        expected = stream_tag(self._key, self._mac, self._seq, flags, body)
        if not constant_time_equal(expected, tag):
            return Opened(reason="bad_stream_tag")
        if flags == FLAG_MESSAGE:
            self._seq += 1
            return Opened(body=bytes(body))
        if flags == FLAG_END and not body:
            self._seq += 1
            self._ended = True
            return Opened(end=True)
        # A well-tagged frame with unknown flags or an end marker with a body: only the key
        # holder could make it; it is still not a frame of this protocol (§5.2).
        return Opened(reason="bad_stream_tag")
