"""The HMAC chain (libmacaroons-compatible): mint, attenuate, bind, verify."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Optional, Sequence, Union

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from ..crypto import constant_time_equal, hmac_sha256
from .format import Caveat, Macaroon

_ZERO = b"\x00" * 32


def derive_key(key: bytes) -> bytes:
    """libmacaroons' key generator: HMAC-SHA256 keyed with "macaroons-key-generator"."""
    return hmac_sha256(b"macaroons-key-generator", key)


def _hash2(key: bytes, a: bytes, b: bytes) -> bytes:
    return hmac_sha256(key, hmac_sha256(key, a) + hmac_sha256(key, b))


def _step(sig: bytes, c: Caveat) -> bytes:
    return _hash2(sig, c.vid, c.cid) if c.vid is not None else hmac_sha256(sig, c.cid)


def mint(root_key: bytes, identifier: Union[bytes, str], location: Optional[Union[bytes, str]] = None) -> Macaroon:
    ident = identifier.encode("utf-8") if isinstance(identifier, str) else identifier
    loc = location.encode("utf-8") if isinstance(location, str) else location
    return Macaroon(ident, (), hmac_sha256(derive_key(root_key), ident), loc)


def add_first_party(m: Macaroon, predicate: Union[bytes, str]) -> Macaroon:
    c = Caveat(predicate.encode("utf-8") if isinstance(predicate, str) else predicate)
    return replace(m, caveats=m.caveats + (c,), signature=_step(m.signature, c))


def add_third_party(m: Macaroon, caveat_key: bytes, caveat_id: Union[bytes, str], location: Union[bytes, str],
                    nonce: Optional[bytes] = None) -> Macaroon:
    box = SecretBox(m.signature)
    vid = bytes(box.encrypt(derive_key(caveat_key), nonce or os.urandom(24)))
    cid = caveat_id.encode("utf-8") if isinstance(caveat_id, str) else caveat_id
    loc = location.encode("utf-8") if isinstance(location, str) else location
    c = Caveat(cid, vid, loc)
    return replace(m, caveats=m.caveats + (c,), signature=_step(m.signature, c))


def bind_for_request(root_signature: bytes, discharge: Macaroon) -> Macaroon:
    return replace(discharge, signature=_hash2(_ZERO, root_signature, discharge.signature))


def signature_of(m: Macaroon, root_key: bytes) -> bytes:
    """The chain from the root key over the macaroon's identifier and caveats as they are."""
    sig = hmac_sha256(derive_key(root_key), m.identifier)
    for c in m.caveats:
        sig = _step(sig, c)
    return sig


@dataclass(frozen=True)
class VerifiedCaveat:
    predicate: bytes
    source: str  # "root" or the discharge's index as text
    index: int


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify(root: Macaroon, root_key: bytes, discharges: Sequence[Macaroon]) -> Union[tuple[bytes, list[VerifiedCaveat]], str]:
    """Recomputes the root's signature from its root key (it never comes over the wire),
    checks every discharge, bound to it, and returns (signature, the first-party caveats of
    the root and then the discharges), or a ``macaroon_*`` reason (§11.3 step 3)."""
    ids = [d.identifier for d in discharges]
    if len(set(ids)) != len(ids):
        return "macaroon_discharge_ambiguous"
    root_signature = signature_of(root, root_key)
    by_id = {d.identifier: n for n, d in enumerate(discharges)}
    used: set[int] = set()
    on_stack: set[int] = set()
    found: dict[str, list[VerifiedCaveat]] = {}

    def walk(m: Macaroon, sig: bytes, source: str) -> bytes:
        mine = found.setdefault(source, [])
        for k, c in enumerate(m.caveats):
            if c.vid is None:
                mine.append(VerifiedCaveat(c.cid, source, k))
            else:
                n = by_id.get(c.cid)
                if n is None:
                    raise _Refused("macaroon_discharge_missing")
                if n in on_stack:
                    raise _Refused("macaroon_discharge_cycle")
                if n in used:
                    raise _Refused("macaroon_discharge_reused")
                used.add(n)
                key = None
                if len(c.vid) > 24:
                    try:
                        key = SecretBox(sig).decrypt(c.vid[24:], c.vid[:24])
                    except CryptoError:
                        key = None
                if key is None or len(key) != 32:
                    raise _Refused("macaroon_bad_caveat_key")
                d = discharges[n]
                on_stack.add(n)
                d_sig = walk(d, hmac_sha256(key, d.identifier), str(n))
                on_stack.discard(n)
                if not constant_time_equal(_hash2(_ZERO, root_signature, d_sig), d.signature):
                    raise _Refused("macaroon_bad_signature")
            sig = _step(sig, c)
        return sig

    try:
        walk(root, hmac_sha256(derive_key(root_key), root.identifier), "root")
    except _Refused as r:
        return r.reason
    if len(used) != len(discharges):
        return "macaroon_discharge_unused"
    ordered = found.get("root", []) + [c for n in range(len(discharges)) for c in found.get(str(n), [])]
    return root_signature, ordered
