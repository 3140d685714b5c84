"""Interop driver for test/macaroon/interop.test.ts, run with Debian's /usr/bin/python3.

  mint:    prints JSON {key, exact, tokens: [{format, root, discharges}]} minted by pymacaroons
           (a first-party and a third-party caveat, the discharge bound with prepare_for_request)
  verify:  reads JSON {key, exact, root, discharges} on stdin, prints {"ok": bool, "error": str}
"""
import json
import sys

from pymacaroons import MACAROON_V1, MACAROON_V2, Macaroon, Verifier

KEY = 'interop root key, 32 bytes long!'
CAVEAT_KEY = 'interop caveat key for the third'
EXACT = ['user = alice', 'time < 2030']


def mint():
    tokens = []
    for name, version in (('v1', MACAROON_V1), ('v2', MACAROON_V2)):
        m = Macaroon(location='https://svc', identifier='py-root', key=KEY, version=version)
        m.add_first_party_caveat('user = alice')
        m.add_third_party_caveat('https://auth', CAVEAT_KEY, 'py-tp')
        d = Macaroon(location='https://auth', identifier='py-tp', key=CAVEAT_KEY, version=version)
        d.add_first_party_caveat('time < 2030')
        bound = m.prepare_for_request(d)
        tokens.append({'format': name, 'root': m.serialize(), 'discharges': [bound.serialize()]})
    print(json.dumps({'key': KEY, 'caveat_key': CAVEAT_KEY, 'exact': EXACT, 'tokens': tokens}))


def verify():
    req = json.load(sys.stdin)
    try:
        m = Macaroon.deserialize(req['root'])
        ds = [Macaroon.deserialize(d) for d in req['discharges']]
        v = Verifier()
        for p in req['exact']:
            v.satisfy_exact(p)
        ok = v.verify(m, req['key'], discharge_macaroons=ds)
        print(json.dumps({'ok': bool(ok)}))
    except Exception as e:  # a refusal, reported as a value
        print(json.dumps({'ok': False, 'error': type(e).__name__}))


if __name__ == '__main__':
    {'mint': mint, 'verify': verify}[sys.argv[1]]()
