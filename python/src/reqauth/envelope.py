"""The request envelope (spec §3): canonical encoding for signers, strict parsing for verifiers.

The verifier never re-encodes: it MACs the bytes it received (§6.5) and parses them with the
rules of §3.2, which leave no room for two parsers to read one envelope differently.
"""
from __future__ import annotations
from .varint import encode_varint, read_varint as _read_varint

from dataclasses import dataclass
from typing import Union

ENVELOPE_VERSION = 1
MAX_ISSUED_AT_MS = 2**53 - 1  # §3.1: larger values are malformed (no two readers disagree)


@dataclass(frozen=True)
class EnvelopeLimits:
    max_envelope_bytes: int = 4096
    max_string_bytes: int = 256
    max_method_bytes: int = 512
    max_roles: int = 16
    max_credential_bytes: int = 3072


DEFAULT_LIMITS = EnvelopeLimits()


@dataclass(frozen=True)
class Envelope:
    key_id: str
    principal: str
    roles: tuple[str, ...]
    on_behalf_of: str
    audience: str
    method: str
    nonce: bytes
    issued_at_ms: int
    body_digest: bytes = b""
    credential: bytes = b""
    version: int = ENVELOPE_VERSION


def canonical_roles(roles) -> tuple[str, ...]:
    """Sorted by UTF-8 byte value (not code point or UTF-16 order), no duplicates (§3.2)."""
    out = sorted(set(roles), key=lambda r: r.encode("utf-8"))
    if any(r == "" for r in out):
        raise ValueError("a role may not be empty")
    return tuple(out)


# ----------------------------------------------------------------------------- encoding

def _len_field(number: int, data: bytes) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(data)) + data


def _varint_field(number: int, value: int) -> bytes:
    return encode_varint(number << 3) + encode_varint(value)


def encode_envelope(env: Envelope) -> bytes:
    """The canonical encoding (§3.2): ascending field numbers, defaults omitted, roles sorted."""
    roles = canonical_roles(env.roles)
    parts = [_varint_field(1, env.version) if env.version else b""]
    parts.append(_len_field(2, env.key_id.encode("utf-8")))
    parts.append(_len_field(3, env.principal.encode("utf-8")))
    parts += [_len_field(4, r.encode("utf-8")) for r in roles]
    if env.on_behalf_of:
        parts.append(_len_field(5, env.on_behalf_of.encode("utf-8")))
    parts.append(_len_field(6, env.audience.encode("utf-8")))
    parts.append(_len_field(7, env.method.encode("utf-8")))
    parts.append(_len_field(8, env.nonce))
    parts.append(_varint_field(9, env.issued_at_ms))
    if env.body_digest:
        parts.append(_len_field(10, env.body_digest))
    if env.credential:
        parts.append(_len_field(11, env.credential))
    return b"".join(parts)


# ----------------------------------------------------------------------------- parsing

class _Malformed(Exception):
    pass


class _Unsupported(Exception):
    pass


def read_varint(buf: bytes, i: int) -> tuple[int, int]:
    """A minimal varint of at most 10 bytes whose value fits 64 bits; else _Malformed."""
    return _read_varint(buf, i, 64, _Malformed)


_STRING_FIELDS = {2: "key_id", 3: "principal", 5: "on_behalf_of", 6: "audience", 7: "method"}
_BYTES_FIELDS = {8: "nonce", 10: "body_digest", 11: "credential"}


def parse_envelope(data: bytes, limits: EnvelopeLimits = DEFAULT_LIMITS) -> Union[Envelope, str]:
    """Strict parse (§3.2). Returns the envelope or a reason code:
    ``oversized_envelope``, ``unsupported_version`` or ``malformed_envelope``."""
    if len(data) > limits.max_envelope_bytes:
        return "oversized_envelope"
    try:
        return _parse(data, limits)
    except _Unsupported:
        return "unsupported_version"
    except _Malformed:
        return "malformed_envelope"


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _Malformed("not UTF-8") from None


def _parse(data: bytes, limits: EnvelopeLimits) -> Envelope:
    seen: set[int] = set()
    values: dict[str, object] = {}
    roles: list[bytes] = []
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire_type = key >> 3, key & 7
        # Fields may come in any order (§3.2); a singular field may not come twice. Roles may
        # be split by other fields, but in the order of their appearance they are canonical.
        if number != 4 and number in seen:
            raise _Malformed("field repeated")
        seen.add(number)
        if number in (1, 9):
            if wire_type != 0:
                raise _Malformed("wrong wire type")
            value, i = read_varint(data, i)
            if number == 1:
                if value != ENVELOPE_VERSION:
                    raise _Unsupported()  # §3.2: a version other than 1 ends the parse
                values["version"] = value
            else:
                if value > MAX_ISSUED_AT_MS:
                    raise _Malformed("issued_at_ms above 2^53-1")
                values["issued_at_ms"] = value
            continue
        if number < 1 or number > 11 or wire_type != 2:
            raise _Malformed("unknown field or wrong wire type")
        length, i = read_varint(data, i)
        if length > len(data) - i:
            raise _Malformed("length past the end")
        raw = data[i:i + length]
        i += length
        if number == 4:
            if len(roles) >= limits.max_roles or not 1 <= len(raw) <= limits.max_string_bytes:
                raise _Malformed("role bound")
            if roles and not roles[-1] < raw:  # bytes compare: unsigned lexicographic
                raise _Malformed("roles out of order or duplicated")
            _utf8(raw)
            roles.append(raw)
        elif number in _STRING_FIELDS:
            bound = limits.max_method_bytes if number == 7 else limits.max_string_bytes
            if len(raw) > bound:
                raise _Malformed("string bound")
            values[_STRING_FIELDS[number]] = _utf8(raw)
        else:
            bound = {8: 16, 10: 32, 11: limits.max_credential_bytes}[number]
            if len(raw) > bound:
                raise _Malformed("bytes bound")
            values[_BYTES_FIELDS[number]] = bytes(raw)
    # After the last byte (§3.2): first the version, then presence and exact sizes.
    if "version" not in values:
        raise _Unsupported()
    for required in ("key_id", "principal", "audience", "method"):
        if not values.get(required):
            raise _Malformed("required field missing")
    nonce = values.get("nonce", b"")
    digest = values.get("body_digest", b"")
    if len(nonce) != 16 or len(digest) not in (0, 32) or not values.get("issued_at_ms"):
        raise _Malformed("size")
    return Envelope(
        version=ENVELOPE_VERSION,
        key_id=values["key_id"], principal=values["principal"],
        roles=tuple(r.decode("utf-8") for r in roles),
        on_behalf_of=values.get("on_behalf_of", ""), audience=values["audience"],
        method=values["method"], nonce=nonce, issued_at_ms=values["issued_at_ms"],
        body_digest=digest, credential=values.get("credential", b""),
    )
