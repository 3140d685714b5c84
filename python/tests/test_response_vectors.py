"""The response vectors (spec §13.6): every signed response reproduced, every negative refused
with its reason."""
import unittest

from support import vectors

from reqauth.crypto import LABELS
from reqauth.response import ResponseSigner, ResponseVerifier, end_input

R = vectors("response-v1.json")
E = {v["name"]: v for v in vectors("envelope-v1.json")["vectors"]}


def metadata(fields):
    """The vectors' metadata (name -> values; -bin values in hex) as grpcio's pairs."""
    return [(k, bytes.fromhex(v) if k.endswith("-bin") else v) for k, vs in fields.items() for v in vs]


def verify(v, response):
    """Runs a received response through the client's checks; None or the first reason."""
    verifier = ResponseVerifier(bytes.fromhex(v["request"]["call_key_hex"]), bytes.fromhex(v["request"]["request_mac_hex"]))
    for f in response["frames_hex"]:
        opened = verifier.open(bytes.fromhex(f))
        if opened.reason:
            return opened.reason
    return verifier.end([bytes.fromhex(e) for e in response["end_entries_hex"]], response["status"]["code"],
                        response["status"]["details"], metadata(response["headers"]), metadata(response["trailers"]))


class ResponseVectors(unittest.TestCase):
    def test_labels(self):
        self.assertEqual(LABELS.RESPONSE_TAG.hex(), R["labels_hex"]["responseTag"])
        self.assertEqual(LABELS.RESPONSE_END.hex(), R["labels_hex"]["responseEnd"])

    def test_requests_are_the_envelope_vectors(self):
        """Each response answers a request of envelope-v1.json, keyed by its call key."""
        for v in R["vectors"]:
            with self.subTest(v["name"]):
                e = E[v["request"]["envelope_vector"]]
                self.assertEqual(v["request"]["request_mac_hex"], e["mac_hex"])
                key = e["macaroon"]["possession_key_hex"] if "macaroon" in e else e["principal_key_hex"]
                self.assertEqual(v["request"]["call_key_hex"], key)

    def test_signing_reproduces_every_vector(self):
        for v in R["vectors"]:
            with self.subTest(v["name"]):
                r = v["response"]
                signer = ResponseSigner(bytes.fromhex(v["request"]["call_key_hex"]),
                                        bytes.fromhex(v["request"]["request_mac_hex"]), v["covered_names"])
                frames = [signer.tag(bytes.fromhex(m)).hex() for m in v["messages_hex"]]
                self.assertEqual(frames, r["frames_hex"])
                headers, trailers = metadata(r["headers"]), metadata(r["trailers"])
                details = r["status"]["details"].encode("utf-8")
                self.assertEqual(end_input(bytes.fromhex(v["request"]["request_mac_hex"]), len(frames), r["status"]["code"],
                                           details, v["covered_names"], headers, trailers).hex(), v["end_input_hex"])
                entry = signer.end_entry(r["status"]["code"], r["status"]["details"], headers, trailers)
                self.assertEqual([entry.hex()], r["end_entries_hex"])
                self.assertEqual(entry[-32:].hex(), v["end_mac_hex"])

    def test_every_vector_verifies(self):
        for v in R["vectors"]:
            with self.subTest(v["name"]):
                self.assertIsNone(verify(v, v["response"]))

    def test_every_negative_vector_is_refused_with_its_reason(self):
        n = 0
        for v in R["vectors"]:
            for neg in v["negative"]:
                with self.subTest(f'{v["name"]}: {neg["name"]}'):
                    self.assertEqual(verify(v, neg), neg["reason"])
                    n += 1
        self.assertGreaterEqual(n, 40)


class ResponseEdges(unittest.TestCase):
    """What the vectors leave out: the entry's format, the flags byte, the count's bounds."""

    KEY, MAC = b"k" * 32, b"m" * 32

    def signed(self, n=1, covered=()):
        s = ResponseSigner(self.KEY, self.MAC, covered)
        return [s.tag(b"body%d" % i) for i in range(n)], s

    def test_flags_other_than_00_are_bad_response_tag(self):
        frames, _ = self.signed()
        f = bytearray(frames[0])
        f[-33] = 1
        self.assertEqual(ResponseVerifier(self.KEY, self.MAC).open(bytes(f)).reason, "bad_response_tag")

    def test_a_frame_shorter_than_the_trailer_is_missing_response_tag(self):
        frames, _ = self.signed()
        self.assertEqual(ResponseVerifier(self.KEY, self.MAC).open(frames[0][-38:]).reason, "missing_response_tag")

    def test_a_request_stream_tag_is_not_a_response_tag(self):
        from reqauth.stream_tag import StreamSigner

        framed = StreamSigner(self.KEY, self.MAC).tag_message(b"body0")
        self.assertEqual(ResponseVerifier(self.KEY, self.MAC).open(framed).reason, "bad_response_tag")

    def test_malformed_entries(self):
        frames, s = self.signed(covered=("x-a",))
        good = s.end_entry(0, "")
        cases = {
            "trailing byte": good + b"\x00",
            "mac cut short": good[:-1],
            "text value": good.hex(),
            "empty": b"",
            "count above 2^53-1": (2**53).to_bytes(8, "big") + good[8:],
            "name past the end": good[:8] + b"\x01\xff\xff" + good[-32:],
            "name not a key": good[:9] + b"\x00\x03X-A" + good[-32:],
            "the entry's own name": good[:9] + b"\x00\x14reqauth-response-bin" + good[-32:],
            "a name twice": good[:8] + b"\x02\x00\x03x-a\x00\x03x-a" + good[-32:],
        }
        for name, entry in cases.items():
            with self.subTest(name):
                v = ResponseVerifier(self.KEY, self.MAC)
                v.open(frames[0])
                self.assertEqual(v.end([entry], 0, ""), "malformed_response_end")
        v = ResponseVerifier(self.KEY, self.MAC)
        v.open(frames[0])
        self.assertIsNone(v.end([good], 0, ""))
        # gRPC's own names are the signer's configuration error, not a malformed entry (§13.2).
        grpc_named = good[:9] + b"\x00\x0agrpc-x-bin" + good[-32:]
        v = ResponseVerifier(self.KEY, self.MAC)
        v.open(frames[0])
        self.assertEqual(v.end([grpc_named], 0, ""), "bad_response_end")

    def test_a_status_code_out_of_range_is_malformed(self):
        frames, s = self.signed()
        v = ResponseVerifier(self.KEY, self.MAC)
        v.open(frames[0])
        self.assertEqual(v.end([s.end_entry(0, "")], 2**32, ""), "malformed_response_end")

    def test_a_count_below_the_messages_received_is_bad_response_end(self):
        """Only the key's holder can make it; it is still not a signed response of §13."""
        s = ResponseSigner(self.KEY, self.MAC)
        frames = [s.tag(b"a"), s.tag(b"b")]
        early = ResponseSigner(self.KEY, self.MAC)
        early.tag(b"a")
        v = ResponseVerifier(self.KEY, self.MAC)
        for f in frames:
            self.assertIsNone(v.open(f).reason)
        self.assertEqual(v.end([early.end_entry(0, "")], 0, ""), "bad_response_end")

    def test_text_values_are_joined_and_bin_values_kept_apart(self):
        _, s = self.signed(0, covered=("x-t", "x-b-bin"))
        e = s.end_entry(0, "", [("x-t", "a"), ("x-t", "b")], [("x-b-bin", b"\x01"), ("x-b-bin", b"\x02")])
        ok = ResponseVerifier(self.KEY, self.MAC)
        self.assertIsNone(ok.end([e], 0, "", [("x-t", "a, b")], [("x-b-bin", b"\x01"), ("x-b-bin", b"\x02")]))
        joined_bin = ResponseVerifier(self.KEY, self.MAC)
        self.assertEqual(joined_bin.end([e], 0, "", [("x-t", "a, b")], [("x-b-bin", b"\x01\x02")]), "bad_response_end")
        moved = ResponseVerifier(self.KEY, self.MAC)
        self.assertEqual(moved.end([e], 0, "", [], [("x-t", "a, b"), ("x-b-bin", b"\x01"), ("x-b-bin", b"\x02")]),
                         "bad_response_end")

    def test_the_signers_configuration_is_checked(self):
        for bad in [("X-Up",), ("grpc-timeout",), ("reqauth-response-bin",), ("a", "a"), tuple(f"n{i}" for i in range(256))]:
            with self.subTest(bad[:2]), self.assertRaises(ValueError):
                ResponseSigner(self.KEY, self.MAC, bad)
        ResponseSigner(self.KEY, self.MAC, ("grpc-status-details-bin", "x-note"))


if __name__ == "__main__":
    unittest.main()
