"""Review helper: the Python package's decision on requests the TypeScript side made.

Reads one JSON object per line on stdin, answers one JSON line each on stdout:
  {"op": "verify", "rootKeyring": JSON, "audience": A, "macaroonKeyring": JSON|null,
   "requireUser": bool, "method": M, "rules": {M: {"roles": [...]}}, "value": b64, "nowMs": N}
     -> {"decision": "allow"|"deny", "reason": str|null, "onBehalfOf": str|null, "userVerified": bool}
  {"op": "parseMacaroonKeyring", "text": JSON} -> {"ok": bool, "error": str|null}
  {"op": "replay", "maxEntries": N, "calls": [[principal, nonceHex, expiresAt], ...], "nowMs": N}
     -> {"verdicts": [...]}    (a MemoryReplayStore with its defaults but max_entries)
"""
import base64
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# dist/test/review -> repository root, or test/review -> repository root
ROOT = HERE
while not os.path.isdir(os.path.join(ROOT, "python", "src")):
    ROOT = os.path.dirname(ROOT)
sys.path.insert(0, os.path.join(ROOT, "python", "src"))

from reqauth import StaticKeys  # noqa: E402
from reqauth.errors import ReqauthConfigError  # noqa: E402
from reqauth.macaroon import MacaroonAcceptance, parse_macaroon_keyring  # noqa: E402
from reqauth.policy import AccessRule, Policy  # noqa: E402
from reqauth.replay import MemoryReplayStore  # noqa: E402
from reqauth.verifier import RequestVerifier  # noqa: E402


def verify(req):
    now = req["nowMs"]
    keys = StaticKeys(req["rootKeyring"], req["audience"])
    macaroons = None
    if req.get("macaroonKeyring"):
        macaroons = MacaroonAcceptance(parse_macaroon_keyring(req["macaroonKeyring"]), require_user=req["requireUser"])
    policy = Policy({m: AccessRule(roles=tuple(r["roles"])) for m, r in req["rules"].items()})
    v = RequestVerifier(keys, policy, macaroons=macaroons, now=lambda: now,
                        replay_store=MemoryReplayStore(now=lambda: 0))
    out = v.verify_header([base64.b64decode(req["value"])], req["method"], True)
    claims = getattr(out, "claims", None)
    reason = getattr(out, "reason", None)
    return {
        "decision": "deny" if reason else "allow",
        "reason": reason,
        "onBehalfOf": claims.on_behalf_of if claims else None,
        "userVerified": bool(claims.user_verified) if claims else False,
    }


def parse_mk(req):
    try:
        parse_macaroon_keyring(req["text"])
        return {"ok": True, "error": None}
    except ReqauthConfigError as e:
        return {"ok": False, "error": str(e)}


def replay(req):
    now = req["nowMs"]
    store = MemoryReplayStore(max_entries=req["maxEntries"], now=lambda: now)
    return {"verdicts": [store.check_and_remember(p, bytes.fromhex(n), e) for p, n, e in req["calls"]]}


OPS = {"verify": verify, "parseMacaroonKeyring": parse_mk, "replay": replay}

for line in sys.stdin:
    if line.strip():
        req = json.loads(line)
        print(json.dumps(OPS[req["op"]](req)), flush=True)
