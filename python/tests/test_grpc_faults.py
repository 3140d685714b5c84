"""Fail closed over real gRPC: hooks and key sources that throw, clock refusals carrying the
server's time, undecodable messages, and handlers that cannot see the MAC or swallow a
refusal."""
import os
import sys
import unittest
from concurrent import futures

import support

sys.path.insert(0, os.path.join(support.PYTHON_ROOT, "examples"))

import grpc  # noqa: E402

import ledger_server as ex  # noqa: E402
from reqauth import RequestSigner, StaticKeys, issue_credential, policy_from_descriptors  # noqa: E402
from reqauth.grpcio import ReqauthServer  # noqa: E402
from reqauth.signer import ENVELOPE_KEY, SERVER_TIME_KEY  # noqa: E402

pb = ex.pb
ROOT = support.root_ring(bytes(range(32)), "k1")
SVC = "/ledger.v1.LedgerService/"


class Spy(ex.Ledger):
    """Records what handlers saw; ImportTransactions swallows every Exception."""

    def __init__(self):
        super().__init__()
        self.metadata_keys = []

    def Transfer(self, request, context):
        self.metadata_keys.append([k for k, _ in context.invocation_metadata()])
        return super().Transfer(request, context)

    def Ping(self, request, context):
        self.metadata_keys.append([k for k, _ in context.invocation_metadata()])
        return super().Ping(request, context)

    def ImportTransactions(self, request_iterator, context):
        self.calls.append("ImportTransactions")
        n = 0
        try:
            for _ in request_iterator:
                n += 1
        except Exception:  # a careless handler
            pass
        return pb.ImportTransactionsResponse(imported=n)


class Faults(unittest.TestCase):
    def start(self, keys=None, audit=None, now=None):
        kw = {"now": now} if now else {}
        auth = ReqauthServer(keys=keys or StaticKeys(ROOT, "ledger"), policy=policy_from_descriptors(pb.DESCRIPTOR),
                             audit=audit, **kw)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=[auth.interceptor])
        self.ledger = Spy()
        self.server.add_generic_rpc_handlers((ex.handlers(self.ledger),))
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")

    def tearDown(self):
        self.channel.close()
        self.server.stop(0)

    def transfer(self, body=None, principal="fd", now=None):
        body = body if body is not None else pb.TransferRequest(transaction=pb.Transaction(id="t", from_account="acc-alice",
                                                                                            to_account="acc-bob", amount=1)).SerializeToString()
        signer = RequestSigner(issue_credential(ROOT, "ledger", principal, ("teller",)), **({"now": now} if now else {}))
        md = ((ENVELOPE_KEY, signer.sign(SVC + "Transfer", body).value), ("x-trace", "1"))
        return self.channel.unary_unary(SVC + "Transfer").with_call(body, metadata=md, timeout=5)

    def test_a_throwing_audit_hook_refuses_the_call(self):
        def audit(e):
            raise RuntimeError("exporter down")
        self.start(audit=audit)
        with self.assertRaises(grpc.RpcError) as cm:
            self.transfer()
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INTERNAL)
        self.assertEqual(self.ledger.calls, [])

    def test_a_throwing_key_source_refuses_the_call(self):
        class Broken:
            def current(self):
                raise OSError("disk gone")
        audit = []
        self.start(keys=Broken(), audit=audit.append)
        with self.assertRaises(grpc.RpcError) as cm:
            self.transfer()
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INTERNAL)
        self.assertEqual([e.reason for e in audit], ["internal_error"])
        self.assertEqual(self.ledger.calls, [])

    def test_clock_refusals_carry_the_server_time(self):
        self.start(now=lambda: 1_800_000_000_000)
        with self.assertRaises(grpc.RpcError) as cm:
            self.transfer(now=lambda: 1_800_000_000_000 - 200_000)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(dict(cm.exception.trailing_metadata())[SERVER_TIME_KEY], "1800000000000")

    def test_handlers_never_see_the_envelope(self):
        self.start()
        self.transfer()
        self.assertIn("x-trace", self.ledger.metadata_keys[0])
        self.assertNotIn(ENVELOPE_KEY, self.ledger.metadata_keys[0])

    def test_no_reqauth_metadata_reaches_any_handler_public_ones_included(self):
        # §4: a man in the middle's reqauth-on-behalf-of is removed too, and a public
        # method's handler sees no envelope (and so no MAC) either.
        self.start()
        body = pb.TransferRequest(transaction=pb.Transaction(id="t", from_account="acc-alice", to_account="acc-bob", amount=1)).SerializeToString()
        signer = RequestSigner(issue_credential(ROOT, "ledger", "fd", ("teller",)))
        md = ((ENVELOPE_KEY, signer.sign(SVC + "Transfer", body).value), ("reqauth-on-behalf-of", "mallory"), ("x-trace", "1"))
        self.channel.unary_unary(SVC + "Transfer").with_call(body, metadata=md, timeout=5)
        ping = pb.PingRequest().SerializeToString()
        md = ((ENVELOPE_KEY, signer.sign(SVC + "Ping", ping).value), ("x-trace", "2"))
        self.channel.unary_unary(SVC + "Ping").with_call(ping, metadata=md, timeout=5)
        for keys in self.ledger.metadata_keys:
            self.assertIn("x-trace", keys)
            self.assertEqual([k for k in keys if k.startswith("reqauth-")], [])
        self.assertEqual(len(self.ledger.metadata_keys), 2)

    def test_an_undecodable_message_is_invalid_argument(self):
        audit = []
        self.start(audit=audit.append)
        with self.assertRaises(grpc.RpcError) as cm:
            self.transfer(body=b"\xff\xff\xff")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual([e.reason for e in audit], ["malformed_message"])
        self.assertEqual(self.ledger.calls, [])

    def test_a_handler_cannot_swallow_a_stream_refusal(self):
        audit = []
        self.start(audit=audit.append)
        signer = RequestSigner(issue_credential(ROOT, "ledger", "batch-importer", ()))
        h, t = signer.sign_stream(SVC + "ImportTransactions")
        frames = [t.tag_message(b"")]  # no end marker: truncated
        with self.assertRaises(grpc.RpcError) as cm:
            self.channel.stream_unary(SVC + "ImportTransactions")(iter(frames), metadata=((ENVELOPE_KEY, h.value),), timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual([e.reason for e in audit if e.decision == "deny"], ["stream_truncated"])


if __name__ == "__main__":
    unittest.main()
