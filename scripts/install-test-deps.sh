#!/usr/bin/env bash
# Installs the Debian packages the tests use: python3-pymacaroons, an independent macaroon
# implementation the interop tests run against (under /usr/bin/python3, where Debian's
# Python packages load). Does nothing when it is already there. Called by `npm test`.
set -euo pipefail
if /usr/bin/python3 -c 'import pymacaroons' 2>/dev/null; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: not root and no sudo: cannot install python3-pymacaroons; its interop tests will be skipped" >&2
    exit 0
  fi
fi
echo "install-test-deps: installing python3-pymacaroons (apt)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pymacaroons >/dev/null
