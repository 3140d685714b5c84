"""Authenticated responses (spec §13): each response message's tag and the call's end entry.

The server signs with :class:`ResponseSigner`, the client checks with :class:`ResponseVerifier`;
both are keyed by the call key (the principal key, or the possession key of a macaroon call)
and chained from the request MAC, so a response belongs to one call. Metadata is given as
``(name, value)`` pairs, as grpcio hands it: ``bytes`` values for ``-bin`` names, ``str`` for
the others.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Union

from .crypto import LABELS, MAC_BYTES, constant_time_equal, hmac_sha256, u64be
from .stream_tag import FLAG_MESSAGE, TRAILER_BYTES, TRAILER_PREFIX

#: The trailing metadata entry of a signed response (§4, §13.2).
RESPONSE_KEY = "reqauth-response-bin"
MAX_COVERED_NAMES = 255
MAX_COUNT = 2**53 - 1
MAX_CODE = 2**32 - 1

Value = Union[bytes, str]
Metadata = Iterable[tuple[str, Value]]

# A gRPC metadata key as the HTTP/2 field name carries it: lowercase, digits, `_`, `-`, `.`.
_KEY = re.compile(r"[0-9a-z_.\-]+\Z")


def covered_name_problem(name: str) -> Optional[str]:
    """Why ``name`` cannot be a covered name (§13.2), or None."""
    if not isinstance(name, str) or not _KEY.match(name):
        return "is not a lowercase gRPC metadata key"
    if name.startswith("grpc-") and name != "grpc-status-details-bin":
        return "is one of gRPC's own (grpc-...)"
    if name == RESPONSE_KEY:
        return "is the end entry itself"
    return None


def check_covered_names(names: Iterable[str]) -> tuple[str, ...]:
    """A server's configured covered names, validated (raises ValueError)."""
    out = tuple(names)
    if len(out) > MAX_COVERED_NAMES:
        raise ValueError(f"at most {MAX_COVERED_NAMES} covered names")
    for n in out:
        problem = covered_name_problem(n)
        if problem:
            raise ValueError(f"covered name {n!r} {problem}")
    if len(set(out)) != len(out):
        raise ValueError("a covered name is listed twice")
    return out


def response_tag(call_key: bytes, request_mac: bytes, seq: int, body: bytes) -> bytes:
    return hmac_sha256(call_key, LABELS.RESPONSE_TAG, request_mac, u64be(seq), bytes([FLAG_MESSAGE]), body)


def _u32(n: int) -> bytes:
    return struct.pack(">I", n)


def _values(metadata: Sequence[tuple[str, Value]], name: str) -> bytes:
    """``values(md, name)`` of §13.2: a -bin name's values one by one, a text name's joined by
    ", " into one (HTTP/2 receivers join repeated fields so, and grpc-js hands on the join)."""
    found = [v for k, v in metadata if k == name]
    if name.endswith("-bin"):
        items = [bytes(v) if isinstance(v, (bytes, bytearray)) else v.encode("utf-8") for v in found]
    elif found:
        items = [", ".join(v if isinstance(v, str) else bytes(v).decode("latin-1") for v in found).encode("utf-8")]
    else:
        items = []
    return _u32(len(items)) + b"".join(_u32(len(v)) + v for v in items)


def _lp(name: str) -> bytes:
    data = name.encode("ascii")
    return struct.pack(">H", len(data)) + data


def end_input(request_mac: bytes, count: int, code: int, details: bytes, names: Sequence[str],
              headers: Metadata, trailers: Metadata) -> bytes:
    """The end MAC's input (§13.2). ``trailers`` exclude the end entry."""
    headers = [(k, v) for k, v in headers]
    trailers = [(k, v) for k, v in trailers if k != RESPONSE_KEY]
    covered = b"".join(_lp(n) + _values(headers, n) + _values(trailers, n) for n in names)
    return (LABELS.RESPONSE_END + request_mac + u64be(count) + _u32(code) + _u32(len(details)) + details
            + bytes([len(names)]) + covered)


def _details_bytes(details: Union[str, bytes, None]) -> bytes:
    if details is None:
        return b""
    return details.encode("utf-8") if isinstance(details, str) else bytes(details)


class ResponseSigner:
    """Server side: tags each response message in order, then makes the end entry."""

    def __init__(self, call_key: bytes, request_mac: bytes, covered: Sequence[str] = ()) -> None:
        self._key, self._mac, self._names = call_key, request_mac, check_covered_names(covered)
        self.count = 0

    @property
    def covered_names(self) -> tuple[str, ...]:
        return self._names

    def tag(self, body: bytes) -> bytes:
        """The framed message: ``body`` exactly as it will be sent, then its trailer (§13.1)."""
        body = bytes(body)
        t = response_tag(self._key, self._mac, self.count, body)
        self.count += 1
        return body + TRAILER_PREFIX + bytes([FLAG_MESSAGE]) + t

    def end_entry(self, code: int, details: Union[str, bytes, None], headers: Metadata = (),
                  trailers: Metadata = ()) -> bytes:
        """The ``reqauth-response-bin`` value for the status the call ends with (§13.2)."""
        if not 0 <= code <= MAX_CODE:
            raise ValueError("status code out of range")
        mac = hmac_sha256(self._key, end_input(self._mac, self.count, code, _details_bytes(details), self._names,
                                               headers, trailers))
        return u64be(self.count) + bytes([len(self._names)]) + b"".join(_lp(n) for n in self._names) + mac


@dataclass(frozen=True)
class OpenedResponse:
    """A verified response message's ``body``, or the refusal ``reason``."""

    body: bytes = b""
    reason: Optional[str] = None


@dataclass(frozen=True)
class EndEntry:
    count: int
    names: tuple[str, ...]
    mac: bytes


def parse_end_entry(value: Value) -> Union[EndEntry, str]:
    """The entry's format (§13.2), read before its MAC is checked; bounded by its length."""
    if not isinstance(value, (bytes, bytearray)) or len(value) < 8 + 1 + MAC_BYTES:
        return "malformed_response_end"
    data = bytes(value)
    count = struct.unpack(">Q", data[:8])[0]
    if count > MAX_COUNT:
        return "malformed_response_end"
    n, pos, names = data[8], 9, []
    for _ in range(n):
        if pos + 2 > len(data) - MAC_BYTES:
            return "malformed_response_end"
        size = struct.unpack(">H", data[pos:pos + 2])[0]
        pos += 2
        if pos + size > len(data) - MAC_BYTES:
            return "malformed_response_end"
        try:
            name = data[pos:pos + size].decode("ascii")
        except UnicodeDecodeError:
            return "malformed_response_end"
        # The parse checks the name's form only; which names a server may cover is its own
        # configuration's rule (check_covered_names), and the MAC covers the list.
        if not _KEY.match(name) or name == RESPONSE_KEY or name in names:
            return "malformed_response_end"
        names.append(name)
        pos += size
    if len(data) - pos != MAC_BYTES:  # trailing bytes, or a MAC cut short
        return "malformed_response_end"
    return EndEntry(count, tuple(names), data[pos:])


class ResponseVerifier:
    """Client side (§13.1, §13.2): checks and strips each message's trailer in arrival order,
    then the end. The first refusal is final; the caller stops there."""

    def __init__(self, call_key: bytes, request_mac: bytes) -> None:
        self._key, self._mac = call_key, request_mac
        #: Messages verified so far.
        self.count = 0

    def open(self, framed: bytes) -> OpenedResponse:
        if len(framed) < TRAILER_BYTES or framed[-TRAILER_BYTES:-33] != TRAILER_PREFIX:
            return OpenedResponse(reason="missing_response_tag")
        body, flags, tag = framed[:-TRAILER_BYTES], framed[-33], framed[-32:]
        # The tag covers the flags byte 00, so any other flags byte fails the tag as well.
        expected = hmac_sha256(self._key, LABELS.RESPONSE_TAG, self._mac, u64be(self.count), bytes([flags]), body)
        if not constant_time_equal(expected, tag) or flags != FLAG_MESSAGE:
            return OpenedResponse(reason="bad_response_tag")
        self.count += 1
        return OpenedResponse(body=bytes(body))

    def end(self, entries: Sequence[Value], code: int, details: Union[str, bytes, None],
            headers: Metadata = (), trailers: Metadata = ()) -> Optional[str]:
        """None when the end verified, else the reason. ``entries``: every
        ``reqauth-response-bin`` value of the trailers; ``trailers`` may still hold them."""
        if not entries:
            return "missing_response_end"
        if len(entries) > 1:
            return "malformed_response_end"
        entry = parse_end_entry(entries[0])
        if isinstance(entry, str):
            return entry
        if not isinstance(code, int) or not 0 <= code <= MAX_CODE:
            return "malformed_response_end"
        expected = hmac_sha256(self._key, end_input(self._mac, entry.count, code, _details_bytes(details), entry.names,
                                                    headers, trailers))
        if not constant_time_equal(expected, entry.mac):
            return "bad_response_end"
        if entry.count > self.count:
            return "response_truncated"
        if entry.count < self.count:
            # Only the key's holder can tag a message past the count it then signs.
            return "bad_response_end"
        return None
