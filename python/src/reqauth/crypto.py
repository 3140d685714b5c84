"""Primitives and domain separation (spec §2)."""
from __future__ import annotations

import hashlib
import hmac
import os
import struct

KEY_BYTES = 32
MAC_BYTES = 32
DIGEST_BYTES = 32
NONCE_BYTES = 16


def _label(text: str) -> bytes:
    return text.encode("ascii") + b"\x00"


class LABELS:
    AUDIENCE_KEY = _label("reqauth/v1 audience key")
    PRINCIPAL_KEY = _label("reqauth/v1 principal key")
    REQUEST_MAC = _label("reqauth/v1 request mac")
    STREAM_TAG = _label("reqauth/v1 stream tag")
    MACAROON_POSSESSION = _label("reqauth/v1 macaroon possession")
    MACAROON_PROOF = _label("reqauth/v1 macaroon proof")
    RESPONSE_TAG = _label("reqauth/v1 response tag")
    RESPONSE_END = _label("reqauth/v1 response end")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, *parts: bytes) -> bytes:
    h = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        h.update(p)
    return h.digest()


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869. An empty salt is HashLen zero bytes (§2.2)."""
    if length > 255 * 32:
        raise ValueError("hkdf: length too large")
    prk = hmac_sha256(salt or b"\x00" * 32, ikm)
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac_sha256(prk, block, info, bytes([counter]))
        out += block
        counter += 1
    return out[:length]


def lp(text: str) -> bytes:
    """A string in a KDF input: its UTF-8 bytes after their length as u16 big-endian."""
    data = text.encode("utf-8")
    if len(data) > 0xFFFF:
        raise ValueError("lp: string longer than 65535 bytes")
    return struct.pack(">H", len(data)) + data


def u64be(n: int) -> bytes:
    return struct.pack(">Q", n)


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def random_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)
