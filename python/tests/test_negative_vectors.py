"""test/vectors/negative-v1.json through this package's verifier: every refusal the wire can
produce, with the reason code, gRPC status and step the spec assigns it."""
import unittest

from support import root_ring, vectors

from reqauth.errors import REASONS
from reqauth.keyring import StaticKeys
from reqauth.macaroon import MacaroonAcceptance, MacaroonKeys
from reqauth.policy import AccessRule, Policy
from reqauth.replay import MemoryReplayStore
from reqauth.grpcio.status import STATUS
from reqauth.verifier import RequestVerifier, VerifiedHeader

DOC = vectors("negative-v1.json")
SETUP = DOC["setup"]


def run_call(verifier, call):
    """The decision for one call: ("allow", None, None) or ("deny", reason, at)."""
    values = [bytes.fromhex(m["bin_hex"]) if "bin_hex" in m else m["text"] for m in call["metadata"]]
    single = call["call"] in ("unary", "server_streaming")
    header = verifier.verify_header(values, call["method"], single)
    if not isinstance(header, VerifiedHeader):
        return "deny", header.reason, None
    if single:
        bad = header.check_body(bytes.fromhex(call["message_hex"]))
        return ("deny", bad.reason, None) if bad else ("allow", None, None)
    sv = header.stream_verifier()
    for i, f in enumerate(call["frames_hex"]):
        opened = sv.open(bytes.fromhex(f))
        if opened.reason:
            return "deny", opened.reason, i
    if call["half_close"] and not sv.complete:
        return "deny", "stream_truncated", "half_close"
    return "allow", None, None


def verifier_for(v):
    deny = v.get("keyring", {})
    ring = root_ring(bytes.fromhex(SETUP["root_secret_hex"]), SETUP["key_id"],
                     deny.get("deny_key_ids", ()), deny.get("deny_principals", ()))
    rules = {**SETUP["policy"], **v.get("policy", {})}
    policy = Policy({p: AccessRule(roles=tuple(r.get("roles", ())), principals=tuple(r.get("principals", ())))
                     for p, r in rules.items()})
    start = v.get("store_start_ms", SETUP["store_start_ms"])
    now = v.get("server_time_ms", SETUP["server_time_ms"])
    macaroons = None
    if "macaroons" in v:
        m = v["macaroons"]
        keys = {k: bytes.fromhex(h) for k, h in m["keys"].items()}
        macaroons = MacaroonAcceptance(MacaroonKeys(keys, next(iter(keys)), frozenset(m.get("revoked", ()))),
                                       accept_handoff=m.get("accept_handoff", False), self_name=m.get("self"))
    return RequestVerifier(StaticKeys(ring, SETUP["audience"]), policy,
                           replay_store=MemoryReplayStore(now=lambda: start),
                           max_age_ms=SETUP["max_age_ms"], max_future_ms=SETUP["max_future_ms"],
                           macaroons=macaroons, now=lambda: now)


class NegativeVectors(unittest.TestCase):
    def test_every_vector(self):
        self.assertGreater(len(DOC["vectors"]), 100)
        for v in DOC["vectors"]:
            with self.subTest(v["name"]):
                verifier = verifier_for(v)
                for prior in v.get("prior", []):
                    self.assertEqual(run_call(verifier, prior)[0], "allow")
                decision, reason, at = run_call(verifier, v)
                want = v["expect"]
                self.assertEqual((decision, reason), (want["decision"], want.get("reason")))
                if decision == "deny":
                    self.assertEqual(STATUS[REASONS[reason]].value[0], want["status"])
                    if v["call"] in ("client_streaming", "bidi_streaming") and want["step"] == "5":
                        self.assertEqual(at, want["at"])

    def test_every_wire_reason_has_a_vector(self):
        covered = {v["expect"].get("reason") for v in DOC["vectors"]}
        # Binding-level (need a message type, a failing store or hook), or an application's own
        # caveat check (macaroon_caveat_refused): tested in test_grpc.py and test_macaroon.py.
        binding_only = {"malformed_message", "replay_cache_unavailable", "internal_error", "missing_message",
                        "macaroon_caveat_refused"}
        self.assertEqual(set(REASONS) - covered - binding_only, set())


if __name__ == "__main__":
    unittest.main()
