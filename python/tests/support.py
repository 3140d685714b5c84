"""Shared test helpers: the repository's vectors and small keyrings."""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(PYTHON_ROOT)
sys.path.insert(0, os.path.join(PYTHON_ROOT, "src"))

from reqauth.keyring import KeyringData, ROOT_FORMAT  # noqa: E402


def vectors(name: str) -> dict:
    with open(os.path.join(REPO, "test", "vectors", name), encoding="utf-8") as f:
        return json.load(f)


def root_ring(secret: bytes, key_id: str, denied_keys=(), denied_principals=()) -> KeyringData:
    return KeyringData(ROOT_FORMAT, key_id, secrets={key_id: secret}, statuses={key_id: "active"},
                       denied_key_ids=frozenset(denied_keys), denied_principals=frozenset(denied_principals))
