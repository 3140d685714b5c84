"""The key hierarchy (spec §6.1): root secret -> audience key -> principal key."""
from __future__ import annotations

from typing import Iterable

from .crypto import KEY_BYTES, LABELS, hkdf_sha256, lp
from .envelope import canonical_roles


def audience_key_info(key_id: str, audience: str) -> bytes:
    return LABELS.AUDIENCE_KEY + lp(key_id) + lp(audience)


def principal_key_info(principal: str, roles: Iterable[str]) -> bytes:
    ordered = canonical_roles(roles)
    if len(ordered) > 255:
        raise ValueError("at most 255 roles")
    return LABELS.PRINCIPAL_KEY + lp(principal) + bytes([len(ordered)]) + b"".join(lp(r) for r in ordered)


def derive_audience_key(root_secret: bytes, key_id: str, audience: str) -> bytes:
    return hkdf_sha256(root_secret, b"", audience_key_info(key_id, audience), KEY_BYTES)


def derive_principal_key(audience_key: bytes, principal: str, roles: Iterable[str]) -> bytes:
    return hkdf_sha256(audience_key, b"", principal_key_info(principal, roles), KEY_BYTES)
