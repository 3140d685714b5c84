"""A macaroon identifier's one text form (spec §11.3)."""
from __future__ import annotations

import base64
from typing import Optional

PREFIX = "base64url:"


def _unsafe(ch: str) -> bool:
    o = ord(ch)
    return (o <= 0x1F or 0x7F <= o <= 0x9F or o == 0x061C or 0x200E <= o <= 0x200F
            or 0x2028 <= o <= 0x202E or 0x2066 <= o <= 0x2069 or o == 0xFEFF)


def id_text(identifier: bytes) -> str:
    try:
        text = identifier.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text and not text.startswith(PREFIX) and not any(_unsafe(c) for c in text):
        return text
    return PREFIX + base64.urlsafe_b64encode(identifier).rstrip(b"=").decode("ascii")


def id_from_text(text: str) -> Optional[bytes]:
    if text.startswith(PREFIX):
        body = text[len(PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except Exception:
            return None
        return raw if id_text(raw) == text else None
    raw = text.encode("utf-8")
    return raw if id_text(raw) == text else None


def key_id_of(identifier: bytes) -> Optional[str]:
    """The key id an identifier names: its bytes before the first '.', as text (§11.2)."""
    dot = identifier.find(b".")
    if dot <= 0:
        return None
    try:
        return identifier[:dot].decode("ascii")
    except UnicodeDecodeError:
        return None
