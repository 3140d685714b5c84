"""The committed reqauth/v1/*_pb2.py are what protoc makes of proto/ today."""
import os
import shutil
import subprocess
import tempfile
import unittest

from support import PYTHON_ROOT, REPO


@unittest.skipUnless(shutil.which("protoc"), "protoc not installed (scripts/install-test-deps.sh installs it)")
class GeneratedCode(unittest.TestCase):
    def test_committed_code_matches_protoc(self):
        with tempfile.TemporaryDirectory() as out:
            files = sorted(f for f in os.listdir(os.path.join(REPO, "proto", "reqauth", "v1")) if f.endswith(".proto"))
            subprocess.run(["protoc", "-I", os.path.join(REPO, "proto"), f"--python_out={out}",
                            *[os.path.join(REPO, "proto", "reqauth", "v1", f) for f in files]], check=True)
            for f in files:
                name = f.replace(".proto", "_pb2.py")
                with open(os.path.join(out, "reqauth", "v1", name), "rb") as a, \
                        open(os.path.join(PYTHON_ROOT, "src", "reqauth", "v1", name), "rb") as b:
                    self.assertEqual(a.read(), b.read(),
                                     f"{name} is stale: protoc -I proto --python_out=python/src proto/reqauth/v1/*.proto")


if __name__ == "__main__":
    unittest.main()
