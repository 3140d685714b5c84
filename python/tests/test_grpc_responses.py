"""Signed responses (spec §13) over real grpcio on loopback: a Python client that requires them,
a Python server that signs them, and a man in the middle (tests/mitm.py) between the two.
Every attack is detected, the application never gets a tampered message, and the handler's
calls are counted."""
import contextlib
import os
import sys
import threading
import unittest

import support  # noqa: F401  (sys.path)

sys.path.insert(0, os.path.join(support.PYTHON_ROOT, "examples"))

import grpc  # noqa: E402

import ledger_server as ledger_example  # noqa: E402
from mitm import Mitm, Plan, flip  # noqa: E402
from reqauth import AccessRule, Policy, ReqauthConfigError, StaticKeys, issue_credential, signed_response_methods  # noqa: E402
from reqauth.grpcio import ReqauthServer, acting_for, reqauth_channel  # noqa: E402
from reqauth.macaroon import MacaroonAcceptance, MacaroonKeys, Presentation, add_first_party, mint_user_macaroon  # noqa: E402
from reqauth.response import RESPONSE_KEY  # noqa: E402

pb = ledger_example.pb
ROOT = support.root_ring(bytes(range(32)), "k1")
SVC = "/ledger.v1.LedgerService/"
SIGNED = signed_response_methods(pb.DESCRIPTOR)
DATA_LOSS = grpc.StatusCode.DATA_LOSS
MACAROONS = MacaroonKeys({"m1": bytes(range(32, 64))}, "m1")

METHODS = {
    "GetBalance": ("uu", pb.GetBalanceRequest, pb.GetBalanceResponse),
    "Transfer": ("uu", pb.TransferRequest, pb.TransferResponse),
    "ListTransactions": ("us", pb.ListTransactionsRequest, pb.ListTransactionsResponse),
    "ImportTransactions": ("su", pb.ImportTransactionsRequest, pb.ImportTransactionsResponse),
    "Reconcile": ("ss", pb.ReconcileRequest, pb.ReconcileResponse),
}


def tx(i, amount=100, src="acc-alice"):
    return pb.Transaction(id=f"tx-{i}", from_account=src, to_account="acc-bob", amount=amount)


class NotedLedger(ledger_example.Ledger):
    """GetBalance also sends metadata: a text header twice, and a binary trailer."""

    def GetBalance(self, request, context):
        context.send_initial_metadata((("x-note", "first"), ("x-note", "second"), ("x-other", "not covered")))
        context.set_trailing_metadata((("x-audit-bin", b"\x00\x01\xff"),))
        if request.account == "closed":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "compte clôturé")
        if request.account == "boom":
            raise RuntimeError("handler fault")
        if request.account == "status":
            context.abort_with_status(Status(grpc.StatusCode.NOT_FOUND, "no such account", (("x-audit-bin", b"\x02"),)))
        return super().GetBalance(request, context)

    def ListTransactions(self, request, context):
        """For "partial": one message, then an error set on the context (no abort)."""
        if request.account != "partial":
            yield from super().ListTransactions(request, context)
            return
        yield pb.ListTransactionsResponse(transaction=tx(0))
        context.set_code(grpc.StatusCode.ABORTED)
        context.set_details("stopped")


class Status(grpc.Status):
    def __init__(self, code, details, trailing_metadata):
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


class Base(unittest.TestCase):
    server_options: dict = {}
    ledger_class = ledger_example.Ledger

    def setUp(self):
        self.audit, self.verdicts = [], []
        self.server, port, self.ledger = ledger_example.serve(
            StaticKeys(ROOT, "ledger"), self.audit.append, ledger=self.ledger_class(),
            macaroons=MacaroonAcceptance(MACAROONS), **self.server_options)
        self.mitm = Mitm(f"127.0.0.1:{port}")
        self.channels = []

    def tearDown(self):
        for c in self.channels:
            c.close()
        self.mitm.close()
        self.server.stop(0)

    def client(self, require=True, principal="frontdesk", roles=("teller", "auditor", "importer")):
        ch = reqauth_channel(grpc.insecure_channel(self.mitm.target), issue_credential(ROOT, "ledger", principal, roles),
                             require_signed_responses=require, response_audit=self.verdicts.append)
        self.channels.append(ch)
        return ch

    def stub(self, ch, name):
        kind, req, res = METHODS[name]
        make = {"uu": ch.unary_unary, "us": ch.unary_stream, "su": ch.stream_unary, "ss": ch.stream_stream}[kind]
        return make(SVC + name, request_serializer=req.SerializeToString, response_deserializer=res.FromString)

    def balance(self, ch=None, account="acc-alice"):
        return self.stub(ch or self.client(), "GetBalance")(pb.GetBalanceRequest(account=account), timeout=5)

    def statement(self, ch=None, account="acc-alice"):
        """The messages the application received before the call ended, and its error (or None)."""
        got = []
        try:
            for r in self.stub(ch or self.client(), "ListTransactions")(pb.ListTransactionsRequest(account=account), timeout=5):
                got.append(r.transaction.id)
        except grpc.RpcError as err:
            return got, err
        return got, None

    def seed(self, n=3):
        """n journal entries, made without the proxy's plan."""
        ch = self.client(require=False)
        for i in range(n):
            self.stub(ch, "Transfer")(pb.TransferRequest(transaction=tx(i)), timeout=5)

    def refused(self, reason, fn, *args):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args)
        self.assertEqual((cm.exception.code(), cm.exception.details()), (DATA_LOSS, "response authentication failed"))
        self.assertEqual(cm.exception.trailing_metadata(), ())
        self.assertEqual((self.verdicts[-1].verdict, self.verdicts[-1].reason), ("refused", reason))
        return cm.exception


class HonestResponses(Base):
    def test_signed_methods_verify_and_the_server_audits_signed(self):
        self.seed(2)
        self.assertEqual(self.balance().balance, 9_800)
        self.assertEqual(self.statement(), (["tx-0", "tx-1"], None))
        self.assertEqual([v.verdict for v in self.verdicts], ["verified", "verified"])
        signed = [e.to_json().get("response") for e in self.audit if e.decision == "allow"]
        self.assertEqual(signed, [None, None, "signed", "signed"])  # two Transfers, then the signed two
        self.assertEqual(SIGNED, {SVC + "GetBalance", SVC + "ListTransactions"})

    def test_with_call_and_future_return_verified_results_without_the_entry(self):
        ch = self.client()
        r, call = self.stub(ch, "GetBalance").with_call(pb.GetBalanceRequest(account="acc-bob"), timeout=5)
        self.assertEqual((r.balance, call.code()), (2_500, grpc.StatusCode.OK))
        self.assertNotIn(RESPONSE_KEY, dict(call.trailing_metadata()))
        f = self.stub(ch, "GetBalance").future(pb.GetBalanceRequest(account="acc-bob"), timeout=5)
        done = threading.Event()
        f.add_done_callback(lambda fut: done.set())
        self.assertEqual((f.result().balance, f.code(), f.exception()), (2_500, grpc.StatusCode.OK, None))
        self.assertTrue(done.wait(1))
        self.assertNotIn(RESPONSE_KEY, dict(f.trailing_metadata()))
        self.assertEqual([v.verdict for v in self.verdicts], ["verified"] * 2)

    def test_a_client_requiring_named_methods_only_checks_those(self):
        ch = self.client(require=SIGNED)
        self.stub(ch, "Transfer")(pb.TransferRequest(transaction=tx(1)), timeout=5)  # not signed, not required
        self.assertEqual(self.balance(ch).balance, 9_900)
        self.assertEqual([(v.method, v.verdict) for v in self.verdicts], [(SVC + "GetBalance", "verified")])

    def test_a_client_that_does_not_verify_decodes_signed_messages_unchanged(self):
        self.seed(1)
        self.assertEqual(self.balance(self.client(require=False)).balance, 9_900)
        self.assertEqual(self.statement(self.client(require=False)), (["tx-0"], None))
        self.assertEqual(self.verdicts, [])

    def test_a_server_that_does_not_sign_fails_every_required_call(self):
        """Transfer is not signed: its message has no tag (§13.5)."""
        calls = len(self.ledger.calls)
        self.refused("missing_response_tag", self.stub(self.client(), "Transfer"), pb.TransferRequest(transaction=tx(1)))
        self.assertEqual(self.ledger.calls[calls:], ["Transfer"])  # it ran: the outcome is unknown to the client

    def test_a_response_audit_hook_that_raises_refuses_what_it_would_have_passed(self):
        def hook(v):
            raise RuntimeError("audit store down")
        ch = reqauth_channel(grpc.insecure_channel(self.mitm.target), issue_credential(ROOT, "ledger", "frontdesk", ("auditor",)),
                             require_signed_responses=True, response_audit=hook)
        self.channels.append(ch)
        with self.assertRaises(grpc.RpcError) as cm:
            self.balance(ch)
        self.assertEqual((cm.exception.code(), cm.exception.details()), (grpc.StatusCode.INTERNAL, "internal error"))
        self.mitm.plan = Plan(message=lambda i, m: [flip(m)])
        with self.assertRaises(grpc.RpcError) as cm:
            self.balance(ch)
        self.assertEqual(cm.exception.code(), DATA_LOSS)  # a refusal stays one

    def test_a_macaroon_calls_response_is_signed_with_its_possession_key(self):
        m = mint_user_macaroon(MACAROONS)
        for c in ("user alice", "presenter frontdesk"):
            m = add_first_party(m, c)
        with acting_for("alice", Presentation(m)):
            self.assertEqual(self.balance().balance, 10_000)
        self.assertEqual(self.verdicts[-1].verdict, "verified")
        self.assertTrue(self.audit[-1].claims.user_verified)


class Attacks(Base):
    """A man in the middle rewrites the response; the client detects it every time."""

    def test_a_flipped_byte_in_a_unary_response(self):
        for at in (0, -1, -33):  # body, tag, flags
            with self.subTest(at=at):
                self.mitm.plan = Plan(message=lambda i, m: [flip(m, at)])
                self.refused("bad_response_tag", self.balance)

    def test_a_unary_response_with_a_message_added(self):
        """Every message that arrives is checked, so a second one fails its tag as the vectors
        say (grpcio's own unary API would leave it unread and hang until the deadline)."""
        for name, plan in [("duplicated", Plan(message=lambda i, m: [m, m])),
                           ("appended", Plan(end=lambda r: r.messages.append(self.mitm.calls[-1].messages[0])))]:
            with self.subTest(name):
                self.mitm.plan = plan
                self.refused("bad_response_tag", self.balance)
                self.refused("bad_response_tag", lambda: self.stub(self.client(), "GetBalance").with_call(
                    pb.GetBalanceRequest(account="acc-alice"), timeout=5))
                f = self.stub(self.client(), "GetBalance").future(pb.GetBalanceRequest(account="acc-alice"), timeout=5)
                self.assertEqual((f.exception().code(), self.verdicts[-1].reason), (DATA_LOSS, "bad_response_tag"))

    def test_a_response_stream_tampered_every_way(self):
        self.seed(3)
        other = []
        self.mitm.plan = Plan(message=lambda i, m: other.append(m) or [m])
        self.statement(account="acc-bob")  # a response of another call, for injection
        cases = {
            "flipped": (Plan(message=lambda i, m: [flip(m)] if i == 1 else [m]), ["tx-0"], "bad_response_tag"),
            "dropped": (Plan(message=lambda i, m: [] if i == 1 else [m]), ["tx-0"], "bad_response_tag"),
            "duplicated": (Plan(message=lambda i, m: [m, m] if i == 0 else [m]), ["tx-0"], "bad_response_tag"),
            "injected": (Plan(message=lambda i, m: [other[0], m] if i == 1 else [m]), ["tx-0"], "bad_response_tag"),
            "untagged": (Plan(message=lambda i, m: [m[:-39]] if i == 2 else [m]), ["tx-0", "tx-1"], "missing_response_tag"),
            "cut short": (Plan(message=lambda i, m: [] if i == 2 else [m]), ["tx-0", "tx-1"], "response_truncated"),
            "appended": (Plan(end=lambda r: r.messages.append(other[0])), ["tx-0", "tx-1", "tx-2"], "bad_response_tag"),
        }
        reorder = []

        def swap(i, m):
            if i == 0:
                reorder.append(m)
                return []
            return [m] + reorder if i == 1 else [m]
        cases["reordered"] = (Plan(message=swap), [], "bad_response_tag")
        for name, (plan, delivered, reason) in cases.items():
            with self.subTest(name):
                self.mitm.plan = plan
                got, err = self.statement()
                self.assertEqual(got, delivered)  # only messages that verified, in order
                self.assertEqual((err.code(), self.verdicts[-1].reason), (DATA_LOSS, reason))

    def test_the_status_and_the_end(self):
        def status(code, details=""):
            def end(r):
                r.code, r.details = code, details
            return end

        def strip(r):
            r.trailing = tuple(m for m in r.trailing if m[0] != RESPONSE_KEY)

        def twice(r):
            r.trailing = r.trailing + tuple(m for m in r.trailing if m[0] == RESPONSE_KEY)

        for name, end, reason in [
            ("OK turned into an error", status(grpc.StatusCode.FAILED_PRECONDITION, "insufficient funds"), "bad_response_end"),
            ("status message changed", status(grpc.StatusCode.OK, "fine"), "bad_response_end"),
            ("end entry stripped", strip, "missing_response_end"),
            ("two end entries", twice, "malformed_response_end"),
        ]:
            with self.subTest(name):
                self.mitm.plan = Plan(end=end)
                self.refused(reason, self.balance)

    def test_a_response_replayed_from_an_earlier_call(self):
        self.seed(1)
        self.balance()
        earlier = self.mitm.calls[-1]
        self.assertEqual(len(earlier.messages), 1)
        self.mitm.plan = Plan(replay=earlier)
        self.refused("bad_response_tag", self.balance)
        # an earlier end alone, with this call's own message
        self.mitm.plan = Plan(end=lambda r: setattr(r, "trailing", earlier.trailing))
        self.refused("bad_response_end", self.balance)

    def test_unsigned_refusals_are_data_loss_for_a_requiring_client(self):
        """A refusal before the nonce was accepted cannot be signed (§13.3)."""
        calls = len(self.ledger.calls)
        self.mitm.plan = None
        self.refused("missing_response_end", self.balance, self.client(roles=("importer",)))
        self.assertEqual(self.audit[-1].reason, "missing_role")
        self.assertEqual(self.ledger.calls[calls:], [])

    def test_statuses_the_transport_makes_pass_unverified(self):
        for code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED):
            with self.subTest(code):
                def end(r, code=code):
                    r.code, r.details = code, "cut"
                    r.trailing = tuple(m for m in r.trailing if m[0] != RESPONSE_KEY)
                self.mitm.plan = Plan(end=end)
                with self.assertRaises(grpc.RpcError) as cm:
                    self.balance()
                self.assertEqual((cm.exception.code(), cm.exception.trailing_metadata(), cm.exception.initial_metadata()),
                                 (code, (), ()))
                self.assertEqual(self.verdicts[-1].to_json()["verdict"], "unverified")

    def test_the_clients_own_deadline_and_cancellation(self):
        self.seed(1)
        gate = threading.Event()
        self.mitm.plan = Plan(message=lambda i, m: gate.wait(2) and [m])
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub(self.client(), "GetBalance")(pb.GetBalanceRequest(account="acc-alice"), timeout=0.2)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertEqual(self.verdicts[-1].verdict, "unverified")
        f = self.stub(self.client(), "GetBalance").future(pb.GetBalanceRequest(account="acc-alice"), timeout=5)
        self.assertTrue(f.cancel())
        with self.assertRaises(grpc.FutureCancelledError):
            f.result()
        call = self.stub(self.client(), "ListTransactions")(pb.ListTransactionsRequest(account="acc-alice"), timeout=5)
        call.cancel()
        with self.assertRaises(grpc.RpcError) as cm:
            next(call)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.CANCELLED)
        gate.set()


class CoveredMetadata(Base):
    """Every method signed by the server's configuration, two names covered (§13.2)."""

    server_options = {"sign_responses": True, "covered_metadata": ("x-note", "x-audit-bin", "x-absent")}
    ledger_class = NotedLedger

    def test_covered_values_verify_and_reach_the_application(self):
        r, call = self.stub(self.client(), "GetBalance").with_call(pb.GetBalanceRequest(account="acc-alice"), timeout=5)
        self.assertEqual(r.balance, 10_000)
        self.assertIn(("x-note", "first"), call.initial_metadata())
        self.assertEqual(dict(call.trailing_metadata())["x-audit-bin"], b"\x00\x01\xff")
        self.assertNotIn(RESPONSE_KEY, dict(call.trailing_metadata()))

    def test_a_covered_value_changed_added_or_removed(self):
        for name, plan in [
            ("header changed", Plan(headers=lambda h: tuple((k, "third" if v == "second" else v) for k, v in h))),
            ("header dropped", Plan(headers=lambda h: tuple(m for m in h if m != ("x-note", "second")))),
            ("header moved to the trailers", Plan(headers=lambda h: tuple(m for m in h if m[0] != "x-note"),
                                                  end=lambda r: setattr(r, "trailing", r.trailing + (("x-note", "first, second"),)))),
            ("absent name given a value", Plan(end=lambda r: setattr(r, "trailing", r.trailing + (("x-absent", "1"),)))),
            ("binary trailer removed", Plan(end=lambda r: setattr(r, "trailing", tuple(m for m in r.trailing if m[0] != "x-audit-bin")))),
        ]:
            with self.subTest(name):
                self.mitm.plan = plan
                self.refused("bad_response_end", self.balance)
        self.mitm.plan = Plan(headers=lambda h: h + (("x-other", "changed freely"),))
        self.assertEqual(self.balance().balance, 10_000)  # not covered

    def test_handler_errors_are_signed_with_their_metadata(self):
        for account, code, details in [("closed", grpc.StatusCode.FAILED_PRECONDITION, "compte clôturé"),
                                       ("boom", grpc.StatusCode.UNKNOWN, "Exception calling application: handler fault")]:
            with self.subTest(account):
                # A handler's exception is logged, as grpcio logs it; an abort is not.
                logged = self.assertLogs("reqauth.grpcio.server", "ERROR") if account == "boom" else contextlib.nullcontext()
                with self.assertRaises(grpc.RpcError) as cm, logged:
                    self.balance(account=account)
                self.assertEqual((cm.exception.code(), cm.exception.details()), (code, details))
                self.assertEqual(dict(cm.exception.trailing_metadata())["x-audit-bin"], b"\x00\x01\xff")
                self.assertEqual(self.verdicts[-1].verdict, "verified")
                self.mitm.plan = Plan(end=lambda r: setattr(r, "code", grpc.StatusCode.OK))
                with logged if account == "boom" else contextlib.nullcontext():
                    self.refused("bad_response_end", self.balance, None, account)
                self.mitm.plan = None

    def test_abort_with_status_and_an_error_set_on_the_context_are_signed(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.balance(account="status")
        self.assertEqual((cm.exception.code(), cm.exception.details()), (grpc.StatusCode.NOT_FOUND, "no such account"))
        self.assertEqual(dict(cm.exception.trailing_metadata())["x-audit-bin"], b"\x02")
        self.assertEqual(self.statement(account="partial")[0], ["tx-0"])
        self.assertEqual((self.statement(account="partial")[1].code(), self.verdicts[-1].verdict), (grpc.StatusCode.ABORTED, "verified"))
        self.mitm.plan = Plan(end=lambda r: setattr(r, "code", grpc.StatusCode.OK))
        got, err = self.statement(account="partial")
        self.assertEqual((got, err.code(), self.verdicts[-1].reason), (["tx-0"], DATA_LOSS, "bad_response_end"))

    def test_all_four_call_kinds(self):
        ch = self.client()
        self.assertEqual(self.stub(ch, "Transfer")(pb.TransferRequest(transaction=tx(1)), timeout=5).from_balance, 9_900)
        self.assertEqual(self.statement(ch), (["tx-1"], None))
        s = self.stub(ch, "ImportTransactions")(iter([pb.ImportTransactionsRequest(transaction=tx(i)) for i in range(3)]), timeout=5)
        self.assertEqual(s.imported, 3)
        f = self.stub(ch, "ImportTransactions").future(iter([pb.ImportTransactionsRequest(transaction=tx(1))]), timeout=5)
        self.assertEqual(f.result().imported, 1)
        out = list(self.stub(ch, "Reconcile")(iter([pb.ReconcileRequest(transaction=tx(1)), pb.ReconcileRequest(transaction=tx(9))]), timeout=5))
        self.assertEqual([(x.id, x.matches) for x in out], [("tx-1", True), ("tx-9", False)])
        self.assertEqual([v.verdict for v in self.verdicts], ["verified"] * 5)

    def test_step_5_refusals_are_signed(self):
        """A request stream cut short (stream_truncated) after the nonce was accepted: the
        client sees UNAUTHENTICATED, verified, and a forged OK is caught."""
        from reqauth import RequestSigner
        from reqauth.signer import ENVELOPE_KEY

        signer = RequestSigner(issue_credential(ROOT, "ledger", "frontdesk", ("importer",)))
        header, tagger = signer.sign_stream(SVC + "ImportTransactions")
        frames = [tagger.tag_message(pb.ImportTransactionsRequest(transaction=tx(1)).SerializeToString())]  # no end marker
        raw = grpc.insecure_channel(self.mitm.target)
        self.channels.append(raw)
        with self.assertRaises(grpc.RpcError) as cm:
            raw.stream_unary(SVC + "ImportTransactions")(iter(frames), metadata=((ENVELOPE_KEY, header.value),), timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(self.audit[-1].to_json()["response"], "signed")
        entries = [v for k, v in cm.exception.trailing_metadata() if k == RESPONSE_KEY]
        from reqauth.response import ResponseVerifier

        v = ResponseVerifier(header.call_key, header.mac)
        self.assertIsNone(v.end(entries, 16, "request authentication failed", cm.exception.initial_metadata(),
                                cm.exception.trailing_metadata()))
        self.assertEqual(v.end(entries, 0, "", cm.exception.initial_metadata(), cm.exception.trailing_metadata()), "bad_response_end")


class SignedButNotAResponse(Base):
    """A server that signs an OK with no message for a unary method (GetBalance served as a
    response stream of none): the end verifies, but there is no response to hand on (§13.4)."""

    server_options = {"sign_responses": True}

    def setUp(self):
        original = ledger_example.handlers

        def handlers(impl):
            inner = original(impl)

            class NoMessage(grpc.GenericRpcHandler):
                def service(self, details):
                    if details.method == SVC + "GetBalance":
                        return grpc.unary_stream_rpc_method_handler(lambda req, ctx: iter(()),
                                                                    request_deserializer=pb.GetBalanceRequest.FromString)
                    return inner.service(details)
            return NoMessage()
        ledger_example.handlers = handlers
        try:
            super().setUp()
        finally:
            ledger_example.handlers = original

    def test_a_signed_ok_without_the_message_is_malformed_response(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.balance()
        self.assertEqual((cm.exception.code(), cm.exception.details()), (grpc.StatusCode.INTERNAL, "internal error"))
        self.assertEqual([(v.verdict, v.reason) for v in self.verdicts], [("refused", "malformed_response")])


class Configuration(unittest.TestCase):
    def test_bad_covered_names_and_public_signing_are_configuration_errors(self):
        for names in [("X-Note",), ("grpc-message",), ("reqauth-response-bin",), ("a", "a")]:
            with self.subTest(names), self.assertRaises(ReqauthConfigError):
                ReqauthServer(StaticKeys(ROOT, "ledger"), Policy(), covered_metadata=names)
        with self.assertRaises(ReqauthConfigError):
            Policy({SVC + "Ping": AccessRule(public=True, sign_responses=True)})

    def test_require_takes_true_or_paths(self):
        ch = reqauth_channel(grpc.insecure_channel("127.0.0.1:1"), issue_credential(ROOT, "ledger", "p", ("r",)),
                             require_signed_responses=["/a.S/*", "/b.T/M"])
        self.assertEqual([ch.requires_signed_responses(m) for m in ("/a.S/X", "/a.SS/X", "/b.T/M", "/b.T/N")],
                         [True, False, True, False])
        with self.assertRaises(TypeError):
            reqauth_channel(grpc.insecure_channel("127.0.0.1:1"), issue_credential(ROOT, "ledger", "p", ("r",)),
                            require_signed_responses="/a.S/M")
        ch.close()


if __name__ == "__main__":
    unittest.main()
