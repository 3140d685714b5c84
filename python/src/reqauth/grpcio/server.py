"""The grpcio server binding: verifies every call before its handler runs (spec §6.5).

Exact request bytes come from replacing each method's request deserializer with the identity:
the interceptor verifies the bytes, then decodes them with the method's own deserializer.

    auth = ReqauthServer(keys=KeyringFile("service.json", audience="ledger"),
                         policy=policy_from_descriptors(ledger_pb2.DESCRIPTOR))
    server = grpc.server(pool, interceptors=[auth.interceptor])
    # handlers: claims = get_claims(context)
"""
from __future__ import annotations

import time
from typing import Callable, Iterator, Optional

import grpc

from ..audit import AuditEvent, AuditHook
from ..errors import Refusal
from ..policy import Policy
from ..signer import ENVELOPE_KEY, SERVER_TIME_KEY
from ..verifier import Claims, RequestVerifier, VerifiedHeader
from .status import status_for


def _now_ms() -> int:
    return int(time.time() * 1000)


class _Refused(BaseException):
    """Raised into a handler that reads a bad request stream. A BaseException, so a handler's
    ``except Exception`` cannot swallow the refusal and answer anyway."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


# Every request metadata key of the spec (§4): none reaches a handler, public ones included.
_REQAUTH_KEYS = frozenset((ENVELOPE_KEY, "reqauth-on-behalf-of", "reqauth-server-time", "reqauth-response-bin"))


class _Context:
    """The handler's view of the call: reqauth's metadata removed (no MAC in a handler's
    logs), the verified claims attached."""

    def __init__(self, inner: grpc.ServicerContext, claims: Claims, delegated) -> None:
        self._inner, self.reqauth_claims, self.reqauth_delegated = inner, claims, delegated

    def invocation_metadata(self):
        return tuple(m for m in self._inner.invocation_metadata() if m[0] not in _REQAUTH_KEYS)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def get_claims(context) -> Optional[Claims]:
    """The verified claims of this call (None on a public method)."""
    return getattr(context, "reqauth_claims", None)


def require_claims(context) -> Claims:
    claims = get_claims(context)
    if claims is None:
        raise RuntimeError("no reqauth claims: the method is public or the service is not behind reqauth")
    return claims


def get_delegated_macaroon(context):
    """A macaroon handed to this service (§11.4), with its signature, for presenting it
    downstream by possession. Never part of the claims or the audit."""
    return getattr(context, "reqauth_delegated", None)


class ReqauthServer:
    def __init__(self, keys, policy: Policy, audit: Optional[AuditHook] = None, macaroons=None,
                 replay_store=None, max_age_ms: int = 120_000, max_future_ms: int = 30_000,
                 now: Callable[[], int] = _now_ms, verifier: Optional[RequestVerifier] = None) -> None:
        self.policy = policy
        self.verifier = verifier or RequestVerifier(keys, policy, replay_store=replay_store, max_age_ms=max_age_ms,
                                                    max_future_ms=max_future_ms, macaroons=macaroons, now=now)
        self._audit, self._now = audit, now
        self.interceptor = _Interceptor(self)

    # ------------------------------------------------------------------ decisions
    def _emit(self, event: AuditEvent) -> bool:
        if self._audit is None:
            return True
        try:
            self._audit(event)
            return True
        except Exception:
            return False  # a failing audit hook refuses the call (fail closed, §8)

    def _deny(self, context: grpc.ServicerContext, method: str, refusal: Refusal):
        self._emit(AuditEvent("deny", method, self._now(), refusal.reason, refusal.claims))
        if refusal.server_time_ms is not None:
            context.set_trailing_metadata(((SERVER_TIME_KEY, str(refusal.server_time_ms)),))
        code, message = status_for(refusal.reason)
        context.abort(code, message)  # raises

    def _header(self, context, method: str, single: bool) -> VerifiedHeader:
        try:
            values = [v for k, v in context.invocation_metadata() if k == ENVELOPE_KEY]
            verdict = self.verifier.verify_header(values, method, single)
        except Exception:
            verdict = Refusal("internal_error")
        if isinstance(verdict, Refusal):
            self._deny(context, method, verdict)
        return verdict

    def _allow(self, context, method: str, header: VerifiedHeader) -> None:
        if not self._emit(AuditEvent("allow", method, self._now(), None, header.claims)):
            code, message = status_for("internal_error")
            context.abort(code, message)

    # ------------------------------------------------------------------ wrapping
    def wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        if self.policy.is_public(method):
            return _public(handler)  # §7: no request authentication at all; §4: no reqauth metadata
        decode = handler.request_deserializer or (lambda b: b)
        serialize = handler.response_serializer

        def decode_or_refuse(context, header: VerifiedHeader, body: bytes):
            try:
                return decode(body)
            except Exception:
                raise _Refused(Refusal("malformed_message", claims=header.claims)) from None

        def refuse_from(context, refused: _Refused):
            self._deny(context, method, refused.refusal)

        def single_request(raw: bytes, context):
            header = self._header(context, method, True)
            bad = header.check_body(raw)
            if bad is not None:
                self._deny(context, method, bad)
            try:
                message = decode_or_refuse(context, header, raw)
            except _Refused as r:
                refuse_from(context, r)
            self._allow(context, method, header)
            return message, _Context(context, header.claims, header.delegated)

        def stream_requests(raw_iterator: Iterator[bytes], context):
            header = self._header(context, method, False)
            self._allow(context, method, header)
            verifier = header.stream_verifier()

            def messages():
                for framed in raw_iterator:  # cancellation raises here: not truncation (§5.2)
                    opened = verifier.open(framed)
                    if opened.reason is not None:
                        raise _Refused(Refusal(opened.reason, claims=header.claims))
                    if not opened.end:
                        yield decode_or_refuse(context, header, opened.body)
                if not verifier.complete:
                    raise _Refused(Refusal("stream_truncated", claims=header.claims))

            return messages(), _Context(context, header.claims, header.delegated)

        def guarded_responses(responses, context):
            try:
                yield from responses
            except _Refused as r:
                refuse_from(context, r)

        if not handler.request_streaming and not handler.response_streaming:
            def unary_unary(raw, context):
                message, ctx = single_request(raw, context)
                return handler.unary_unary(message, ctx)
            return grpc.unary_unary_rpc_method_handler(unary_unary, None, serialize)

        if not handler.request_streaming:
            def unary_stream(raw, context):
                message, ctx = single_request(raw, context)
                return guarded_responses(handler.unary_stream(message, ctx), context)
            return grpc.unary_stream_rpc_method_handler(unary_stream, None, serialize)

        if not handler.response_streaming:
            def stream_unary(raw_iterator, context):
                messages, ctx = stream_requests(raw_iterator, context)
                try:
                    return handler.stream_unary(messages, ctx)
                except _Refused as r:
                    refuse_from(context, r)
            return grpc.stream_unary_rpc_method_handler(stream_unary, None, serialize)

        def stream_stream(raw_iterator, context):
            messages, ctx = stream_requests(raw_iterator, context)
            try:
                responses = handler.stream_stream(messages, ctx)
            except _Refused as r:
                refuse_from(context, r)
            return guarded_responses(responses, context)
        return grpc.stream_stream_rpc_method_handler(stream_stream, None, serialize)


def _public(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """A public method's handler, given a context without reqauth's metadata (spec §4)."""
    def view(context):
        return _Context(context, None, None)

    if not handler.request_streaming and not handler.response_streaming:
        return grpc.unary_unary_rpc_method_handler(lambda req, ctx: handler.unary_unary(req, view(ctx)), handler.request_deserializer, handler.response_serializer)
    if not handler.request_streaming:
        return grpc.unary_stream_rpc_method_handler(lambda req, ctx: handler.unary_stream(req, view(ctx)), handler.request_deserializer, handler.response_serializer)
    if not handler.response_streaming:
        return grpc.stream_unary_rpc_method_handler(lambda it, ctx: handler.stream_unary(it, view(ctx)), handler.request_deserializer, handler.response_serializer)
    return grpc.stream_stream_rpc_method_handler(lambda it, ctx: handler.stream_stream(it, view(ctx)), handler.request_deserializer, handler.response_serializer)


class _Interceptor(grpc.ServerInterceptor):
    def __init__(self, server: ReqauthServer) -> None:
        self._server = server

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return self._server.wrap(handler, handler_call_details.method)
