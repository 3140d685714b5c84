"""Key, credential and macaroon keyring files (spec §6.6), with files the TypeScript CLI wrote."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import support

from reqauth import KeyringFile, ReqauthConfigError, StaticKeys, parse_credential, parse_keyring
from reqauth.keys import derive_audience_key, derive_principal_key
from reqauth.macaroon import parse_macaroon_keyring

ROOT = {"format": "reqauth-root-keyring/v1", "keys": [{"keyId": "k1", "status": "active", "created": "x",
        "secret": base64.urlsafe_b64encode(bytes(range(32))).rstrip(b"=").decode()}], "deny": {"keyIds": [], "principals": []}}


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def variant(**change):
    doc = json.loads(json.dumps(ROOT))
    for k, v in change.items():
        if k.startswith("key_"):
            doc["keys"][0][k[4:]] = v
        else:
            doc[k] = v
    return json.dumps(doc)


class Files(unittest.TestCase):
    def test_root_keyring_gives_the_audience_keys(self):
        keys = StaticKeys(json.dumps(ROOT), "ledger").current()
        self.assertEqual(keys.audience_key("k1"), derive_audience_key(bytes(range(32)), "k1", "ledger"))
        self.assertIsNone(keys.audience_key("k2"))

    def test_strict_encodings(self):
        good = ROOT["keys"][0]["secret"]
        for bad in (good + "=", good.replace("-", "+").replace("_", "/") + "x", good[:-2], base64.b64encode(bytes(32)).decode()):
            with self.subTest(bad):
                with self.assertRaises(ReqauthConfigError):
                    parse_keyring(variant(key_secret=bad))
        for bad in ({"key_keyId": "a b"}, {"key_keyId": "a" * 65}, {"key_status": "verify"}, {"format": "x"}):
            with self.subTest(bad):
                with self.assertRaises(ReqauthConfigError):
                    parse_keyring(variant(**bad))
        parse_keyring(variant(extra=1))  # unknown members are ignored

    def test_errors_never_quote_the_file(self):
        try:
            parse_keyring(variant(key_secret="c2VjcmV0c2VjcmV0"))
        except ReqauthConfigError as e:
            self.assertNotIn("c2VjcmV0c2VjcmV0", str(e))

    @unittest.skipUnless(os.path.exists(os.path.join(support.REPO, "dist", "cli", "reqauth.js")) and shutil.which("node"),
                         "needs the built TypeScript CLI (npm run build)")
    def test_files_written_by_the_typescript_cli(self):
        cli = os.path.join(support.REPO, "dist", "cli", "reqauth.js")
        with tempfile.TemporaryDirectory() as d:
            run = lambda *a: subprocess.run(["node", cli, *a], cwd=d, check=True, capture_output=True)  # noqa: E731
            run("keygen", "--out", "root.json")
            run("derive", "--root", "root.json", "--audience", "ledger", "--out", "svc.json")
            run("derive", "--root", "root.json", "--audience", "ledger", "--principal", "fd", "--role", "teller",
                "--role", "auditor", "--out", "cred.json")
            root, svc, cred = (parse_keyring(read(os.path.join(d, "root.json"))), parse_keyring(read(os.path.join(d, "svc.json"))),
                               parse_credential(read(os.path.join(d, "cred.json"))))
            from_root = StaticKeys(root, "ledger").current()
            from_svc = StaticKeys(svc, "ledger").current()
            self.assertEqual(from_root.audience_key(cred.key_id), from_svc.audience_key(cred.key_id))
            self.assertEqual(derive_principal_key(from_svc.audience_key(cred.key_id), "fd", ("teller", "auditor")),
                             cred.principal_key)
            with self.assertRaises(ReqauthConfigError):
                StaticKeys(svc, "billing")

    def test_keyring_file_reload_keeps_previous_keys_on_error(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "k.json")
            write(path, json.dumps(ROOT))
            errors = []
            f = KeyringFile(path, "ledger", poll_interval_s=0.05, on_error=errors.append)
            try:
                first = f.current()
                write(path, "{not json")
                deadline = time.time() + 3
                while not errors and time.time() < deadline:
                    time.sleep(0.05)
                self.assertTrue(errors)
                self.assertIs(f.current(), first)
                self.assertNotIn("not json", str(errors[0]))
                doc = json.loads(json.dumps(ROOT))
                doc["deny"]["principals"] = ["fd"]
                write(path, json.dumps(doc))
                while not f.current().is_principal_denied("fd") and time.time() < deadline + 3:
                    time.sleep(0.05)
                self.assertTrue(f.current().is_principal_denied("fd"))
            finally:
                f.close()

    def test_macaroon_keyring(self):
        doc = {"format": "reqauth-macaroon-keyring/v1", "keys": [{"keyId": "m1", "status": "active",
               "rootKey": base64.urlsafe_b64encode(bytes(32)).rstrip(b"=").decode()}], "revoked": ["m1.x"]}
        keys = parse_macaroon_keyring(json.dumps(doc))
        self.assertEqual(keys.root_key(b"m1.abc"), bytes(32))
        self.assertIsNone(keys.root_key(b"m1"))
        self.assertIsNone(keys.root_key(b"m2.abc"))
        self.assertTrue(keys.is_revoked(b"m1.x"))


if __name__ == "__main__":
    unittest.main()
