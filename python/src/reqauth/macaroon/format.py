"""Classic macaroons in the libmacaroons V2 binary format, parsed strictly.

Own code rather than pymacaroons: the wire needs a strict V2 parser (one reading of every
token), a root whose signature field is zero (the signature never crosses the wire, §11.2),
the chain recomputed from the root key rather than compared with a sent signature, and a
precise reason for every discharge failure (§11.3). pymacaroons gives none of these; the
tests use it as an independent implementation to cross-check this one.
"""
from __future__ import annotations
from ..varint import encode_varint, read_varint

import base64
import binascii
from dataclasses import dataclass
from typing import Optional

MAX_FIELD_BYTES = 4096
SIGNATURE_BYTES = 32

_EOS, _LOCATION, _IDENTIFIER, _VID, _SIGNATURE = 0, 1, 2, 4, 6


class MacaroonFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Caveat:
    cid: bytes
    vid: Optional[bytes] = None
    location: Optional[bytes] = None

    @property
    def third_party(self) -> bool:
        return self.vid is not None


@dataclass(frozen=True)
class Macaroon:
    identifier: bytes
    caveats: tuple[Caveat, ...] = ()
    signature: bytes = b"\x00" * 32
    location: Optional[bytes] = None


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    return read_varint(buf, i, 35, MacaroonFormatError)


def _section(buf: bytes, i: int, allowed: tuple[int, ...]) -> tuple[dict[int, bytes], int]:
    """Fields in ascending type order, each at most once, up to an EOS byte."""
    fields: dict[int, bytes] = {}
    last = 0
    while True:
        if i >= len(buf):
            raise MacaroonFormatError("section runs past the end")
        t = buf[i]
        i += 1
        if t == _EOS:
            return fields, i
        if t not in allowed or t <= last:
            raise MacaroonFormatError("unexpected field type")
        last = t
        n, i = _varint(buf, i)
        if n > MAX_FIELD_BYTES or n > len(buf) - i:
            raise MacaroonFormatError("field length")
        fields[t] = bytes(buf[i:i + n])
        i += n


def parse_v2(buf: bytes) -> Macaroon:
    """The V2 binary format only (version byte 2), nothing after the signature."""
    if not buf or buf[0] != 2:
        raise MacaroonFormatError("not a V2 binary macaroon")
    head, i = _section(buf, 1, (_LOCATION, _IDENTIFIER))
    if _IDENTIFIER not in head:
        raise MacaroonFormatError("no identifier")
    caveats = []
    while True:
        if i >= len(buf):
            raise MacaroonFormatError("caveats run past the end")
        if buf[i] == _EOS:
            i += 1
            break
        c, i = _section(buf, i, (_LOCATION, _IDENTIFIER, _VID))
        if _IDENTIFIER not in c:
            raise MacaroonFormatError("caveat without identifier")
        if _LOCATION in c and _VID not in c:
            raise MacaroonFormatError("first-party caveat with a location")
        caveats.append(Caveat(c[_IDENTIFIER], c.get(_VID), c.get(_LOCATION)))
    if i + 2 + SIGNATURE_BYTES != len(buf) or buf[i] != _SIGNATURE or buf[i + 1] != SIGNATURE_BYTES:
        raise MacaroonFormatError("signature field")
    return Macaroon(head[_IDENTIFIER], tuple(caveats), bytes(buf[i + 2:]), head.get(_LOCATION))


def serialize_v2(m: Macaroon) -> bytes:
    def f(t: int, data: bytes) -> bytes:
        return bytes([t]) + encode_varint(len(data)) + data

    out = bytearray(b"\x02")
    if m.location is not None:
        out += f(_LOCATION, m.location)
    out += f(_IDENTIFIER, m.identifier) + b"\x00"
    for c in m.caveats:
        if c.location is not None:
            out += f(_LOCATION, c.location)
        out += f(_IDENTIFIER, c.cid)
        if c.vid is not None:
            out += f(_VID, c.vid)
        out += b"\x00"
    out += b"\x00" + f(_SIGNATURE, m.signature)
    return bytes(out)


def parse_token(text: str) -> Macaroon:
    """A V2 binary macaroon in base64url or base64, padded or not (what reqauth prints)."""
    t = text.strip()
    try:
        raw = base64.b64decode(t.replace("-", "+").replace("_", "/") + "=" * (-len(t) % 4), validate=True)
    except binascii.Error:
        raise MacaroonFormatError("not base64") from None
    return parse_v2(raw)


def serialize_token(m: Macaroon) -> str:
    return base64.urlsafe_b64encode(serialize_v2(m)).rstrip(b"=").decode("ascii")
