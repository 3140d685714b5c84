"""The published vectors (spec §10): every derived value, and verification of each vector."""
import unittest

from support import root_ring, vectors

from reqauth.crypto import hkdf_sha256, hmac_sha256
from reqauth.envelope import Envelope, encode_envelope, parse_envelope
from reqauth.keyring import StaticKeys
from reqauth.keys import audience_key_info, derive_audience_key, derive_principal_key, principal_key_info
from reqauth.macaroon import (MacaroonAcceptance, MacaroonKeys, Presentation, add_first_party, encode_presentation,
                              mint, possession_proof)
from reqauth.crypto import LABELS, sha256
from reqauth.policy import AccessRule, Policy
from reqauth.replay import MemoryReplayStore
from reqauth.stream_tag import StreamSigner
from reqauth.verifier import RequestVerifier, VerifiedHeader

V = vectors("envelope-v1.json")


def macaroon_of(inputs):
    m = inputs["macaroon"]
    mac = mint(bytes.fromhex(m["root_key_hex"]), m["identifier"], m["location"])
    for c in m["caveats"]:
        mac = add_first_party(mac, c)
    return mac


class PrimitiveVectors(unittest.TestCase):
    def test_rfc4231_hmac(self):
        for case in vectors("rfc4231.json")["cases"]:
            key, data = bytes.fromhex(case["key"]), bytes.fromhex(case["data"])
            out = hmac_sha256(key, data).hex()
            want = case["hmac_sha256"]
            self.assertEqual(out[: len(want)], want, case.get("name"))

    def test_rfc5869_hkdf(self):
        for case in vectors("rfc5869.json")["cases"]:
            okm = hkdf_sha256(bytes.fromhex(case["ikm"]), bytes.fromhex(case["salt"]),
                              bytes.fromhex(case["info"]), case["length"])
            self.assertEqual(okm.hex(), case["okm"], case.get("name"))

    def test_labels(self):
        labels = V["labels_hex"]
        self.assertEqual(LABELS.AUDIENCE_KEY.hex(), labels["audienceKey"])
        self.assertEqual(LABELS.PRINCIPAL_KEY.hex(), labels["principalKey"])
        self.assertEqual(LABELS.REQUEST_MAC.hex(), labels["requestMac"])
        self.assertEqual(LABELS.STREAM_TAG.hex(), labels["streamTag"])
        self.assertEqual(LABELS.MACAROON_POSSESSION.hex(), labels["macaroonPossession"])
        self.assertEqual(LABELS.MACAROON_PROOF.hex(), labels["macaroonProof"])


class EnvelopeVectors(unittest.TestCase):
    def test_every_vector(self):
        for v in V["vectors"]:
            with self.subTest(v["name"]):
                i = v["inputs"]
                root = bytes.fromhex(i["root_secret_hex"])
                self.assertEqual(audience_key_info(i["key_id"], i["audience"]).hex(), v["audience_key_info_hex"])
                akey = derive_audience_key(root, i["key_id"], i["audience"])
                self.assertEqual(akey.hex(), v["audience_key_hex"])
                self.assertEqual(principal_key_info(i["principal"], i["roles"]).hex(), v["principal_key_info_hex"])
                pkey = derive_principal_key(akey, i["principal"], i["roles"])
                self.assertEqual(pkey.hex(), v["principal_key_hex"])
                nonce = bytes.fromhex(i["nonce_hex"])
                credential, call_key = bytes.fromhex(i["credential_hex"]), pkey
                if "macaroon" in i:
                    m = macaroon_of(i)
                    self.assertEqual(m.signature.hex(), v["macaroon"]["signature_hex"])
                    pres = Presentation(m, (), i["macaroon"]["presentation"])
                    credential, call_key = encode_presentation(pres, pkey, nonce)
                    self.assertEqual(call_key.hex(), v["macaroon"]["possession_key_hex"])
                    self.assertEqual(possession_proof(call_key, nonce).hex(), v["macaroon"]["proof_hex"])
                    self.assertEqual(credential.hex(), i["credential_hex"])
                single = v["kind"] == "unary"
                body = bytes.fromhex(i["message_hex"]) if single else None
                env = Envelope(key_id=i["key_id"], principal=i["principal"], roles=tuple(i["roles"]),
                               on_behalf_of=i["on_behalf_of"], audience=i["audience"], method=i["method"],
                               nonce=nonce, issued_at_ms=i["issued_at_ms"],
                               body_digest=sha256(body) if single else b"", credential=credential)
                data = encode_envelope(env)
                self.assertEqual(data.hex(), v["envelope_hex"])
                self.assertEqual(sha256(body).hex() if single else "", v["body_digest_hex"])
                mac = hmac_sha256(pkey, LABELS.REQUEST_MAC, data)
                self.assertEqual(mac.hex(), v["mac_hex"])
                parsed = parse_envelope(data)
                self.assertIsInstance(parsed, Envelope)
                self.assertEqual(parsed.roles, tuple(sorted(i["roles"], key=lambda r: r.encode())))
                if not single:
                    signer = StreamSigner(call_key, mac)
                    frames = [signer.tag_message(bytes.fromhex(b)) for b in i["messages_hex"]] + [signer.end_marker()]
                    self.assertEqual([f.hex() for f in frames], v["frames_hex"])

    def test_every_vector_verifies(self):
        for v in V["vectors"]:
            with self.subTest(v["name"]):
                i = v["inputs"]
                now = i["issued_at_ms"]
                macaroons = None
                if "macaroon" in i:
                    kid = i["macaroon"]["identifier"].split(".")[0]
                    macaroons = MacaroonAcceptance(MacaroonKeys({kid: bytes.fromhex(i["macaroon"]["root_key_hex"])}, kid),
                                                   accept_handoff=True, self_name="ledger-backend")
                elif i["credential_hex"]:
                    continue  # an opaque placeholder credential: not a macaroon
                verifier = RequestVerifier(
                    StaticKeys(root_ring(bytes.fromhex(i["root_secret_hex"]), i["key_id"]), i["audience"]),
                    Policy({i["method"]: AccessRule(principals=(i["principal"],))}),
                    replay_store=MemoryReplayStore(now=lambda: 0), now=lambda: now, macaroons=macaroons)
                value = bytes.fromhex(v["envelope_hex"] + v["mac_hex"])
                single = v["kind"] == "unary"
                header = verifier.verify_header([value], i["method"], single)
                self.assertIsInstance(header, VerifiedHeader, getattr(header, "reason", None))
                if single:
                    self.assertIsNone(header.check_body(bytes.fromhex(i["message_hex"])))
                else:
                    sv = header.stream_verifier()
                    opened = [sv.open(bytes.fromhex(f)) for f in v["frames_hex"]]
                    self.assertTrue(all(o.reason is None for o in opened))
                    self.assertTrue(sv.complete)
                    self.assertEqual([o.body.hex() for o in opened[:-1]], i["messages_hex"])


if __name__ == "__main__":
    unittest.main()
