"""The envelope's credential field: reqauth.v1.Credential{macaroon} (spec §11, §11.2)."""
from __future__ import annotations
from ..varint import encode_varint, read_varint

from dataclasses import dataclass
from typing import Sequence, Union

from ..crypto import LABELS, hmac_sha256
from .format import Macaroon, MacaroonFormatError, parse_v2, serialize_v2, SIGNATURE_BYTES
from dataclasses import replace

POSSESSION, HANDOFF = "possession", "handoff"
_PRESENTATION_VALUES = {1: POSSESSION, 2: HANDOFF}
MAX_DISCHARGES = 16


@dataclass(frozen=True)
class Presentation:
    """What a client presents: the macaroon *with* its signature (kept, never sent), its
    discharges, each bound to it, and how it is presented."""

    root: Macaroon
    discharges: tuple[Macaroon, ...] = ()
    presentation: str = POSSESSION


@dataclass(frozen=True)
class ReceivedCredential:
    root: Macaroon  # its signature field is 32 zero bytes
    discharges: tuple[Macaroon, ...]
    presentation: str
    proof: bytes


def possession_key(principal_key: bytes, macaroon_signature: bytes) -> bytes:
    return hmac_sha256(principal_key, LABELS.MACAROON_POSSESSION, macaroon_signature)


def possession_proof(key: bytes, nonce: bytes) -> bytes:
    return hmac_sha256(key, LABELS.MACAROON_PROOF, nonce)


def _field(number: int, data: bytes) -> bytes:
    return bytes([number << 3 | 2]) + encode_varint(len(data)) + data


def encode_credential(root_without_signature: Macaroon, discharges: Sequence[Macaroon], presentation: str, proof: bytes) -> bytes:
    inner = _field(1, serialize_v2(replace(root_without_signature, signature=b"\x00" * 32)))
    inner += b"".join(_field(2, serialize_v2(d)) for d in discharges)
    inner += bytes([3 << 3]) + encode_varint({POSSESSION: 1, HANDOFF: 2}[presentation])
    inner += _field(4, proof)
    return _field(1, inner)


def encode_presentation(p: Presentation, principal_key: bytes, nonce: bytes) -> tuple[bytes, bytes]:
    """The credential bytes and the call key (the possession key) for one request."""
    key = possession_key(principal_key, p.root.signature)
    return encode_credential(p.root, p.discharges, p.presentation, possession_proof(key, nonce)), key


class _Bad(Exception):
    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    return read_varint(buf, i, 32, _Bad)


def _len_delimited(buf: bytes, i: int) -> tuple[bytes, int]:
    n, i = _read_varint(buf, i)
    if n > len(buf) - i:
        raise _Bad()
    return bytes(buf[i:i + n]), i + n


def decode_credential(data: bytes) -> Union[ReceivedCredential, str]:
    """Strict (§11): reason ``malformed_credential`` or ``macaroon_signature_sent``."""
    try:
        if not data or data[0] != 0x0A:
            raise _Bad()
        inner, i = _len_delimited(data, 1)
        if i != len(data):
            raise _Bad()
        root = None
        discharges: list[bytes] = []
        presentation = None
        proof = None
        last = 0
        j = 0
        while j < len(inner):
            key = inner[j]
            j += 1
            number, wt = key >> 3, key & 7
            if key & 0x80 or number < 1 or number > 4:
                raise _Bad()
            if number < last or (number == last and number != 2):
                raise _Bad()  # field-number order; discharges contiguous; singular once
            last = number
            if number == 3:
                if wt != 0:
                    raise _Bad()
                presentation, j = _read_varint(inner, j)
                continue
            if wt != 2:
                raise _Bad()
            value, j = _len_delimited(inner, j)
            if number == 1:
                root = value
            elif number == 2:
                discharges.append(value)
                if len(discharges) > MAX_DISCHARGES:
                    raise _Bad()
            else:
                proof = value
        if root is None or presentation not in _PRESENTATION_VALUES or proof is None or len(proof) != 32:
            raise _Bad()
        root_m = parse_v2(root)
        dis = tuple(parse_v2(d) for d in discharges)
    except (_Bad, MacaroonFormatError):
        return "malformed_credential"
    if root_m.signature != b"\x00" * SIGNATURE_BYTES:
        return "macaroon_signature_sent"
    return ReceivedCredential(root_m, dis, _PRESENTATION_VALUES[presentation], proof)
