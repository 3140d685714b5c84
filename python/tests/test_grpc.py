"""Python client and Python server over real gRPC on loopback: every call kind, and the
refusals an on-path attacker can cause, with the handler's calls asserted."""
import os
import sys
import unittest

import support  # noqa: F401  (sys.path)

sys.path.insert(0, os.path.join(support.PYTHON_ROOT, "examples"))

import grpc  # noqa: E402

import ledger_server as ledger_example  # noqa: E402
from reqauth import RequestSigner, StaticKeys, issue_credential  # noqa: E402
from reqauth.grpcio import acting_for, reqauth_channel  # noqa: E402
from reqauth.signer import ENVELOPE_KEY  # noqa: E402

pb = ledger_example.pb
ROOT = support.root_ring(bytes(range(32)), "k1")
SVC = "/ledger.v1.LedgerService/"


def tx(i, amount=100):
    return pb.Transaction(id=f"tx-{i}", from_account="acc-alice", to_account="acc-bob", amount=amount)


class Loopback(unittest.TestCase):
    def setUp(self):
        self.audit = []
        self.server, port, self.ledger = ledger_example.serve(StaticKeys(ROOT, "ledger"), self.audit.append)
        self.target = f"127.0.0.1:{port}"
        self.raw = grpc.insecure_channel(self.target)

    def tearDown(self):
        self.raw.close()
        self.server.stop(0)

    def client(self, principal="frontdesk", roles=("teller", "auditor", "importer"), audience="ledger"):
        return reqauth_channel(grpc.insecure_channel(self.target), issue_credential(ROOT, audience, principal, roles))

    def call(self, ch, name, req_cls, res_cls, kind, arg):
        make = {"uu": ch.unary_unary, "us": ch.unary_stream, "su": ch.stream_unary, "ss": ch.stream_stream}[kind]
        return make(SVC + name, request_serializer=req_cls.SerializeToString, response_deserializer=res_cls.FromString)(arg)

    def reasons(self):
        return [e.reason for e in self.audit if e.decision == "deny"]

    def test_all_four_kinds_accepted(self):
        ch = self.client()
        with acting_for("alice"):
            r = self.call(ch, "Transfer", pb.TransferRequest, pb.TransferResponse, "uu", pb.TransferRequest(transaction=tx(1)))
        self.assertEqual(r.from_balance, 9_900)
        rows = list(self.call(ch, "ListTransactions", pb.ListTransactionsRequest, pb.ListTransactionsResponse, "us",
                              pb.ListTransactionsRequest(account="acc-alice")))
        self.assertEqual([x.transaction.id for x in rows], ["tx-1"])
        s = self.call(ch, "ImportTransactions", pb.ImportTransactionsRequest, pb.ImportTransactionsResponse, "su",
                      iter([pb.ImportTransactionsRequest(transaction=tx(i)) for i in range(3)]))
        self.assertEqual((s.imported, s.total_amount), (3, 300))
        out = list(self.call(ch, "Reconcile", pb.ReconcileRequest, pb.ReconcileResponse, "ss",
                             iter([pb.ReconcileRequest(transaction=tx(1)), pb.ReconcileRequest(transaction=tx(9))])))
        self.assertEqual([(x.id, x.matches) for x in out], [("tx-1", True), ("tx-9", False)])
        zero = self.call(ch, "ImportTransactions", pb.ImportTransactionsRequest, pb.ImportTransactionsResponse, "su", iter([]))
        self.assertEqual(zero.imported, 0)
        self.assertEqual(self.reasons(), [])
        self.assertEqual(self.ledger.journal[0][2], "alice")
        self.assertEqual(self.ledger.calls, ["Transfer", "ListTransactions", "ImportTransactions", "Reconcile", "ImportTransactions"])

    def raw_unary(self, metadata, body, name="Transfer"):
        return self.raw.unary_unary(SVC + name)(body, metadata=metadata)

    def signed(self, name="Transfer", body=b"", principal="frontdesk", audience="ledger"):
        signer = RequestSigner(issue_credential(ROOT, audience, principal, ("teller",)))
        h = signer.sign(SVC + name, body)
        return ((ENVELOPE_KEY, h.value),), h

    def refused(self, code, fn, *args):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.code(), code)
        return cm.exception

    def test_tampered_body_replayed_wrong_audience(self):
        body = pb.TransferRequest(transaction=tx(2)).SerializeToString()
        md, _ = self.signed(body=body)
        tampered = bytearray(body)
        tampered[-1] ^= 1
        self.refused(grpc.StatusCode.UNAUTHENTICATED, self.raw_unary, md, bytes(tampered))
        md, _ = self.signed(body=body)
        self.raw_unary(md, body)
        err = self.refused(grpc.StatusCode.UNAUTHENTICATED, self.raw_unary, md, body)
        self.assertEqual(err.details(), "request authentication failed")
        md, _ = self.signed(body=body, audience="billing")
        self.refused(grpc.StatusCode.UNAUTHENTICATED, self.raw_unary, md, body)
        md, _ = self.signed(name="CloseAccount", body=b"")
        self.refused(grpc.StatusCode.PERMISSION_DENIED, self.raw_unary, md, b"", "CloseAccount")
        self.assertEqual(self.reasons(), ["bad_digest", "replayed_nonce", "wrong_audience", "no_rule"])
        self.assertEqual(self.ledger.calls, ["Transfer"])
        # the handler's metadata never carries the envelope
        self.assertEqual(self.audit[1].decision, "allow")

    def test_truncated_and_tampered_streams(self):
        signer = RequestSigner(issue_credential(ROOT, "ledger", "batch-importer", ()))
        bodies = [pb.ImportTransactionsRequest(transaction=tx(i)).SerializeToString() for i in range(3)]

        def frames(drop_end=False, flip=None):
            h, t = signer.sign_stream(SVC + "ImportTransactions")
            fs = [t.tag_message(b) for b in bodies] + [t.end_marker()]
            if drop_end:
                fs = fs[:-1]
            if flip is not None:
                f = bytearray(fs[flip])
                f[0] ^= 1
                fs[flip] = bytes(f)
            return ((ENVELOPE_KEY, h.value),), fs

        call = self.raw.stream_unary(SVC + "ImportTransactions")
        md, fs = frames(drop_end=True)
        self.refused(grpc.StatusCode.UNAUTHENTICATED, call, iter(fs), None, md)
        md, fs = frames(flip=1)
        self.refused(grpc.StatusCode.UNAUTHENTICATED, call, iter(fs), None, md)
        md, fs = frames()
        self.refused(grpc.StatusCode.UNAUTHENTICATED, call, iter(fs + [fs[0]]), None, md)
        md, fs = frames()
        call(iter(fs), None, md)
        self.assertEqual(self.reasons(), ["stream_truncated", "bad_stream_tag", "message_after_end"])

    def test_public_method_needs_nothing(self):
        r = self.raw.unary_unary(SVC + "Ping", request_serializer=pb.PingRequest.SerializeToString,
                                 response_deserializer=pb.PingResponse.FromString)(pb.PingRequest())
        self.assertGreater(r.server_time_ms, 0)
        self.assertEqual(self.audit, [])

    def test_missing_envelope(self):
        self.refused(grpc.StatusCode.UNAUTHENTICATED, self.raw_unary, (), b"")
        self.assertEqual(self.reasons(), ["missing_envelope"])
        self.assertEqual(self.ledger.calls, [])


if __name__ == "__main__":
    unittest.main()
