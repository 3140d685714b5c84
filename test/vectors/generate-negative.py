#!/usr/bin/python3
"""Writes test/vectors/negative-v1.json: for each refusal the wire can produce, an input and the
reason code docs/spec.md assigns it (spec §8 table, §6.5 order), plus the non-canonical
envelopes §3.2 accepts.

    /usr/bin/python3 test/vectors/generate-negative.py > test/vectors/negative-v1.json

The bytes are built here field by field (so malformed envelopes can be made at all) from
primitives the positive vectors check (envelope-v1.json: HKDF, HMAC, the macaroon chain).
The expected reasons are written by hand from the spec, never computed by a verifier.
Deterministic: fixed nonces, fixed secretbox nonces.
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python", "src"))

from reqauth.crypto import LABELS, hmac_sha256, sha256, u64be  # noqa: E402
from reqauth.keys import derive_audience_key, derive_principal_key  # noqa: E402
from reqauth.macaroon.chain import add_first_party, add_third_party, bind_for_request, mint  # noqa: E402
from reqauth.macaroon.credential import encode_credential, possession_key, possession_proof  # noqa: E402
from reqauth.macaroon.format import Caveat, serialize_v2  # noqa: E402
from reqauth.macaroon.chain import signature_of  # noqa: E402
from dataclasses import replace  # noqa: E402

ROOT = bytes(range(32))
KID = "k20250101T000000-0a1b2c"
AUD = "ledger"
T0 = 1735689600000
NOW = T0 + 60_000
SVC = "/ledger.v1.LedgerService/"
MAC_ROOT_KEY = b"macar00n root key for test vecto"  # 32 bytes
MAC_KID = "m20250101T000000-0d0e0f"
MID = f"{MAC_KID}.c2Vzc2lvbi0wMDAx"

AKEY = derive_audience_key(ROOT, KID, AUD)
STATUS = {"unauthenticated": 16, "permission_denied": 7, "invalid_argument": 3, "unavailable": 14, "internal": 13}
PD = {"macaroon_caveat_refused", "caveat_unknown", "caveat_malformed", "caveat_failed", "caveat_missing", "delegation_mismatch", "no_rule", "missing_role", "principal_not_allowed"}

POLICY = {
    SVC + "GetBalance": {"roles": ["teller", "auditor"]},
    SVC + "Transfer": {"roles": ["teller"]},
    SVC + "ListTransactions": {"roles": ["teller", "auditor"]},
    SVC + "ImportTransactions": {"roles": ["importer"], "principals": ["batch-importer"]},
    SVC + "Reconcile": {"roles": ["auditor"]},
}
KIND = {"GetBalance": "unary", "Transfer": "unary", "ListTransactions": "server_streaming",
        "ImportTransactions": "client_streaming", "Reconcile": "bidi_streaming", "CloseAccount": "unary"}
SINGLE = {"unary", "server_streaming"}


def varint(n):
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def ld(num, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return varint(num << 3 | 2) + varint(len(data)) + data


def vi(num, value):
    return varint(num << 3) + varint(value)


_nonce_counter = [0]


def nonce():
    _nonce_counter[0] += 1
    return hashlib.sha256(b"negative nonce %d" % _nonce_counter[0]).digest()[:16]


def pkey(principal, roles):
    return derive_principal_key(AKEY, principal, roles)


def fields(principal="frontdesk", roles=("teller",), method="Transfer", body=None, n=None, issued=NOW,
           obo="", audience=AUD, credential=b"", key_id=KID, digest=None):
    """The canonical field list [(number, bytes)] of an envelope."""
    kind = KIND.get(method, "unary")
    if digest is None:
        digest = sha256(body if body is not None else MESSAGES[method]) if kind in SINGLE else b""
    f = [(1, vi(1, 1)), (2, ld(2, key_id)), (3, ld(3, principal))]
    f += [(4, ld(4, r)) for r in sorted(roles, key=lambda r: r.encode())]
    if obo:
        f.append((5, ld(5, obo)))
    f += [(6, ld(6, audience)), (7, ld(7, method if method.startswith("/") else SVC + method)),
          (8, ld(8, n if n is not None else nonce())), (9, vi(9, issued))]
    if digest:
        f.append((10, ld(10, digest)))
    if credential:
        f.append((11, ld(11, credential)))
    return f


def join(fs):
    return b"".join(b for _, b in fs)


def mac(key, env):
    return hmac_sha256(key, LABELS.REQUEST_MAC, env)


def value(env, key):
    return {"bin_hex": (env + mac(key, env)).hex()}


def tag(key, header_mac, seq, flags, body):
    return hmac_sha256(key, LABELS.STREAM_TAG, header_mac, u64be(seq), bytes([flags]), body)


def frame(key, header_mac, seq, flags, body):
    return body + bytes([0xFA, 0xFF, 0xFF, 0xFF, 0x0F, 0x21, flags]) + tag(key, header_mac, seq, flags, body)


def tx(i, amount=100):
    t = ld(1, f"tx-{i}") + ld(2, "acc-alice") + ld(3, "acc-bob") + vi(4, amount)
    return ld(1, t)  # {transaction: Transaction}


MESSAGES = {
    "GetBalance": ld(1, "acc-alice"), "Transfer": tx(1), "ListTransactions": ld(1, "acc-alice"),
    "CloseAccount": ld(1, "acc-alice"),
}

VECTORS = []


def status(reason):
    return 7 if reason in PD else 14 if reason == "replay_cache_unavailable" else 3 if reason == "malformed_message" else 16


def add(name, description, step, reason, method="Transfer", metadata=None, message=None, frames=None,
        half_close=True, **extra):
    kind = KIND.get(method, "unary")
    v = {"name": name, "description": description, "method": SVC + method, "call": kind, "metadata": metadata}
    if kind in SINGLE:
        v["message_hex"] = (message if message is not None else MESSAGES[method]).hex()
    else:
        v["frames_hex"] = [f.hex() for f in (frames or [])]
        v["half_close"] = half_close
    v.update(extra)
    if reason is None:
        v["expect"] = {"decision": "allow"}
    else:
        v["expect"] = {"decision": "deny", "reason": reason, "status": status(reason), "step": step}
    VECTORS.append(v)


def simple(name, description, step, reason, fs, key=None, method="Transfer", **kw):
    env = join(fs)
    add(name, description, step, reason, method, [value(env, key or pkey("frontdesk", ("teller",)))], **kw)


FD = pkey("frontdesk", ("teller",))

# ------------------------------------------------------------------ step 1: metadata (§4)
add("no-envelope", "No reqauth-envelope-bin value at all.", "1", "missing_envelope", metadata=[])
env = join(fields())
add("two-envelopes", "Two reqauth-envelope-bin values, both valid.", "1", "duplicate_metadata",
    metadata=[value(env, FD), value(join(fields()), FD)])
add("value-32-bytes", "A value of exactly 32 bytes: a MAC and no envelope.", "1", "malformed_envelope",
    metadata=[{"bin_hex": "00" * 32}])
add("value-as-text", "The value delivered as text (an ASCII metadata value), not binary.", "1",
    "malformed_envelope", metadata=[{"text": "CAESAA"}])
over = join(fields()) + ld(11, b"\x00" * 4000)
assert len(over) > 4096
add("envelope-4097-bytes", "An envelope (value minus its 32-byte MAC) above 4096 bytes; checked before parsing.",
    "1", "oversized_envelope", metadata=[value(over, FD)])

# ------------------------------------------------------------------ step 2: strict parse (§3.2)
def mutate(name, description, reason, fs, step="2", method="Transfer", key=None):
    simple(name, description, step, reason, fs, key=key, method=method)


base = fields()
mutate("unknown-field-12", "Field 12 (varint) appended.", "malformed_envelope", base + [(12, vi(12, 1))])
mutate("unknown-field-max", "Field 536870911 (the stream trailer's key) inside an envelope.", "malformed_envelope",
       fields() + [(0, ld(536870911, b"x"))])
mutate("field-number-0", "A key with field number 0.", "malformed_envelope", fields() + [(0, b"\x02\x00")])
mutate("wire-type-group", "Field 12 as a start-group (wire type 3).", "malformed_envelope", fields() + [(0, b"\x63\x64")])
f = fields()
f[1] = (2, vi(2, 7))
mutate("key-id-as-varint", "key_id with wire type 0.", "malformed_envelope", f)
f = fields()
f[0] = (1, ld(1, b"\x01"))
mutate("version-length-delimited", "version with wire type 2.", "malformed_envelope", f)
f = fields()
mutate("principal-twice", "principal present twice with the same value (protobuf's last-wins).",
       "malformed_envelope", f[:3] + [f[2]] + f[3:])
f = fields(obo="alice")
i5 = [k for k, (n, _) in enumerate(f) if n == 5][0]
mutate("on-behalf-of-twice", "on_behalf_of twice, second value different.", "malformed_envelope",
       f[:i5 + 1] + [(5, ld(5, "mallory"))] + f[i5 + 1:])
f = fields(roles=("auditor", "teller"))
r = [x for x in f if x[0] == 4]
o = [x for x in f if x[0] != 4]
mutate("roles-unsorted", "roles teller, auditor: not in byte order.", "malformed_envelope",
       o[:3] + [r[1], r[0]] + o[3:], key=pkey("frontdesk", ("auditor", "teller")))
mutate("roles-duplicate", "roles teller, teller.", "malformed_envelope", o[:3] + [r[1], r[1]] + o[3:],
       key=pkey("frontdesk", ("auditor", "teller")))
f = fields()
mutate("role-empty", "An empty role before teller.", "malformed_envelope", f[:3] + [(4, ld(4, ""))] + f[3:])
f = fields(roles=("auditor", "teller"), obo="alice")
# roles split by on_behalf_of: 1 2 3 4 5 4 6 ...
r = [x for x in f if x[0] == 4]
o = [x for x in f if x[0] != 4]
simple("accept-roles-split", "roles auditor, then on_behalf_of, then roles teller: split, but in canonical order: accepted.",
       "2", None, o[:3] + [r[0]] + [o[3]] + [r[1]] + o[4:], key=pkey("frontdesk", ("auditor", "teller")))
mutate("roles-split-out-of-order", "roles teller, then on_behalf_of, then roles auditor: out of order across the split.",
       "malformed_envelope", o[:3] + [r[1]] + [o[3]] + [r[0]] + o[4:], key=pkey("frontdesk", ("auditor", "teller")))
f = fields()
f[0] = (1, b"\x08\x81\x00")
mutate("version-non-minimal", "version 1 as the two-byte varint 81 00.", "malformed_envelope", f)
f = fields()
f[1] = (2, b"\x92\x00" + f[1][1][1:])
mutate("key-non-minimal", "key_id's key as the two-byte varint 92 00.", "malformed_envelope", f)
f = fields()
f[2] = (3, b"\x1a\x89\x00" + b"frontdesk")
mutate("length-non-minimal", "principal's length 9 as the two-byte varint 89 00.", "malformed_envelope", f)
f = fields()
f[2] = (3, ld(3, b"front\xffdesk"))
mutate("principal-not-utf8", "principal with the byte FF.", "malformed_envelope", f)
f = fields()
f[2] = (3, ld(3, b"front\xc0\xafdesk"))
mutate("principal-overlong-utf8", "principal with an overlong encoding of '/' (C0 AF).", "malformed_envelope", f)
f = fields()
f[2] = (3, ld(3, b"front\xed\xa0\x80desk"))
mutate("principal-surrogate-utf8", "principal with an encoded UTF-16 surrogate (ED A0 80).", "malformed_envelope", f)
mutate("length-past-end", "A credential whose length runs past the end.", "malformed_envelope",
       fields() + [(11, b"\x5a\x05\x01")])
mutate("truncated-varint", "A key varint cut at the end (a lone 80).", "malformed_envelope", fields() + [(0, b"\x80")])
f = fields()
f = [x for x in f if x[0] != 9] + [(9, b"\x48" + b"\xff" * 9 + b"\x7f")]
mutate("issued-at-varint-overflow", "issued_at_ms as a 10-byte varint above 2^64-1.", "malformed_envelope", f)
f = [x for x in fields() if x[0] != 9] + [(9, b"\x48" + b"\xff" * 10 + b"\x01")]
mutate("issued-at-varint-11-bytes", "issued_at_ms as an 11-byte varint.", "malformed_envelope", f)
f = [x for x in fields() if x[0] != 9] + [(9, vi(9, 2**53))]
mutate("issued-at-2^53", "issued_at_ms 2^53: above the bound 2^53-1.", "malformed_envelope", f)
f = [x for x in fields() if x[0] != 9] + [(9, vi(9, 0))]
mutate("issued-at-zero", "issued_at_ms 0 written out.", "malformed_envelope", f)
for missing, label in ((2, "key-id"), (3, "principal"), (6, "audience"), (7, "method"), (8, "nonce"), (9, "issued-at")):
    mutate(f"missing-{label}", f"The envelope without field {missing}.", "malformed_envelope",
           [x for x in fields() if x[0] != missing])
f = fields()
f[1] = (2, ld(2, ""))
mutate("key-id-empty", "key_id written out empty.", "malformed_envelope", f)
for number, label, size in ((2, "key-id", 257), (3, "principal", 257), (5, "on-behalf-of", 257),
                            (6, "audience", 257), (7, "method", 513)):
    f = fields(obo="alice")
    idx = [k for k, (n, _) in enumerate(f) if n == number][0]
    f[idx] = (number, ld(number, "a" * size))
    mutate(f"{label}-{size}-bytes", f"{label.replace('-', '_')} of {size} bytes (bound {size - 1}).",
           "malformed_envelope", f)
f = fields()
f[3] = (4, ld(4, "t" * 257))
mutate("role-257-bytes", "A role of 257 bytes.", "malformed_envelope", f)
roles17 = tuple(f"r{i:02d}" for i in range(17))
mutate("roles-17", "17 roles (bound 16).", "malformed_envelope", fields(roles=roles17))
for size in (15, 17, 0):
    f = fields()
    idx = [k for k, (n, _) in enumerate(f) if n == 8][0]
    f[idx] = (8, ld(8, b"\x00" * size))
    mutate(f"nonce-{size}-bytes", f"nonce of {size} bytes (exactly 16).", "malformed_envelope", f)
f = fields(digest=b"\x01" * 31)
mutate("digest-31-bytes", "body_digest of 31 bytes.", "malformed_envelope", f)
f = fields(credential=b"\x00" * 3073)
mutate("credential-3073-bytes", "credential of 3073 bytes (bound 3072; the envelope is under 4096).",
       "malformed_envelope", f)
# version
f = fields()
mutate("version-2", "version 2.", "unsupported_version", [(1, vi(1, 2))] + f[1:])
mutate("version-0-written", "version 0 written out.", "unsupported_version", [(1, vi(1, 0))] + f[1:])
mutate("version-missing", "No version field: a missing version is version 0.", "unsupported_version", f[1:])
mutate("version-2^32+1", "version 4294967297: not truncated to 32 bits (which would read 1).",
       "unsupported_version", [(1, b"\x08\x81\x80\x80\x80\x10")] + f[1:])
mutate("version-2-then-unknown-field", "version 2 first, then a field v1 does not know: the version decides.",
       "unsupported_version", [(1, vi(1, 2))] + f[1:] + [(12, vi(12, 1))])
mutate("unknown-field-then-version-2", "A field v1 does not know, then version 2: the parse fails first.",
       "malformed_envelope", [(12, vi(12, 1)), (1, vi(1, 2))] + f[1:])
mutate("version-1-then-2", "version 1, then version 2: a repeated field.", "malformed_envelope",
       [(1, vi(1, 1)), (1, vi(1, 2))] + f[1:])
mutate("nonce-short-then-version-2", "A 15-byte nonce, then version 2: sizes are checked after the last byte.",
       "unsupported_version", [(8, ld(8, b"\x00" * 15)), (1, vi(1, 2))])
mutate("key-id-257-then-version-2", "A 257-byte key_id, then version 2: bounds are checked as each field is read.",
       "malformed_envelope", [(2, ld(2, "a" * 257)), (1, vi(1, 2))])
mutate("only-key-id", "Only a key_id: no version is checked before the required fields.", "unsupported_version",
       [fields()[1]])

# non-canonical but unambiguous: accepted (§3.2)
f = fields()
simple("accept-fields-out-of-order", "principal before key_id, version last: accepted (MAC over the bytes received).",
       "2", None, [f[2], f[1]] + f[3:] + [f[0]])
f = fields()
idx = [k for k, (n, _) in enumerate(f) if n == 6][0]
simple("accept-empty-on-behalf-of-written", "on_behalf_of written out empty: accepted, no user.", "2", None,
       f[:idx] + [(5, ld(5, ""))] + f[idx:])
simple("accept-empty-credential-written", "credential written out empty: accepted, no credential.", "2", None,
       fields() + [(11, ld(11, b""))])
f = fields(roles=("auditor", "teller"))
r = [x for x in f if x[0] == 4]
o = [x for x in f if x[0] != 4]
simple("accept-roles-run-at-end", "The roles as one run after every other field: accepted.", "2", None, o + r,
       key=pkey("frontdesk", ("auditor", "teller")))

# server's own values
mutate("wrong-audience", "Audience billing on a ledger server (signed with billing's key).", "wrong_audience",
       fields(audience="billing"), key=derive_principal_key(derive_audience_key(ROOT, KID, "billing"), "frontdesk", ("teller",)))
f = fields(method="GetBalance", body=MESSAGES["Transfer"])
simple("wrong-method", "Signed for GetBalance, sent on Transfer.", "2", "wrong_method", f)
mutate("empty-digest-single", "A unary call without body_digest.", "bad_digest", [x for x in fields() if x[0] != 10])
bi = pkey("batch-importer", ())
ff = fields(principal="batch-importer", roles=(), method="ImportTransactions", digest=b"\x01" * 32)
env = join(ff)
add("digest-on-stream", "A client-streaming call whose envelope carries a body_digest.", "2", "unexpected_digest",
    "ImportTransactions", [value(env, bi)], frames=[])
simple("wrong-audience-and-bad-mac", "Wrong audience and a MAC under no key: step 2 refuses before step 3.", "2",
       "wrong_audience", fields(audience="billing"))

simple("wrong-audience-and-method", "Wrong audience and wrong method: the audience is compared first.", "2",
       "wrong_audience", fields(audience="billing", method="GetBalance", body=MESSAGES["Transfer"]))
simple("wrong-method-and-no-digest", "Wrong method and no body_digest: the method is compared before the digest's presence.",
       "2", "wrong_method", [x for x in fields(method="GetBalance") if x[0] != 10])

# ------------------------------------------------------------------ step 3: key and MAC
simple("unknown-key-id", "key_id k-unknown, not in the keyring.", "3", "unknown_key", fields(key_id="k-unknown"))
simple("revoked-key-id", "The key id is on the deny list.", "3", "revoked_key", fields(),
       keyring={"deny_key_ids": [KID]})
simple("unknown-and-denied-key-id", "A key id that is both absent from the keyring and denied: unknown_key.", "3",
       "unknown_key", fields(key_id="k-unknown"), keyring={"deny_key_ids": ["k-unknown"]})
env = join(fields())
m = bytearray(mac(FD, env))
m[0] ^= 1
add("mac-flipped", "The MAC's first byte flipped.", "3", "bad_mac", metadata=[{"bin_hex": (env + bytes(m)).hex()}])
simple("role-added", "The envelope claims roles auditor and teller; the credential grants teller: the MAC fails.",
       "3", "bad_mac", fields(roles=("auditor", "teller")))
f = fields(obo="alice")
signed = join(f)
f2 = [(n, ld(5, "alicf")) if n == 5 else (n, b) for n, b in f]
add("on-behalf-of-changed", "on_behalf_of alice changed to alicf after signing.", "3", "bad_mac",
    metadata=[{"bin_hex": (join(f2) + mac(FD, signed)).hex()}])

# ------------------------------------------------------------------ step 4: authenticated header
simple("revoked-principal", "The principal is on the deny list.", "4", "revoked_principal", fields(),
       keyring={"deny_principals": ["frontdesk"]})
simple("revoked-principal-and-expired", "Denied and expired: the deny list is checked first.", "4",
       "revoked_principal", fields(issued=NOW - 120_001), keyring={"deny_principals": ["frontdesk"]})
simple("expired", "issued_at_ms = now - max_age - 1.", "4", "expired", fields(issued=NOW - 120_001))
simple("accept-oldest", "issued_at_ms = now - max_age: accepted.", "4", None, fields(issued=NOW - 120_000))
simple("issued-in-future", "issued_at_ms = now + max_future + 1.", "4", "issued_in_future", fields(issued=NOW + 30_001))
simple("accept-latest", "issued_at_ms = now + max_future: accepted.", "4", None, fields(issued=NOW + 30_000))
simple("credential-not-accepted", "Any non-empty credential on a verifier that accepts no macaroons.", "4",
       "credential_not_accepted", fields(credential=b"\x0a\x00"))
simple("expired-with-credential", "Expired and carrying a credential: the time window first.", "4", "expired",
       fields(issued=NOW - 120_001, credential=b"\x0a\x00"))
simple("credential-not-accepted-before-policy", "A credential on a method without a rule: credential first.", "4",
       "credential_not_accepted", fields(method="CloseAccount", credential=b"\x0a\x00"), method="CloseAccount")
simple("no-rule", "CloseAccount has no access rule.", "4", "no_rule", fields(method="CloseAccount"), method="CloseAccount")
f = fields(method="CloseAccount")
add("no-rule-with-tampered-body", "A method without a rule and a tampered body: policy on the header, before the message.",
    "4", "no_rule", "CloseAccount", [value(join(f), FD)], message=ld(1, "acc-bob"))
simple("missing-role", "frontdesk [teller] calls Reconcile (roles auditor).", "4", "missing_role",
       fields(method="Reconcile"), method="Reconcile", frames=[])
ff = fields(principal="someone", roles=(), method="ImportTransactions")
add("principal-not-allowed-with-roles", "A principal without roles on ImportTransactions (roles importer, principals batch-importer): the rule lists roles.",
    "4", "missing_role", "ImportTransactions", [value(join(ff), pkey("someone", ()))], frames=[])
add_policy = {SVC + "GetBalance": {"principals": ["auditor-bot"]}}
simple("principal-not-allowed", "GetBalance allowed to principal auditor-bot only (policy override).", "4",
       "principal_not_allowed", fields(method="GetBalance"), method="GetBalance", policy=add_policy)
# replay
n1 = nonce()
f = fields(n=n1)
first = {"method": SVC + "Transfer", "call": "unary", "metadata": [value(join(f), FD)], "message_hex": MESSAGES["Transfer"].hex()}
add("replayed-nonce", "The same request twice: the first is accepted.", "4", "replayed_nonce",
    metadata=[value(join(f), FD)], prior=[first])
add("replayed-with-tampered-body", "A replay with a tampered body: the header's replay check comes first.", "4",
    "replayed_nonce", metadata=[value(join(f), FD)], message=tx(1, 101), prior=[first])
f2 = fields(n=n1, method="CloseAccount")
add("policy-before-replay", "A remembered nonce on a method without a rule: no_rule, never replayed_nonce.", "4",
    "no_rule", "CloseAccount", [value(join(f2), FD)], prior=[first])
f3 = fields(n=n1, method="GetBalance")
add("same-nonce-other-request", "A new request (GetBalance) reusing a remembered nonce of the same principal.", "4",
    "replayed_nonce", "GetBalance", [value(join(f3), FD)], prior=[first])
add("nonce-forgotten-after-restart", "Issued 1 ms before the store started (a store that starts empty).", "4",
    "nonce_forgotten", metadata=[value(join(fields(issued=NOW - 1)), FD)], store_start_ms=NOW)
add("accept-at-store-start", "Issued at the store's start: accepted.", "4", None,
    metadata=[value(join(fields(issued=NOW)), FD)], store_start_ms=NOW)

# ------------------------------------------------------------------ macaroons (§11)
def macaroon(caveats, ident=MID):
    m = mint(MAC_ROOT_KEY, ident, "tokens")
    for c in caveats:
        m = add_first_party(m, c)
    return m


def present(m, principal_key, n, discharges=(), presentation="possession", proof=None, sig_sent=False):
    key = possession_key(principal_key, m.signature)
    root = m if sig_sent else m
    cred = encode_credential(root, discharges, presentation, proof or possession_proof(key, n))
    if sig_sent:
        # the root with its signature in place of the 32 zero bytes
        zero = serialize_v2(replace(m, signature=b"\x00" * 32))
        cred = cred.replace(zero, serialize_v2(m))
    return cred, key


MK = {"keys": {MAC_KID: MAC_ROOT_KEY.hex()}}
USER = ["user alice", "roles customer", "presenter frontdesk"]


def mac_vector(name, description, reason, caveats=USER, obo="", presentation="possession", macaroons=MK,
               proof=None, sig_sent=False, discharges=(), ident=MID, cred=None, method="Transfer", principal="frontdesk",
               roles=("teller",)):
    n = nonce()
    m = macaroon(caveats, ident)
    k = pkey(principal, roles)
    if cred is None:
        cred, _ = present(m, k, n, discharges, presentation, proof, sig_sent)
    f = fields(principal=principal, roles=roles, n=n, obo=obo, credential=cred, method=method)
    add(name, description, "4", reason, method, [value(join(f), k)], macaroons=macaroons)


mac_vector("macaroon-accepted", "alice's macaroon presented by frontdesk, on_behalf_of alice.", None, obo="alice")
mac_vector("credential-not-a-credential", "Credential bytes 0A 00: a Credential with an empty MacaroonCredential.",
           "malformed_credential", cred=b"\x0a\x00")
n_ = nonce()
good, _ = present(macaroon(USER), FD, n_)
mac_vector("credential-trailing-field", "A valid credential followed by field 2 of Credential.", "malformed_credential",
           cred=good + b"\x12\x00")
mac_vector("credential-macaroon-v1", "The root in V1 (base64 text) form.", "malformed_credential",
           cred=ld(1, ld(1, b"MDAxY2xvY2F0aW9uIGh0dHA6Ly9teWJhbmsvCg") + vi(3, 1) + ld(4, b"\x00" * 32)))
mac_vector("credential-presentation-unspecified", "presentation 0 written out.", "malformed_credential",
           cred=ld(1, ld(1, serialize_v2(replace(macaroon(USER), signature=b"\x00" * 32))) + vi(3, 0) + ld(4, b"\x00" * 32)))
mac_vector("credential-proof-31-bytes", "A 31-byte proof.", "malformed_credential",
           cred=ld(1, ld(1, serialize_v2(replace(macaroon(USER), signature=b"\x00" * 32))) + vi(3, 1) + ld(4, b"\x00" * 31)))
mac_vector("credential-fields-out-of-order", "presentation before root.", "malformed_credential",
           cred=ld(1, vi(3, 1) + ld(1, serialize_v2(replace(macaroon(USER), signature=b"\x00" * 32))) + ld(4, b"\x00" * 32)))
mac_vector("macaroon-signature-sent", "The root carries its real signature instead of 32 zero bytes.",
           "macaroon_signature_sent", sig_sent=True)
mac_vector("handoff-not-accepted", "A hand-off to a verifier not configured for hand-offs.", "handoff_not_accepted",
           caveats=["user alice", "presenter frontdesk", "presenter ledger"], presentation="handoff")
mac_vector("unknown-macaroon-key", "The identifier names key m-other.", "unknown_macaroon_key",
           ident="m-other.c2Vzc2lvbi0wMDAx")
mac_vector("identifier-without-dot", "The identifier names no key (no '.').", "unknown_macaroon_key",
           ident=MAC_KID)
mac_vector("macaroon-bad-proof", "A proof of 32 zero bytes.", "macaroon_bad_proof", proof=b"\x00" * 32)
revoked = dict(MK, revoked=[MID])
mac_vector("revoked-macaroon", "The identifier is revoked.", "revoked_macaroon", macaroons=revoked)
# discharges
CAVEAT_KEY = b"third party caveat key, 32 bytes"
root3 = add_third_party(macaroon(USER), CAVEAT_KEY, "mfa-verified alice", "tokens", nonce=b"\x00" * 24)
dis = add_first_party(mint(CAVEAT_KEY, "mfa-verified alice", "tokens"), "expires 2025-01-01T00:05:00Z")


def mac_vector_m(name, description, reason, root, discharges, obo=""):
    n = nonce()
    cred, _ = present(root, FD, n, discharges)
    f = fields(n=n, obo=obo, credential=cred)
    add(name, description, "4", reason, "Transfer", [value(join(f), FD)], macaroons=MK)


mac_vector_m("discharge-accepted", "A third-party caveat and its discharge, bound to the root.", None, root3,
             [bind_for_request(root3.signature, dis)])
mac_vector_m("discharge-missing", "A third-party caveat without its discharge.", "macaroon_discharge_missing", root3, [])
mac_vector_m("discharge-not-bound", "The discharge sent unbound.", "macaroon_bad_signature", root3, [dis])
mac_vector_m("discharge-unused", "A discharge no caveat asks for.", "macaroon_discharge_unused", macaroon(USER),
             [bind_for_request(macaroon(USER).signature, dis)])
mac_vector_m("discharge-duplicated", "The same discharge twice.", "macaroon_discharge_ambiguous", root3,
             [bind_for_request(root3.signature, dis)] * 2)
# a third-party caveat whose vid does not decrypt under the chain's signature
bad_vid_root = macaroon(USER)
bad_vid_root = replace(bad_vid_root, caveats=bad_vid_root.caveats + (Caveat(b"mfa-verified alice", b"\x00" * 72, b"tokens"),))
bad_vid_root = replace(bad_vid_root, signature=signature_of(bad_vid_root, MAC_ROOT_KEY))
mac_vector_m("discharge-bad-caveat-key", "A third-party caveat whose verification id does not open under the chain.",
             "macaroon_bad_caveat_key", bad_vid_root, [bind_for_request(bad_vid_root.signature, dis)])
root_twice = add_third_party(root3, CAVEAT_KEY, "mfa-verified alice", "tokens", nonce=b"\x01" * 24)
mac_vector_m("discharge-reused", "Two third-party caveats with one caveat id, one discharge.", "macaroon_discharge_reused",
             root_twice, [bind_for_request(root_twice.signature, dis)])
dis_cycle = add_third_party(mint(CAVEAT_KEY, "mfa-verified alice", "tokens"), CAVEAT_KEY, "mfa-verified alice", "tokens",
                            nonce=b"\x02" * 24)
mac_vector_m("discharge-cycle", "A discharge whose own third-party caveat asks for itself.", "macaroon_discharge_cycle",
             root3, [bind_for_request(root3.signature, dis_cycle)])
dis_late = add_first_party(mint(CAVEAT_KEY, "mfa-verified alice", "tokens"), "expires 2025-01-01T00:00:59Z")
mac_vector_m("discharge-caveat-expired", "The discharge's expires caveat has passed.", "caveat_failed", root3,
             [bind_for_request(root3.signature, dis_late)])
# caveats
mac_vector("caveat-expired", "expires before now.", "caveat_failed",
           caveats=USER + ["expires 2025-01-01T00:00:59.999Z"])
mac_vector("caveat-unknown", "An unregistered caveat name.", "caveat_unknown", caveats=USER + ["tenant acme"])
mac_vector("caveat-malformed-time", "expires with an offset instead of Z.", "caveat_malformed",
           caveats=USER + ["expires 2026-01-01T00:00:00+00:00"])
mac_vector("caveat-method", "method limited to GetBalance; the request is Transfer.", "caveat_failed",
           caveats=USER + ["method /ledger.v1.LedgerService/GetBalance"])
mac_vector("caveat-audience", "audience billing only.", "caveat_failed", caveats=USER + ["audience billing"])
mac_vector("caveat-other-presenter", "The last presenter is web, not frontdesk.", "caveat_failed",
           caveats=["user alice", "presenter frontdesk", "presenter web"])
mac_vector("caveat-no-presenter", "No presenter caveat.", "caveat_missing", caveats=["user alice"])
mac_vector("caveat-no-user", "No user caveat (a verifier requires one by default).", "caveat_missing",
           caveats=["presenter frontdesk"])
mac_vector("caveat-request-key", "request-key names another key id.", "caveat_failed",
           caveats=USER + ["request-key k-other"])
mac_vector("user-mismatch", "on_behalf_of bob with alice's macaroon.", "user_mismatch", obo="bob")
mac_vector("handoff-accepted", "frontdesk hands alice's macaroon to ledger (self).", None,
           caveats=["user alice", "presenter frontdesk", "presenter ledger"], presentation="handoff",
           macaroons=dict(MK, accept_handoff=True, self="ledger"))
mac_vector("delegation-mismatch", "A hand-off whose sender is not the presenter named before ledger.",
           "delegation_mismatch", caveats=["user alice", "presenter web", "presenter ledger"], presentation="handoff",
           macaroons=dict(MK, accept_handoff=True, self="ledger"))
mac_vector("macaroon-before-policy", "A macaroon with an unsatisfied caveat on a method without a rule: the credential first.",
           "caveat_failed", caveats=USER + ["audience billing"], method="CloseAccount")

# ------------------------------------------------------------------ step 5: messages
f = fields()
tam = bytearray(MESSAGES["Transfer"])
tam[-1] ^= 1
add("tampered-body", "The unary message's last byte flipped.", "5", "bad_digest", metadata=[value(join(f), FD)],
    message=bytes(tam))
f = fields(method="ListTransactions", roles=("teller",))
add("tampered-body-server-streaming", "A server-streaming call's message changed.", "5", "bad_digest",
    "ListTransactions", [value(join(f), FD)], message=ld(1, "acc-bob"))


def stream(name, description, reason, build, method="ImportTransactions", principal="batch-importer", roles=(),
           half_close=True, at=None, key_override=None):
    k = pkey(principal, roles)
    f = fields(principal=principal, roles=roles, method=method)
    env = join(f)
    hm = mac(k, env)
    frames = build(k, hm)
    extra = {}
    if at is not None:
        extra["frame"] = at
    add(name, description, "5", reason, method, [value(env, k)], frames=frames, half_close=half_close)
    if reason is not None:
        VECTORS[-1]["expect"]["at"] = at if at is not None else "half_close"


B = [tx(i) for i in range(3)]


def honest(k, hm, bodies=B):
    return [frame(k, hm, i, 0, b) for i, b in enumerate(bodies)] + [frame(k, hm, len(bodies), 1, b"")]


stream("stream-accepted", "Three tagged messages and the end marker.", None, honest)
stream("stream-zero-messages", "The end marker alone.", None, lambda k, hm: honest(k, hm, []))
stream("stream-truncated", "The end marker dropped; the client half-closes.", "stream_truncated", lambda k, hm: honest(k, hm)[:-1])
stream("stream-truncated-empty", "No frame at all, then a half-close.", "stream_truncated", lambda k, hm: [])
stream("stream-message-dropped", "Message 1 dropped: message 2 arrives at seq 1.", "bad_stream_tag",
       lambda k, hm: [honest(k, hm)[0]] + honest(k, hm)[2:], at=1)
stream("stream-reordered", "Messages 0 and 1 swapped.", "bad_stream_tag", lambda k, hm: [honest(k, hm)[1], honest(k, hm)[0]] + honest(k, hm)[2:], at=0)
stream("stream-duplicated", "Message 0 sent twice.", "bad_stream_tag", lambda k, hm: [honest(k, hm)[0]] + honest(k, hm), at=1)
stream("stream-body-flipped", "A byte of message 1's body flipped.", "bad_stream_tag",
       lambda k, hm: [f if i != 1 else bytes([f[0] ^ 1]) + f[1:] for i, f in enumerate(honest(k, hm))], at=1)
stream("stream-flags-flipped", "Message 0's flags changed to 01 (tag unchanged).", "bad_stream_tag",
       lambda k, hm: [honest(k, hm)[0][:-33] + b"\x01" + honest(k, hm)[0][-32:]] + honest(k, hm)[1:], at=0)
stream("stream-flags-2-well-tagged", "A frame with flags 02 and a tag computed over them.", "bad_stream_tag",
       lambda k, hm: [frame(k, hm, 0, 2, B[0])], at=0)
stream("stream-end-marker-with-body", "An end marker (flags 01) carrying a body, well tagged.", "bad_stream_tag",
       lambda k, hm: [frame(k, hm, 0, 1, B[0])], at=0)
stream("stream-other-call", "A frame tagged for another call (another header MAC).", "bad_stream_tag",
       lambda k, hm: [frame(k, b"\x00" * 32, 0, 0, B[0])] + honest(k, hm)[1:], at=0)
stream("stream-no-trailer", "A frame without a trailer (the bare message).", "missing_stream_tag",
       lambda k, hm: [B[0]], at=0)
stream("stream-short-frame", "A 38-byte frame.", "missing_stream_tag", lambda k, hm: [b"\x00" * 38], at=0)
stream("stream-wrong-trailer-length", "The trailer's length byte 20 instead of 21.", "missing_stream_tag",
       lambda k, hm: [honest(k, hm)[0][:-34] + b"\x20" + honest(k, hm)[0][-33:]], at=0)
stream("stream-after-end", "A message after the end marker.", "message_after_end",
       lambda k, hm: honest(k, hm) + [frame(k, hm, 4, 0, B[0])], at=4)
stream("stream-after-end-garbage", "Bytes without a trailer after the end marker.", "message_after_end",
       lambda k, hm: honest(k, hm) + [b"x"], at=4)
stream("bidi-accepted", "Reconcile (bidi) with two messages.", None, lambda k, hm: honest(k, hm, B[:2]),
       method="Reconcile", principal="auditor-bot", roles=("auditor",))
stream("bidi-truncated", "Reconcile without its end marker.", "stream_truncated", lambda k, hm: honest(k, hm, B[:2])[:-1],
       method="Reconcile", principal="auditor-bot", roles=("auditor",))
# a stream with a macaroon: tags under the possession key
n = nonce()
mm = macaroon(["user alice", "presenter batch-importer"])
bik = pkey("batch-importer", ())
cred, poss = present(mm, bik, n)
f = fields(principal="batch-importer", roles=(), method="ImportTransactions", n=n, credential=cred)
env = join(f)
hm = mac(bik, env)
add("stream-macaroon-accepted", "A macaroon call's stream: tags under the possession key.", "5", None, "ImportTransactions",
    [value(env, bik)], frames=honest(poss, hm), macaroons=MK)
n = nonce()
cred, poss = present(mm, bik, n)
f = fields(principal="batch-importer", roles=(), method="ImportTransactions", n=n, credential=cred)
env = join(f)
hm = mac(bik, env)
add("stream-macaroon-principal-key-tags", "A macaroon call whose tags are under the principal key.", "5",
    "bad_stream_tag", "ImportTransactions", [value(env, bik)], frames=honest(bik, hm), macaroons=MK)
VECTORS[-1]["expect"]["at"] = 0

VECTORS = [v for v in VECTORS if v]
doc = {
    "source": "reqauth wire specification v1, docs/spec.md §8 (reason codes), §6.5 (order); generated by test/vectors/generate-negative.py",
    "description": (
        "Each vector is one call as a verifier receives it, and the decision the spec requires. Common inputs are in "
        "'setup'; a vector may override server_time_ms, store_start_ms (the replay store starts empty then, §6.4), "
        "keyring deny lists, policy rules (merged over setup.policy), and macaroons (a macaroon keyring: key id -> "
        "root key hex, revoked identifiers, accept_handoff and self; without it the verifier accepts no credential). "
        "metadata lists the values of reqauth-envelope-bin: bin_hex (binary) or text (delivered as text). "
        "message_hex is the single request message; frames_hex the request stream's frames in order, then a half-close "
        "when half_close is true. 'prior' calls are made first, on the same verifier, and are accepted. "
        "expect.decision is allow or deny; a denial names reason, status (gRPC code) and the §6.5 step; for request "
        "streams, expect.at is the index of the refused frame or 'half_close'. Public methods and malformed_message "
        "(which needs the method's message type) are binding-level and not here."),
    "setup": {
        "root_secret_hex": ROOT.hex(), "key_id": KID, "audience": AUD, "server_time_ms": NOW,
        "store_start_ms": 0, "max_age_ms": 120000, "max_future_ms": 30000, "policy": POLICY,
    },
    "vectors": VECTORS,
}
json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
