"""Macaroons: published vectors, pymacaroons as an independent implementation, the caveat
vocabulary (docs/macaroon-caveats.md) and the credential's strict form."""
import base64
import unittest

from support import vectors

from reqauth.macaroon import (CaveatContext, Macaroon, add_first_party, add_third_party, authorize_caveats,
                              bind_for_request, decode_credential, id_from_text, id_text, mint, parse_time,
                              parse_token, parse_v2, serialize_token, serialize_v2, verify)
from reqauth.macaroon.chain import VerifiedCaveat

PY = vectors("macaroon/pymacaroons.json")


def build(case):
    m = mint(case["key"].encode(), case["identifier"], case["location"])
    for c in case["caveats"]:
        if "first_party" in c:
            m = add_first_party(m, c["first_party"])
        else:
            t = c["third_party"]
            m = add_third_party(m, t["key"].encode(), t["identifier"], t["location"], nonce=bytes.fromhex(t["nonce"]))
    return m


class PublishedVectors(unittest.TestCase):
    def test_pymacaroons_signatures(self):
        for case in PY["cases"]:
            with self.subTest(case["name"]):
                m = build(case)
                self.assertEqual(m.signature.hex(), case["signature"])
                if "vid_base64" in case:
                    self.assertEqual(base64.b64encode([c for c in m.caveats if c.third_party][0].vid).decode(), case["vid_base64"])
                if "discharge" in case:
                    d = case["discharge"]
                    dm = build(dict(d, caveats=d["caveats"]))
                    self.assertEqual(bind_for_request(m.signature, dm).signature.hex(), d["bound_signature"])
                    result = verify(m, case["key"].encode(), [bind_for_request(m.signature, dm)])
                    self.assertIsInstance(result, tuple)
                    self.assertEqual([c.predicate.decode() for c in result[1]], case["satisfy_exact"])

    def test_go_macaroon_v2(self):
        doc = vectors("macaroon/go-macaroon.json")
        for case in doc["cases"]:
            if case["format"] != "v2":
                continue
            root, discharge = parse_token(case["root"]), parse_token(case["discharge"])
            result = verify(root, doc["key"].encode(), [discharge])
            self.assertIsInstance(result, tuple)
            self.assertEqual(result[0], root.signature)
            self.assertEqual(serialize_v2(parse_v2(serialize_v2(root))), serialize_v2(root))


class Pymacaroons(unittest.TestCase):
    """pymacaroons (Debian python3-pymacaroons) mints; this package verifies, and back."""

    def setUp(self):
        try:
            import pymacaroons  # noqa: F401
        except ImportError:
            self.skipTest("python3-pymacaroons not installed")

    def test_both_ways(self):
        import pymacaroons

        key = b"a root key of thirty-two bytes!!"
        v2 = pymacaroons.MACAROON_V2
        theirs = pymacaroons.Macaroon(location="tokens", identifier="m1.abc", key=key, version=v2)
        theirs.add_first_party_caveat("user alice")
        theirs.add_third_party_caveat("tokens", "caveat key for the discharge!!!!", "mfa alice")
        d = pymacaroons.Macaroon(location="tokens", identifier="mfa alice", key="caveat key for the discharge!!!!", version=v2)
        bound = theirs.prepare_for_request(d)
        ours = parse_token(theirs.serialize())
        ours_d = parse_token(bound.serialize())
        result = verify(ours, key, [ours_d])
        self.assertIsInstance(result, tuple)
        mine = add_first_party(mint(key, "m1.def", "tokens"), "user bob")
        parsed = pymacaroons.Macaroon.deserialize(serialize_token(mine))
        v = pymacaroons.Verifier()
        v.satisfy_exact("user bob")
        self.assertTrue(v.verify(parsed, key))


def ctx(**kw):
    base = dict(now_ms=parse_time("2026-01-01T00:00:00Z"), principal="web", audience="ledger",
                method="/ledger.v1.LedgerService/Transfer", key_id="k1")
    base.update(kw)
    return CaveatContext(**base)


def caveats(*texts, source="root"):
    return [VerifiedCaveat(t.encode() if isinstance(t, str) else t, source, i) for i, t in enumerate(texts)]


class Vocabulary(unittest.TestCase):
    def reason(self, *texts, **kw):
        r = authorize_caveats(caveats(*texts), ctx(**kw))
        return getattr(r, "reason", "ok")

    def test_times(self):
        self.assertEqual(parse_time("2026-11-23T03:00:00.250Z") - parse_time("2026-11-23T03:00:00Z"), 250)
        for bad in ("2026-11-23T03:00:00+00:00", "2026-11-23t03:00:00Z", "2026-11-23T03:00:00.25Z", "2026-11-23T24:00:00Z",
                    "2026-11-23T03:00:60Z", "2026-02-29T00:00:00Z", "2026-11-23T03:00:00z"):
            self.assertIsNone(parse_time(bad), bad)
        self.assertIsNotNone(parse_time("2024-02-29T00:00:00Z"))
        self.assertEqual(parse_time("1970-01-01T00:00:00Z"), 0)

    def test_each_type(self):
        P = "presenter web"
        self.assertEqual(self.reason("user alice", P), "ok")
        self.assertEqual(self.reason("user alice", "user bob", P), "caveat_failed")
        self.assertEqual(self.reason("user alice"), "caveat_missing")
        self.assertEqual(self.reason(P, "presenter frontend"), "caveat_failed")
        self.assertEqual(self.reason(P, "roles a,a"), "caveat_malformed")
        self.assertEqual(self.reason(P, "roles a, b"), "caveat_malformed")
        self.assertEqual(self.reason(P, "audience billing,ledger"), "ok")
        self.assertEqual(self.reason(P, "audience billing"), "caveat_failed")
        self.assertEqual(self.reason(P, "method /ledger.v1.LedgerService/*"), "ok")
        self.assertEqual(self.reason(P, "method /ledger.v1.Ledger/*"), "caveat_failed")
        self.assertEqual(self.reason(P, "method /ledger.v1.LedgerService/Transfer/x"), "caveat_malformed")
        self.assertEqual(self.reason(P, "expires 2026-01-01T00:00:00Z"), "caveat_failed")
        self.assertEqual(self.reason(P, "expires 2026-01-01T00:00:00.001Z"), "ok")
        self.assertEqual(self.reason(P, "not-before 2026-01-01T00:00:00Z"), "ok")
        self.assertEqual(self.reason(P, "request-key k2"), "caveat_failed")
        self.assertEqual(self.reason(P, "tenant acme"), "caveat_unknown")
        self.assertEqual(self.reason(P, "user"), "caveat_malformed")
        self.assertEqual(self.reason(P, "user  alice"), "caveat_malformed")
        self.assertEqual(self.reason(P, "user alice\x85"), "caveat_malformed")
        self.assertEqual(self.reason(P, b"user \xff"), "caveat_unknown")
        r = authorize_caveats(caveats("user alice", "roles a,b,c", "roles b,c,d", "presenter fe", P), ctx())
        self.assertEqual((r.chain, r.roles), (("alice", "fe", "web"), ("b", "c")))
        r = authorize_caveats([VerifiedCaveat(b"presenter web", "0", 0)], ctx(), require_presenter=False)
        self.assertEqual(r.reason, "caveat_failed")  # presenter is root-only

    def test_identifier_text(self):
        for raw in (b"k1.abc", "café".encode(), b"a\x00b", "a\u202eb".encode(), b"base64url:x", b"", b"\xff"):
            text = id_text(raw)
            self.assertEqual(id_from_text(text), raw)
        self.assertEqual(id_text(b"k1.abc"), "k1.abc")
        self.assertEqual(id_text("a\ufeffb".encode()), "base64url:Ye-7v2I")


class StrictV2(unittest.TestCase):
    def test_rejects(self):
        good = serialize_v2(add_first_party(mint(b"k", "m.1", "l"), "user a"))
        self.assertIsInstance(parse_v2(good), Macaroon)
        for bad in (good + b"\x00", good[:-1], b"\x01" + good[1:], good.replace(b"\x02\x03m.1", b"\x02\x83\x00m.1")):
            with self.assertRaises(Exception):
                parse_v2(bad)
        self.assertEqual(decode_credential(b"\x0a\x00"), "malformed_credential")


if __name__ == "__main__":
    unittest.main()
