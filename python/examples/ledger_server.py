"""The example ledger as a Python service behind reqauth (the same service as examples/ledger).

    python3 python/examples/ledger_server.py --keys service.json --audience ledger [--port 0]
        [--macaroon-keys macaroons.json] [--accept-handoff-as NAME] [--sign-responses]

GetBalance and ListTransactions sign their responses, as the .proto says; --sign-responses
signs every authenticated method's (spec §13).

Prints `listening PORT` and then one JSON audit line per decision on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent import futures

import grpc

from protos import generated, method_kinds

from reqauth import KeyringFile, policy_from_descriptors
from reqauth.grpcio import ReqauthServer, get_claims

pb = generated("ledger.v1.ledger_pb2")
SERVICE = pb.DESCRIPTOR.services_by_name["LedgerService"]


class Ledger:
    def __init__(self) -> None:
        self.balances = {"acc-alice": 10_000, "acc-bob": 2_500}
        self.journal = []
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def Ping(self, request, context):
        self.calls.append("Ping")
        return pb.PingResponse(server_time_ms=int(time.time() * 1000))

    def GetBalance(self, request, context):
        self.calls.append("GetBalance")
        return pb.GetBalanceResponse(account=request.account, balance=self.balances.get(request.account, 0))

    def Transfer(self, request, context):
        self.calls.append("Transfer")
        claims = get_claims(context)
        tx = request.transaction
        if tx.amount <= 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "amount must be positive")
        with self.lock:
            if self.balances.get(tx.from_account, 0) < tx.amount:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, "insufficient funds")
            self.balances[tx.from_account] = self.balances.get(tx.from_account, 0) - tx.amount
            self.balances[tx.to_account] = self.balances.get(tx.to_account, 0) + tx.amount
            self.journal.append((tx, claims.principal, claims.on_behalf_of))
        return pb.TransferResponse(id=tx.id, from_balance=self.balances[tx.from_account],
                                   to_balance=self.balances[tx.to_account])

    def ListTransactions(self, request, context):
        self.calls.append("ListTransactions")
        rows = [t for t, _, _ in self.journal if request.account in (t.from_account, t.to_account)]
        for t in rows[: request.limit or len(rows)]:
            yield pb.ListTransactionsResponse(transaction=t)

    def ImportTransactions(self, request_iterator, context):
        self.calls.append("ImportTransactions")
        imported = total = 0
        pending = []
        for r in request_iterator:  # all-or-nothing: act only at the verified end (§5.2)
            pending.append(r.transaction)
        for t in pending:
            imported += 1
            total += t.amount
        return pb.ImportTransactionsResponse(imported=imported, total_amount=total)

    def Reconcile(self, request_iterator, context):
        self.calls.append("Reconcile")
        known = {t.id for t, _, _ in self.journal}
        for r in request_iterator:
            yield pb.ReconcileResponse(id=r.transaction.id, matches=r.transaction.id in known)

    def CloseAccount(self, request, context):
        self.calls.append("CloseAccount")
        return pb.CloseAccountResponse()


def handlers(impl) -> grpc.GenericRpcHandler:
    table = {}
    for path, name, req, res, cs, ss in method_kinds(SERVICE):
        make = {(False, False): grpc.unary_unary_rpc_method_handler, (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler, (True, True): grpc.stream_stream_rpc_method_handler}[(cs, ss)]
        table[name] = make(getattr(impl, name), request_deserializer=req.FromString, response_serializer=res.SerializeToString)
    return grpc.method_handlers_generic_handler(SERVICE.full_name, table)


def serve(keys, audit, port: int = 0, macaroons=None, host: str = "127.0.0.1", ledger=None, **options):
    """Starts the ledger behind reqauth; returns (server, port, ledger). GetBalance and
    ListTransactions sign their responses, as their (reqauth.v1.access) options say; ``options``
    go to ReqauthServer (``sign_responses=True``, ``covered_metadata=...``)."""
    auth = ReqauthServer(keys=keys, policy=policy_from_descriptors(pb.DESCRIPTOR), audit=audit, macaroons=macaroons,
                         **options)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), interceptors=[auth.interceptor])
    ledger = ledger or Ledger()
    server.add_generic_rpc_handlers((handlers(ledger),))
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    return server, bound, ledger


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", required=True)
    ap.add_argument("--audience", default="ledger")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--macaroon-keys")
    ap.add_argument("--accept-handoff-as")
    ap.add_argument("--sign-responses", action="store_true")
    a = ap.parse_args()
    out_lock = threading.Lock()

    def audit(e):
        with out_lock:
            print(json.dumps({"audit": e.to_json()}), flush=True)

    macaroons = None
    if a.macaroon_keys:
        from reqauth.macaroon import MacaroonAcceptance, MacaroonKeyringFile

        macaroons = MacaroonAcceptance(MacaroonKeyringFile(a.macaroon_keys, poll_interval_s=0.2),
                                       accept_handoff=bool(a.accept_handoff_as), self_name=a.accept_handoff_as)
    server, port, _ = serve(KeyringFile(a.keys, a.audience, poll_interval_s=0.2), audit, a.port, macaroons,
                            sign_responses=a.sign_responses)
    print(json.dumps({"listening": port}), flush=True)
    try:
        sys.stdin.read()  # runs until the parent closes stdin
    finally:
        server.stop(0)


if __name__ == "__main__":
    main()
