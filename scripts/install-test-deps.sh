#!/usr/bin/env bash
# Installs the Debian packages the interop tests use, independent macaroon implementations:
#   python3-pymacaroons            pymacaroons, under /usr/bin/python3 (where Debian's Python
#                                  packages load): test/macaroon/interop.test.ts
#   libmacaroons0, libmacaroons-dev  libmacaroons (C), plus gcc and libc6-dev to build the
#                                  driver at test time: test/macaroon/interop-libmacaroons.test.ts
#   python3-grpcio, python3-protobuf, python3-nacl, protobuf-compiler
#                                  the Python package python/ (its unit tests and
#                                  test/interop/python.test.ts); protoc compiles the example
#                                  protos for it at test time, and checks that the descriptor
#                                  sets it writes carry the access rules (codegen-styles test)
#   redis-server                   a real Redis for the shared replay store's tests and the soak
#                                  (test/redis/; the harness starts it on a free loopback port)
# (The npm `macaroon` package is a dev dependency: npm ci installs it.)
# Idempotent, and does nothing (no apt) when everything is already there. Called by `npm test`.
set -euo pipefail

have_compiler() { command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; }
have_libmacaroons() {
  [ -f /usr/include/macaroons.h ] || return 1
  local so
  for so in /usr/lib/*/libmacaroons.so /usr/lib/libmacaroons.so; do [ -e "$so" ] && return 0; done
  return 1
}

missing=()
/usr/bin/python3 -c 'import pymacaroons' 2>/dev/null || missing+=(python3-pymacaroons)
/usr/bin/python3 -c 'import grpc' 2>/dev/null || missing+=(python3-grpcio)
/usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || missing+=(python3-protobuf)
/usr/bin/python3 -c 'import nacl.secret' 2>/dev/null || missing+=(python3-nacl)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
have_libmacaroons || missing+=(libmacaroons0 libmacaroons-dev)
have_compiler || missing+=(gcc libc6-dev)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-test-deps: not root and no sudo: cannot install ${missing[*]}; their interop tests will be skipped (and fail on CI)" >&2
    exit 0
  fi
fi
echo "install-test-deps: installing ${missing[*]} (apt)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
