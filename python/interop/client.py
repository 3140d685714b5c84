"""The Python side of the interop test (test/interop/python.test.ts): a reqauth client driven
case by case over stdin, one JSON line out per case.

    /usr/bin/python3 python/interop/client.py CONFIG.json
    stdin:  CASE [ARG]        stdout: {"case": CASE, "code": GRPC_CODE, ...}

CONFIG: {"ledger": "host:port", "tokens": "host:port", "credentials": {name: path}}.
Honest calls go through reqauth_channel; attacks are made with the signer and a raw channel
(identity serializers), as an on-path attacker would send them. The signed_* cases require
signed responses (spec §13.4), of the methods the .proto signs, at ARG (a proxy) or the ledger;
every result line carries the response verdicts the client recorded.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))

import grpc  # noqa: E402

from protos import generated  # noqa: E402

from reqauth import RequestSigner, load_credential, signed_response_methods  # noqa: E402
from reqauth.grpcio import acting_for, reqauth_channel  # noqa: E402
from reqauth.macaroon import Presentation, bind_for_request, parse_token  # noqa: E402
from reqauth.signer import ENVELOPE_KEY  # noqa: E402

pb = generated("ledger.v1.ledger_pb2")
tokens_pb = generated("tokens.v1.tokens_pb2")
SVC = "/ledger.v1.LedgerService/"
CONFIG = json.load(open(sys.argv[1]))
CREDS = {name: load_credential(path) for name, path in CONFIG["credentials"].items()}


def tx(i, amount=100):
    return pb.Transaction(id=f"py-{i}", from_account="acc-alice", to_account="acc-bob", amount=amount)


VERDICTS = []  # this case's response verdicts


def signed_channel(cred, target=None, require=False):
    return reqauth_channel(grpc.insecure_channel(target or CONFIG["ledger"]), CREDS[cred],
                           require_signed_responses=require, response_audit=lambda v: VERDICTS.append(v.to_json()))


def method(ch, name, req, res, kind):
    make = {"uu": ch.unary_unary, "us": ch.unary_stream, "su": ch.stream_unary, "ss": ch.stream_stream}[kind]
    return make(SVC + name, request_serializer=req.SerializeToString, response_deserializer=res.FromString)


RAW = grpc.insecure_channel(CONFIG["ledger"])


def raw_unary(md, body, name="Transfer"):
    return RAW.unary_unary(SVC + name)(body, metadata=md, timeout=5)


def raw_stream(md, frames, name="ImportTransactions"):
    return RAW.stream_unary(SVC + name)(iter(frames), metadata=md, timeout=5)


def case_honest_unary(_):
    with signed_channel("frontdesk") as ch:
        r = method(ch, "Transfer", pb.TransferRequest, pb.TransferResponse, "uu")(pb.TransferRequest(transaction=tx(1)))
    return {"from_balance": r.from_balance}


def case_honest_server_stream(_):
    with signed_channel("frontdesk") as ch:
        rows = list(method(ch, "ListTransactions", pb.ListTransactionsRequest, pb.ListTransactionsResponse, "us")(
            pb.ListTransactionsRequest(account="acc-alice", limit=1)))
    return {"rows": len(rows)}


def case_honest_client_stream(_):
    with signed_channel("batch") as ch:
        r = method(ch, "ImportTransactions", pb.ImportTransactionsRequest, pb.ImportTransactionsResponse, "su")(
            iter([pb.ImportTransactionsRequest(transaction=tx(i)) for i in range(3)]))
    return {"imported": r.imported}


def case_honest_bidi(_):
    with signed_channel("auditor") as ch:
        out = list(method(ch, "Reconcile", pb.ReconcileRequest, pb.ReconcileResponse, "ss")(
            iter([pb.ReconcileRequest(transaction=tx(i)) for i in range(2)])))
    return {"answers": len(out)}


BODY = pb.TransferRequest(transaction=tx(7)).SerializeToString()


def header(cred, body, name="Transfer"):
    return ((ENVELOPE_KEY, RequestSigner(CREDS[cred]).sign(SVC + name, body).value),)


def case_tampered_unary(_):
    tampered = bytearray(BODY)
    tampered[-1] ^= 1
    raw_unary(header("frontdesk", BODY), bytes(tampered))


def case_replayed_unary(_):
    md = header("frontdesk", BODY)
    raw_unary(md, BODY)
    raw_unary(md, BODY)


def stream_frames(drop_end=False, flip=None):
    h, tagger = RequestSigner(CREDS["batch"]).sign_stream(SVC + "ImportTransactions")
    frames = [tagger.tag_message(pb.ImportTransactionsRequest(transaction=tx(i)).SerializeToString()) for i in range(3)]
    frames.append(tagger.end_marker())
    if drop_end:
        frames.pop()
    if flip is not None:
        f = bytearray(frames[flip])
        f[0] ^= 1
        frames[flip] = bytes(f)
    return ((ENVELOPE_KEY, h.value),), frames


def case_tampered_stream(_):
    raw_stream(*stream_frames(flip=1))


def case_truncated_stream(_):
    raw_stream(*stream_frames(drop_end=True))


def case_wrong_audience(_):
    with signed_channel("billing") as ch:
        method(ch, "Transfer", pb.TransferRequest, pb.TransferResponse, "uu")(pb.TransferRequest(transaction=tx(8)))


SIGNED = signed_response_methods(pb.DESCRIPTOR)  # GetBalance, ListTransactions


def case_signed_balance(target):
    with signed_channel("auditor", target, SIGNED) as ch:
        r = method(ch, "GetBalance", pb.GetBalanceRequest, pb.GetBalanceResponse, "uu")(
            pb.GetBalanceRequest(account="acc-alice"), timeout=5)
    return {"balance": r.balance}


def case_signed_statement(target):
    with signed_channel("auditor", target, SIGNED) as ch:
        rows = list(method(ch, "ListTransactions", pb.ListTransactionsRequest, pb.ListTransactionsResponse, "us")(
            pb.ListTransactionsRequest(account="acc-alice"), timeout=5))
    return {"rows": len(rows)}


def case_signed_transfer_required(target):
    """Requires a signed response of Transfer, which the .proto does not sign (§13.5)."""
    with signed_channel("frontdesk", target, True) as ch:
        method(ch, "Transfer", pb.TransferRequest, pb.TransferResponse, "uu")(pb.TransferRequest(transaction=tx(11, 1)), timeout=5)


def case_macaroon(otp):
    """Log alice in at the TypeScript token service as `web`, get her MFA discharge, and
    present her macaroon by possession to the ledger (Python or TypeScript)."""
    with signed_channel("web_tokens", CONFIG["tokens"]) as ch:
        login = ch.unary_unary("/tokens.v1.TokenService/Login", request_serializer=tokens_pb.LoginRequest.SerializeToString,
                               response_deserializer=tokens_pb.LoginResponse.FromString)(
            tokens_pb.LoginRequest(user="alice", password="wonderland-42"))
        root = parse_token(login.macaroon)
        third = [c for c in root.caveats if c.third_party][0]
        d = ch.unary_unary("/tokens.v1.TokenService/Discharge", request_serializer=tokens_pb.DischargeRequest.SerializeToString,
                           response_deserializer=tokens_pb.DischargeResponse.FromString)(
            tokens_pb.DischargeRequest(caveat_id=third.cid, otp=otp))
    discharge = bind_for_request(root.signature, parse_token(d.discharge))
    with signed_channel("web_ledger", require=SIGNED) as ch, acting_for("alice", Presentation(root, (discharge,))):
        r = method(ch, "Transfer", pb.TransferRequest, pb.TransferResponse, "uu")(pb.TransferRequest(transaction=tx(9, 5)))
        # A signed response to a macaroon call: keyed by the possession key (§13.1).
        b = method(ch, "GetBalance", pb.GetBalanceRequest, pb.GetBalanceResponse, "uu")(pb.GetBalanceRequest(account="acc-alice"))
    return {"from_balance": r.from_balance, "balance": b.balance,
            "caveats": [c.cid.decode() for c in root.caveats if not c.third_party]}


def main():
    for line in sys.stdin:
        name, _, arg = line.strip().partition(" ")
        if not name:
            continue
        out = {"case": name, "code": 0}
        VERDICTS.clear()
        try:
            out.update(globals()[f"case_{name}"](arg) or {})
        except grpc.RpcError as err:
            out.update(code=err.code().value[0], details=err.details())
        except Exception as err:  # reported, so the test fails with the reason
            out.update(code=-1, error=f"{type(err).__name__}: {err}")
        if VERDICTS:
            out["verdicts"] = list(VERDICTS)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
