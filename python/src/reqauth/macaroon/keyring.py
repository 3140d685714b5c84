"""Macaroon root keys as a file (spec §11.2): reqauth-macaroon-keyring/v1."""
from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Callable, Optional

from ..errors import ReqauthConfigError
from ..keyring import KEY_ID, b64url_decode, b64url_encode
from .chain import mint
from .format import Macaroon
from .identifier import id_from_text, id_text, key_id_of

FORMAT = "reqauth-macaroon-keyring/v1"


@dataclass(frozen=True)
class MacaroonKeys:
    keys: dict[str, bytes]
    active: Optional[str]
    revoked: frozenset[str] = frozenset()

    def root_key(self, identifier: bytes) -> Optional[bytes]:
        kid = key_id_of(identifier)
        return self.keys.get(kid) if kid is not None else None

    def is_revoked(self, identifier: bytes) -> bool:
        return id_text(identifier) in self.revoked


def parse_macaroon_keyring(text: str) -> MacaroonKeys:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        raise ReqauthConfigError("macaroon keyring: not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ReqauthConfigError(f'macaroon keyring: "format" must be {FORMAT}')
    keys = doc.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ReqauthConfigError('macaroon keyring: "keys" must be a non-empty list')
    out: dict[str, bytes] = {}
    active = []
    for n, k in enumerate(keys):
        if not isinstance(k, dict) or not isinstance(k.get("keyId"), str) or not KEY_ID.match(k["keyId"]):
            raise ReqauthConfigError(f"macaroon keyring: keys[{n}].keyId must match [A-Za-z0-9._-]{{1,64}}")
        if k["keyId"] in out:
            raise ReqauthConfigError("macaroon keyring: a key id appears twice")
        if k.get("status") not in ("active", "verify"):
            raise ReqauthConfigError(f'macaroon keyring: keys[{n}].status must be "active" or "verify"')
        out[k["keyId"]] = b64url_decode(k.get("rootKey"), f"keys[{n}].rootKey")
        if k["status"] == "active":
            active.append(k["keyId"])
    if len(active) != 1:
        raise ReqauthConfigError('macaroon keyring: exactly one key must be "active"')
    revoked = doc.get("revoked", [])
    if not isinstance(revoked, list) or not all(isinstance(r, str) and id_from_text(r) is not None for r in revoked):
        raise ReqauthConfigError('macaroon keyring: "revoked" must list identifiers in their text form')
    return MacaroonKeys(out, active[0], frozenset(revoked))


def mint_user_macaroon(keys: MacaroonKeys, location: Optional[str] = None) -> Macaroon:
    """A fresh macaroon under the active key, identifier ``KEYID.RANDOM`` (16 bytes, base64url)."""
    assert keys.active is not None
    ident = f"{keys.active}.{b64url_encode(secrets.token_bytes(16))}"
    return mint(keys.keys[keys.active], ident, location)


class MacaroonKeyringFile:
    """A macaroon keyring file, re-read when it changes; a bad file keeps the previous keys."""

    def __init__(self, path: str, poll_interval_s: float = 1.0, on_error: Optional[Callable[[Exception], None]] = None) -> None:
        self._path, self._on_error = path, on_error
        self._stamp = None
        self._keys = self._load()
        self._stop = threading.Event()
        threading.Thread(target=self._poll, args=(poll_interval_s,), daemon=True).start()

    def _load(self) -> MacaroonKeys:
        st = os.stat(self._path)
        with open(self._path, encoding="utf-8") as f:
            keys = parse_macaroon_keyring(f.read())
        self._stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        return keys

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                st = os.stat(self._path)
                if (st.st_mtime_ns, st.st_size, st.st_ino) != self._stamp:
                    self._keys = self._load()
            except Exception as err:
                self._stamp = None
                if self._on_error:
                    try:
                        self._on_error(ReqauthConfigError(f"macaroon keyring {self._path}: {type(err).__name__}"))
                    except Exception:
                        pass

    def current(self) -> MacaroonKeys:
        return self._keys

    def close(self) -> None:
        self._stop.set()
