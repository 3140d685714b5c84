"""The grpcio client binding: a channel that signs every call (spec §4, §5).

The single message must be signed over its exact bytes, so the channel serializes each
request itself, signs, and hands the bytes to the inner channel with an identity serializer.
Generated stubs work unchanged on it:

    channel = reqauth_channel(grpc.insecure_channel(target), load_credential("cred.json"))
    stub = ledger_pb2_grpc.LedgerServiceStub(channel)
    with acting_for("alice", macaroon=presentation):   # optional, per call
        stub.Transfer(request)

With ``require_signed_responses`` (True, or method paths such as
``signed_response_methods(ledger_pb2.DESCRIPTOR)``), those calls' responses must be signed
(spec §13.4): see ``responses.py``.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any, Collection, Iterator, Optional, Union

import grpc

from ..audit import ResponseAuditHook
from ..keyring import ClientCredential
from ..signer import ENVELOPE_KEY, RequestSigner
from .responses import ResponseCheck, VerifiedFuture, VerifiedStream, blocking_unary


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
    """One method's calls: signed; with ``check`` set (a function of the call's header), their
    responses verified before the application gets them."""

    def __init__(self, signer: RequestSigner, inner: grpc.Channel, method: str, serialize, deserialize, kwargs,
                 check=None) -> None:
        self._signer, self._method = signer, method
        self._serialize = serialize or _identity
        self._check = check
        # A verifying call takes the raw bytes from grpcio and decodes them itself, once verified.
        wire_deserialize = None if check else deserialize
        self._make = lambda factory: factory(method, request_serializer=None, response_deserializer=wire_deserialize, **kwargs)
        self._inner_channel = inner

    def _single(self, request, metadata):
        body = self._serialize(request)
        o = _options.get()
        header = self._signer.sign(self._method, body, o.on_behalf_of, o.macaroon)
        return body, _with_header(metadata, header.value), header

    def _stream(self, requests: Iterator, metadata):
        o = _options.get()
        header, tagger = self._signer.sign_stream(self._method, o.on_behalf_of, o.macaroon)
        serialize = self._serialize

        def frames():
            for r in requests:
                yield tagger.tag_message(serialize(r))
            yield tagger.end_marker()

        return frames(), _with_header(metadata, header.value), header


class _OneResponse(_Signing):
    """Unary and client-streaming calls: one response message."""

    def _invoke(self, prepared, timeout, credentials, wait_for_ready, compression, how):
        arg, md, header = prepared
        args = (arg, timeout, md, credentials, wait_for_ready, compression)
        if self._check is None:
            inner = self._make(self._factory)
            return (getattr(inner, how) if how else inner)(*args)
        check = self._check(header)
        # Through the streaming API, so every message that arrives is checked (responses.py).
        stream = self._make(self._stream_factory)(*args)
        if how == "future":
            return VerifiedFuture(check, stream)
        message, ended = blocking_unary(check, stream)
        return (message, ended) if how == "with_call" else message


class _UnaryUnary(_OneResponse, grpc.UnaryUnaryMultiCallable):
    @property
    def _factory(self):
        return self._inner_channel.unary_unary

    @property
    def _stream_factory(self):
        return self._inner_channel.unary_stream

    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._single(request, metadata), timeout, credentials, wait_for_ready, compression, None)

    def with_call(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._single(request, metadata), timeout, credentials, wait_for_ready, compression, "with_call")

    def future(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._single(request, metadata), timeout, credentials, wait_for_ready, compression, "future")


class _StreamUnary(_OneResponse, grpc.StreamUnaryMultiCallable):
    @property
    def _factory(self):
        return self._inner_channel.stream_unary

    @property
    def _stream_factory(self):
        return self._inner_channel.stream_stream

    def __call__(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._stream(request_iterator, metadata), timeout, credentials, wait_for_ready, compression, None)

    def with_call(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._stream(request_iterator, metadata), timeout, credentials, wait_for_ready, compression, "with_call")

    def future(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._stream(request_iterator, metadata), timeout, credentials, wait_for_ready, compression, "future")


class _ResponseStream(_Signing):
    def _invoke(self, prepared, timeout, credentials, wait_for_ready, compression):
        arg, md, header = prepared
        call = self._make(self._factory)(arg, timeout, md, credentials, wait_for_ready, compression)
        return call if self._check is None else VerifiedStream(self._check(header), call)


class _UnaryStream(_ResponseStream, grpc.UnaryStreamMultiCallable):
    @property
    def _factory(self):
        return self._inner_channel.unary_stream

    def __call__(self, request, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._single(request, metadata), timeout, credentials, wait_for_ready, compression)


class _StreamStream(_ResponseStream, grpc.StreamStreamMultiCallable):
    @property
    def _factory(self):
        return self._inner_channel.stream_stream

    def __call__(self, request_iterator, timeout=None, metadata=None, credentials=None, wait_for_ready=None, compression=None):
        return self._invoke(self._stream(request_iterator, metadata), timeout, credentials, wait_for_ready, compression)


class ReqauthChannel(grpc.Channel):
    """Wraps a channel; every call made through it is signed with ``credential``.

    ``require_signed_responses``: True for every call, or the method paths (``/pkg.Service/M``
    or ``/pkg.Service/*``) whose responses must be signed (§13.4); off by default.
    ``response_audit`` gets each such call's verdict (``verified``, ``refused`` with the
    reason, ``unverified``), never anything secret."""

    def __init__(self, inner: grpc.Channel, credential: ClientCredential | RequestSigner,
                 require_signed_responses: Union[bool, Collection[str]] = False,
                 response_audit: Optional[ResponseAuditHook] = None) -> None:
        self._inner = inner
        self.signer = credential if isinstance(credential, RequestSigner) else RequestSigner(credential)
        if isinstance(require_signed_responses, str):
            raise TypeError("require_signed_responses: True, or a collection of method paths")
        self._require = require_signed_responses if isinstance(require_signed_responses, bool) \
            else frozenset(require_signed_responses)
        self._response_audit = response_audit

    def requires_signed_responses(self, method: str) -> bool:
        if isinstance(self._require, bool):
            return self._require
        return method in self._require or (method.count("/") == 2 and method[: method.rindex("/")] + "/*" in self._require)

    def _check_for(self, method: str, deserialize):
        if not self.requires_signed_responses(method):
            return None
        return lambda header: ResponseCheck(header, method, deserialize, self._response_audit)

    def _callable(self, cls, method, request_serializer, response_deserializer, kwargs):
        return cls(self.signer, self._inner, method, request_serializer, response_deserializer, kwargs,
                   self._check_for(method, response_deserializer))

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return self._callable(_UnaryUnary, method, request_serializer, response_deserializer, kwargs)

    def unary_stream(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return self._callable(_UnaryStream, method, request_serializer, response_deserializer, kwargs)

    def stream_unary(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return self._callable(_StreamUnary, method, request_serializer, response_deserializer, kwargs)

    def stream_stream(self, method, request_serializer=None, response_deserializer=None, **kwargs):
        return self._callable(_StreamStream, method, request_serializer, response_deserializer, kwargs)

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


def reqauth_channel(inner: grpc.Channel, credential, require_signed_responses: Union[bool, Collection[str]] = False,
                    response_audit: Optional[ResponseAuditHook] = None) -> ReqauthChannel:
    return ReqauthChannel(inner, credential, require_signed_responses, response_audit)
