"""The grpcio client binding: a channel that signs every call (spec §4, §5).

The single message must be signed over its exact bytes, so the channel serializes each
request itself, signs, and hands the bytes to the inner channel with an identity serializer.
Generated stubs work unchanged on it:

    channel = reqauth_channel(grpc.insecure_channel(target), load_credential("cred.json"))
    stub = ledger_pb2_grpc.LedgerServiceStub(channel)
    with acting_for("alice", macaroon=presentation):   # optional, per call
        stub.Transfer(request)
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any, Iterator

import grpc

from ..keyring import ClientCredential
from ..signer import ENVELOPE_KEY, RequestSigner


@dataclass(frozen=True)
class _CallOptions:
    on_behalf_of: str = ""
    macaroon: Any = None  # reqauth.macaroon.Presentation


_options: contextvars.ContextVar[_CallOptions] = contextvars.ContextVar("reqauth_call_options", default=_CallOptions())


@contextlib.contextmanager
def acting_for(on_behalf_of: str = "", macaroon=None):
    """Calls made inside carry ``on_behalf_of`` (asserted) and/or present ``macaroon``
    (a :class:`reqauth.macaroon.Presentation`, which proves the user, §11)."""
    token = _options.set(_CallOptions(on_behalf_of or "", macaroon))
    try:
        yield
    finally:
        _options.reset(token)


def _identity(b: bytes) -> bytes:
    return b


def _with_header(metadata, value: bytes):
    return tuple(metadata or ()) + ((ENVELOPE_KEY, value),)


class _Signing:
    def __init__(self, signer: RequestSigner, inner: grpc.Channel, method: str, serialize, deserialize, kwargs) -> None:
        self._signer, self._method = signer, method
        self._serialize = serialize or _identity
        self._inner_callable = None
        self._make = lambda factory: factory(method, request_serializer=None, response_deserializer=deserialize, **kwargs)
        self._inner_channel = inner

    def _single(self, request, metadata):
        body = self._serialize(request)
        o = _options.get()
        header = self._signer.sign(self._method, body, o.on_behalf_of, o.macaroon)
        return body, _with_header(metadata, header.value)

    def _stream(self, requests: Iterator, metadata):
        o = _options.get()
        header, tagger = self._signer.sign_stream(self._method, o.on_behalf_of, o.macaroon)
        serialize = self._serialize

        def frames():
            for r in requests:
                yield tagger.tag_message(serialize(r))
            yield tagger.end_marker()

        return frames(), _with_header(metadata, header.value)


class _UnaryUnary(_Signing, grpc.UnaryUnaryMultiCallable):
    def _call(self):
        return self._make(self._inner_channel.unary_unary)

    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        body, md = self._single(request, metadata)
        return self._call()(body, timeout, md, credentials, wait_for_ready, compression)

    def with_call(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        body, md = self._single(request, metadata)
        return self._call().with_call(body, timeout, md, credentials, wait_for_ready, compression)

    def future(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        body, md = self._single(request, metadata)
        return self._call().future(body, timeout, md, credentials, wait_for_ready, compression)


class _UnaryStream(_Signing, grpc.UnaryStreamMultiCallable):
    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        body, md = self._single(request, metadata)
        return self._make(self._inner_channel.unary_stream)(body, timeout, md, credentials, wait_for_ready, compression)


class _StreamUnary(_Signing, grpc.StreamUnaryMultiCallable):
    def _call(self):
        return self._make(self._inner_channel.stream_unary)

    def __call__(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        frames, md = self._stream(request_iterator, metadata)
        return self._call()(frames, timeout, md, credentials, wait_for_ready, compression)

    def with_call(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        frames, md = self._stream(request_iterator, metadata)
        return self._call().with_call(frames, timeout, md, credentials, wait_for_ready, compression)

    def future(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        frames, md = self._stream(request_iterator, metadata)
        return self._call().future(frames, timeout, md, credentials, wait_for_ready, compression)


class _StreamStream(_Signing, grpc.StreamStreamMultiCallable):
    def __call__(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        frames, md = self._stream(request_iterator, metadata)
        return self._make(self._inner_channel.stream_stream)(frames, timeout, md, credentials, wait_for_ready, compression)


class ReqauthChannel(grpc.Channel):
    """Wraps a channel; every call made through it is signed with ``credential``."""

    def __init__(self, inner: grpc.Channel, credential: ClientCredential | RequestSigner) -> None:
        self._inner = inner
        self.signer = credential if isinstance(credential, RequestSigner) else RequestSigner(credential)

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return _UnaryUnary(self.signer, self._inner, method, request_serializer, response_deserializer, kwargs)

    def unary_stream(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return _UnaryStream(self.signer, self._inner, method, request_serializer, response_deserializer, kwargs)

    def stream_unary(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return _StreamUnary(self.signer, self._inner, method, request_serializer, response_deserializer, kwargs)

    def stream_stream(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return _StreamStream(self.signer, self._inner, method, request_serializer, response_deserializer, kwargs)

    def subscribe(self, callback, try_to_connect=False):
        self._inner.subscribe(callback, try_to_connect)

    def unsubscribe(self, callback):
        self._inner.unsubscribe(callback)

    def close(self):
        self._inner.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def reqauth_channel(inner: grpc.Channel, credential) -> ReqauthChannel:
    return ReqauthChannel(inner, credential)
