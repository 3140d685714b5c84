"""The example protos (ledger, tokens), compiled with protoc at test time.

They are test fixtures, so they are generated rather than committed: nothing to keep in step
with examples/proto/. reqauth's own protos (reqauth/v1/*_pb2.py) are committed instead, so the
package installs without protoc. Service stubs are not generated (Debian's grpc_python_plugin
is not needed): the examples build method handlers and calls from the descriptors.
"""
from __future__ import annotations

import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

_OUT = None


def generated(module: str):
    """``generated("ledger.v1.ledger_pb2")``: protoc's output for the example protos."""
    global _OUT
    if _OUT is None:
        _OUT = tempfile.mkdtemp(prefix="reqauth-py-gen-")
        atexit.register(shutil.rmtree, _OUT, True)
        files = ["ledger/v1/ledger.proto", "tokens/v1/tokens.proto", "tokens/shop/v1/shop.proto"]
        subprocess.run(["protoc", "-I", os.path.join(REPO, "proto"), "-I", os.path.join(REPO, "examples", "proto"),
                        f"--python_out={_OUT}", *files], check=True)
        for pkg in ("ledger", "ledger/v1", "tokens", "tokens/v1", "tokens/shop", "tokens/shop/v1"):
            open(os.path.join(_OUT, pkg, "__init__.py"), "a").close()
        sys.path.insert(0, _OUT)
    return importlib.import_module(module)


def method_kinds(service_descriptor):
    """(path, request class, response class, request_streaming, response_streaming) per method."""
    from google.protobuf import message_factory

    out = []
    for m in service_descriptor.methods:
        req = message_factory.GetMessageClass(m.input_type) if hasattr(message_factory, "GetMessageClass") else \
            message_factory.MessageFactory().GetPrototype(m.input_type)
        res = message_factory.GetMessageClass(m.output_type) if hasattr(message_factory, "GetMessageClass") else \
            message_factory.MessageFactory().GetPrototype(m.output_type)
        out.append((f"/{service_descriptor.full_name}/{m.name}", m.name, req, res, m.client_streaming, m.server_streaming))
    return out
