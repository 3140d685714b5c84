"""Protobuf-style varints, as every strict reader in this package takes them (spec §3.2, §11):
minimal (no trailing zero byte), bounded in length and value. One reader, three bounds: the
envelope's (64 bits), the credential's (32 bits) and the macaroon V2 format's (35 bits)."""


def encode_varint(n: int) -> bytes:
    if n < 0:
        raise ValueError("varint: negative")
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(buf: bytes, i: int, max_bits: int, error: type) -> "tuple[int, int]":
    """The minimal varint at ``buf[i:]`` whose value is below 2**max_bits, and the index after
    it; raises ``error(reason)`` otherwise (past the end, too long, too large, non-minimal)."""
    value, shift, start = 0, 0, i
    max_bytes = (max_bits + 6) // 7
    while True:
        if i >= len(buf):
            raise error("varint runs past the end")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if i - start >= max_bytes:
            raise error("varint too long")
    if value >= 1 << max_bits:
        raise error("varint too large")
    if i - start > 1 and buf[i - 1] == 0:
        raise error("non-minimal varint")
    return value, i
