"""Keyrings and credentials as files (spec §6.2, §6.3): JSON, keys in unpadded base64url."""
from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Union

from .errors import ReqauthConfigError
from .envelope import canonical_roles
from .keys import derive_audience_key

ROOT_FORMAT = "reqauth-root-keyring/v1"
SERVICE_FORMAT = "reqauth-service-keyring/v1"
CREDENTIAL_FORMAT = "reqauth-credential/v1"
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")


def b64url_decode(text: object, where: str, length: Optional[int] = 32) -> bytes:
    """Unpadded base64url only: no '=', no '+' or '/', no whitespace (spec §6.2)."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise ReqauthConfigError(f"{where} must be unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if length is not None and len(raw) != length:
        raise ReqauthConfigError(f"{where} must hold {length} bytes")
    return raw


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class KeyringData:
    """A root keyring (``secrets``) or a service keyring (``audience`` + ``audience_keys``)."""

    format: str
    active: Optional[str]
    secrets: dict[str, bytes] = field(default_factory=dict)
    audience: Optional[str] = None
    audience_keys: dict[str, bytes] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    denied_key_ids: frozenset[str] = frozenset()
    denied_principals: frozenset[str] = frozenset()


def _obj(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise ReqauthConfigError(f"{where} must be a JSON object")
    return value


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ReqauthConfigError(f"{where} must be a list of non-empty strings")
    return value


def parse_keyring(text: str) -> KeyringData:
    """Strict on what matters (format, key ids, key sizes, one active root key); unknown
    members are ignored. Errors never quote the file (it holds secrets)."""
    try:
        doc = _obj(json.loads(text), "keyring")
    except json.JSONDecodeError:
        raise ReqauthConfigError("keyring: not JSON") from None
    fmt = doc.get("format")
    if fmt not in (ROOT_FORMAT, SERVICE_FORMAT):
        raise ReqauthConfigError(f'keyring: "format" must be {ROOT_FORMAT} or {SERVICE_FORMAT}')
    keys = doc.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ReqauthConfigError('keyring: "keys" must be a non-empty list')
    deny = _obj(doc.get("deny", {}), "keyring: deny")
    denied_keys = frozenset(_strings(deny.get("keyIds", []), "deny.keyIds"))
    denied_principals = frozenset(_strings(deny.get("principals", []), "deny.principals"))
    statuses: dict[str, str] = {}
    material: dict[str, bytes] = {}
    for n, k in enumerate(keys):
        k = _obj(k, f"keys[{n}]")
        kid = k.get("keyId")
        if not isinstance(kid, str) or not KEY_ID.match(kid):
            raise ReqauthConfigError(f"keyring: keys[{n}].keyId must match [A-Za-z0-9._-]{{1,64}}")
        if kid in statuses:
            raise ReqauthConfigError(f"keyring: key id {kid} appears twice")
        status = k.get("status")
        if status not in ("active", "verify"):
            raise ReqauthConfigError(f'keyring: keys[{n}].status must be "active" or "verify"')
        statuses[kid] = status
        member = "secret" if fmt == ROOT_FORMAT else "audienceKey"
        material[kid] = b64url_decode(k.get(member), f"keys[{n}].{member}")
    active = [kid for kid, s in statuses.items() if s == "active"]
    if fmt == ROOT_FORMAT:
        if len(active) != 1:
            raise ReqauthConfigError('keyring: exactly one key must be "active"')
        return KeyringData(fmt, active[0], secrets=material, statuses=statuses,
                           denied_key_ids=denied_keys, denied_principals=denied_principals)
    audience = doc.get("audience")
    if not isinstance(audience, str) or not audience:
        raise ReqauthConfigError('keyring: "audience" must be a non-empty string')
    return KeyringData(fmt, active[0] if active else None, audience=audience, audience_keys=material,
                       statuses=statuses, denied_key_ids=denied_keys, denied_principals=denied_principals)


@dataclass(frozen=True)
class VerificationKeys:
    """What a verifier needs: audience keys by key id and the deny lists. A root keyring is
    reduced to this at load (spec §6.2: a service may load the root keyring); the root secret
    is not kept."""

    audience: str
    generation: int
    _keys: dict[str, bytes]
    denied_key_ids: frozenset[str]
    denied_principals: frozenset[str]

    def audience_key(self, key_id: str) -> Optional[bytes]:
        return self._keys.get(key_id)

    def is_key_denied(self, key_id: str) -> bool:
        return key_id in self.denied_key_ids

    def is_principal_denied(self, principal: str) -> bool:
        return principal in self.denied_principals


_generation = 0
_generation_lock = threading.Lock()


def _next_generation() -> int:
    global _generation
    with _generation_lock:
        _generation += 1
        return _generation


def verification_keys(ring: KeyringData, audience: str) -> VerificationKeys:
    if ring.format == ROOT_FORMAT:
        keys = {kid: derive_audience_key(s, kid, audience) for kid, s in ring.secrets.items()}
    else:
        if ring.audience != audience:
            raise ReqauthConfigError(f"service keyring is for audience {ring.audience!r}, not {audience!r}")
        keys = dict(ring.audience_keys)
    return VerificationKeys(audience, _next_generation(), keys, ring.denied_key_ids, ring.denied_principals)


class StaticKeys:
    """A fixed keyring (tests, or keys the application manages)."""

    def __init__(self, ring: Union[KeyringData, str], audience: str) -> None:
        self._keys = verification_keys(parse_keyring(ring) if isinstance(ring, str) else ring, audience)

    def current(self) -> VerificationKeys:
        return self._keys


class KeyringFile:
    """A keyring file, re-read when it changes (polled), without a restart. A file that fails
    to load keeps the previous keys and calls ``on_error`` (without the file's content); the
    constructor raises if the first load fails: no service starts without keys (§6.2)."""

    def __init__(self, path: str, audience: str, poll_interval_s: float = 1.0,
                 on_error: Optional[Callable[[Exception], None]] = None,
                 on_reload: Optional[Callable[[], None]] = None) -> None:
        self._path, self._audience = path, audience
        self._on_error, self._on_reload = on_error, on_reload
        self._stamp = None
        self._keys = self._load()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(poll_interval_s,), daemon=True)
        self._thread.start()

    def _load(self) -> VerificationKeys:
        st = os.stat(self._path)
        with open(self._path, encoding="utf-8") as f:
            keys = verification_keys(parse_keyring(f.read()), self._audience)
        self._stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        return keys

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                st = os.stat(self._path)
                if (st.st_mtime_ns, st.st_size, st.st_ino) == self._stamp:
                    continue
                self._keys = self._load()
                if self._on_reload:
                    self._on_reload()
            except Exception as err:  # keep the previous keys (§6.2)
                self._stamp = None
                if self._on_error:
                    try:
                        self._on_error(ReqauthConfigError(f"keyring {self._path}: {type(err).__name__}: {err}"))
                    except Exception:
                        pass

    def current(self) -> VerificationKeys:
        return self._keys

    def close(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class ClientCredential:
    key_id: str
    audience: str
    principal: str
    roles: tuple[str, ...]
    principal_key: bytes


def parse_credential(text: str) -> ClientCredential:
    try:
        doc = _obj(json.loads(text), "credential")
    except json.JSONDecodeError:
        raise ReqauthConfigError("credential: not JSON") from None
    if doc.get("format") != CREDENTIAL_FORMAT:
        raise ReqauthConfigError(f'credential: "format" must be {CREDENTIAL_FORMAT}')
    kid = doc.get("keyId")
    if not isinstance(kid, str) or not KEY_ID.match(kid):
        raise ReqauthConfigError("credential: keyId must match [A-Za-z0-9._-]{1,64}")
    for name in ("audience", "principal"):
        if not isinstance(doc.get(name), str) or not doc[name]:
            raise ReqauthConfigError(f'credential: "{name}" must be a non-empty string')
    roles = canonical_roles(_strings(doc.get("roles", []), "credential.roles"))
    return ClientCredential(kid, doc["audience"], doc["principal"], roles,
                            b64url_decode(doc.get("principalKey"), "credential.principalKey"))


def load_credential(path: str) -> ClientCredential:
    with open(path, encoding="utf-8") as f:
        return parse_credential(f.read())


def issue_credential(ring: KeyringData, audience: str, principal: str, roles: Iterable[str] = ()) -> ClientCredential:
    """What ``reqauth derive --principal`` writes, under the root keyring's active key."""
    from .keys import derive_principal_key

    if ring.format != ROOT_FORMAT or ring.active is None:
        raise ReqauthConfigError("issuing a credential needs a root keyring")
    akey = derive_audience_key(ring.secrets[ring.active], ring.active, audience)
    roles = canonical_roles(roles)
    return ClientCredential(ring.active, audience, principal, roles, derive_principal_key(akey, principal, roles))
