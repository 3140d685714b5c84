"""The grpcio server binding: verifies every call before its handler runs (spec §6.5).

Exact request bytes come from replacing each method's request deserializer with the identity:
the interceptor verifies the bytes, then decodes them with the method's own deserializer.

    auth = ReqauthServer(keys=KeyringFile("service.json", audience="ledger"),
                         policy=policy_from_descriptors(ledger_pb2.DESCRIPTOR))
    server = grpc.server(pool, interceptors=[auth.interceptor])
    # handlers: claims = get_claims(context)
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterator, Optional, Sequence

import grpc

from ..audit import AuditEvent, AuditHook
from ..errors import Refusal, ReqauthConfigError
from ..policy import Policy
from ..response import RESPONSE_KEY, ResponseSigner, check_covered_names
from ..signer import ENVELOPE_KEY, SERVER_TIME_KEY
from ..verifier import Claims, RequestVerifier, VerifiedHeader
from .status import status_for

_LOG = logging.getLogger(__name__)


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


class _Signing:
    """One call's signed response (spec §13): the messages tagged as they are sent, and the end
    entry put into the trailers just before grpcio sends the status. It records the metadata
    the handler sends, so the covered names' values are the ones on the wire."""

    def __init__(self, inner: grpc.ServicerContext, signer: ResponseSigner, serialize) -> None:
        self._inner, self._signer, self._serialize = inner, signer, serialize or (lambda m: m)
        self._headers: tuple = ()
        self._trailers: tuple = ()

    def send_initial_metadata(self, metadata) -> None:
        self._inner.send_initial_metadata(metadata)
        self._headers = tuple(metadata or ())

    def set_trailing_metadata(self, metadata) -> None:
        # A handler's own entry would be a second one (§13.2): it is dropped.
        self._trailers = tuple(m for m in (metadata or ()) if m[0] != RESPONSE_KEY)
        self._inner.set_trailing_metadata(self._trailers)

    def tag(self, message) -> bytes:
        """The message serialized once, tagged over exactly those bytes (§13.1)."""
        return self._signer.tag(self._serialize(message))

    def finish(self, code: grpc.StatusCode, details) -> None:
        """Signs the status the call ends with; called again, the last call's entry stands."""
        entry = self._signer.end_entry(code.value[0], details, self._headers, self._trailers)
        self._inner.set_trailing_metadata(self._trailers + ((RESPONSE_KEY, entry),))

    def abort(self, code: grpc.StatusCode, details) -> None:
        """Signs, then ends the call with this status (raises)."""
        self.finish(code, details)
        self._inner.abort(code, details)

    def end(self, exc: Optional[BaseException], during: str) -> None:
        """The call's end after the handler returned (``exc`` None) or raised: the status grpcio
        sends in that case, signed. A status other than OK raises (grpcio then sends it). It
        reads the status from grpcio's context each time, so an abort the handler caught and
        went on from is signed as grpcio will send it, with the messages sent by then."""
        code, details = self._inner.code(), self._inner.details()
        if exc is None:
            if code in (None, grpc.StatusCode.OK):
                self.finish(grpc.StatusCode.OK, details)
                return
            self.abort(code, details)
        # What grpcio itself would send for an exception (its _call_behavior), but an
        # exception is never signed as OK.
        if code in (None, grpc.StatusCode.OK):
            code = grpc.StatusCode.UNKNOWN
        if details is None:
            details = f"Exception {during}: {exc}"
            _LOG.exception(details, exc_info=exc)
        self.abort(code, details)


class _Context:
    """The handler's view of the call: reqauth's metadata removed (no MAC in a handler's
    logs), the verified claims attached; on a signed call, what it sends is recorded."""

    def __init__(self, inner: grpc.ServicerContext, claims: Claims, delegated, signing: Optional[_Signing] = None) -> None:
        self._inner, self.reqauth_claims, self.reqauth_delegated = inner, claims, delegated
        self._signing = signing

    def invocation_metadata(self):
        return tuple(m for m in self._inner.invocation_metadata() if m[0] not in _REQAUTH_KEYS)

    def send_initial_metadata(self, metadata):
        if self._signing is None:
            return self._inner.send_initial_metadata(metadata)
        return self._signing.send_initial_metadata(metadata)

    def set_trailing_metadata(self, metadata):
        if self._signing is None:
            return self._inner.set_trailing_metadata(metadata)
        return self._signing.set_trailing_metadata(metadata)

    def abort(self, code, details):
        if self._signing is None:
            return self._inner.abort(code, details)
        if code == grpc.StatusCode.OK:  # as grpcio: abort with OK is UNKNOWN
            code, details = grpc.StatusCode.UNKNOWN, ""
        self._signing.abort(code, details)

    def abort_with_status(self, status):
        if self._signing is None:
            return self._inner.abort_with_status(status)
        self._signing.set_trailing_metadata(status.trailing_metadata)
        self.abort(status.code, status.details)

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
    """``sign_responses``: sign every authenticated method's responses, not only those whose rule
    says ``sign_responses`` (§13). ``covered_metadata``: response metadata names whose values the
    end entry covers (§13.2), in this order; none by default."""

    def __init__(self, keys, policy: Policy, audit: Optional[AuditHook] = None, macaroons=None,
                 replay_store=None, max_age_ms: int = 120_000, max_future_ms: int = 30_000,
                 now: Callable[[], int] = _now_ms, verifier: Optional[RequestVerifier] = None,
                 sign_responses: bool = False, covered_metadata: Sequence[str] = ()) -> None:
        try:
            self.covered_metadata = check_covered_names(covered_metadata)
        except ValueError as err:
            raise ReqauthConfigError(str(err)) from None
        self.sign_responses = sign_responses
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

    def _deny(self, context: grpc.ServicerContext, method: str, refusal: Refusal, signing: Optional[_Signing] = None):
        """Refuses the call (raises). ``signing``: the refusal comes after the replay store
        accepted the nonce, on a signed call, so it is signed (§13.3)."""
        self._emit(AuditEvent("deny", method, self._now(), refusal.reason, refusal.claims,
                              "signed" if signing else None))
        if refusal.server_time_ms is not None:
            context.set_trailing_metadata(((SERVER_TIME_KEY, str(refusal.server_time_ms)),))
        code, message = status_for(refusal.reason)
        if signing is not None:
            signing.abort(code, message)
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

    def _allow(self, context, method: str, header: VerifiedHeader, signing: Optional[_Signing]) -> None:
        if not self._emit(AuditEvent("allow", method, self._now(), None, header.claims, "signed" if signing else None)):
            code, message = status_for("internal_error")
            if signing is not None:
                signing.abort(code, message)
            context.abort(code, message)

    # ------------------------------------------------------------------ wrapping
    def signs(self, method: str) -> bool:
        """Whether this server signs the method's responses (§7, §13)."""
        return self.sign_responses or self.policy.signs_responses(method)

    def wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        if self.policy.is_public(method):
            return _public(handler)  # §7: no request authentication at all; §4: no reqauth metadata
        decode = handler.request_deserializer or (lambda b: b)
        signs = self.signs(method)
        serialize = handler.response_serializer
        # A signed method serializes each response itself, once, and tags those bytes (§13.1).
        wire_serialize = None if signs else serialize

        def decode_or_refuse(context, header: VerifiedHeader, body: bytes):
            try:
                return decode(body)
            except Exception:
                raise _Refused(Refusal("malformed_message", claims=header.claims)) from None

        def start(context, single: bool):
            """Steps 1-4; from here on a signed method's response is signed (§13.3)."""
            header = self._header(context, method, single)
            signing = _Signing(context, header.response_signer(self.covered_metadata), serialize) if signs else None
            return header, signing

        def single_request(raw: bytes, context):
            header, signing = start(context, True)
            bad = header.check_body(raw)
            if bad is not None:
                self._deny(context, method, bad, signing)
            try:
                message = decode_or_refuse(context, header, raw)
            except _Refused as r:
                self._deny(context, method, r.refusal, signing)
            self._allow(context, method, header, signing)
            return message, _Context(context, header.claims, header.delegated, signing)

        def stream_requests(raw_iterator: Iterator[bytes], context):
            header, signing = start(context, False)
            self._allow(context, method, header, signing)
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

            return messages(), _Context(context, header.claims, header.delegated, signing)

        def one_response(call, context, ctx: _Context):
            """A unary or client-streaming handler's answer; signed: tagged, its end signed."""
            signing = ctx._signing
            try:
                response = call()
            except _Refused as r:
                self._deny(context, method, r.refusal, signing)
            except Exception as exc:
                if signing is not None:
                    signing.end(exc, "calling application")
                raise
            if signing is None:
                return response
            code = context.code()
            if code not in (None, grpc.StatusCode.OK):
                # grpcio would send the message with the error, and clients drop it: sign
                # what they receive, the error alone.
                signing.abort(code, context.details())
            try:
                framed = signing.tag(response)
            except Exception:
                signing.abort(grpc.StatusCode.INTERNAL, "Failed to serialize response!")
            signing.end(None, "")
            return framed

        def responses_of(call, context, ctx: _Context):
            """A response stream; signed: each message tagged, the end signed after the last."""
            signing = ctx._signing
            try:
                responses = call()
            except _Refused as r:
                self._deny(context, method, r.refusal, signing)
            except Exception as exc:
                if signing is not None:
                    signing.end(exc, "calling application")
                raise

            def each():
                try:
                    for response in responses:
                        if signing is None:
                            yield response
                            continue
                        try:
                            framed = signing.tag(response)
                        except Exception:
                            signing.abort(grpc.StatusCode.INTERNAL, "Failed to serialize response!")
                        yield framed
                except _Refused as r:
                    self._deny(context, method, r.refusal, signing)
                except Exception as exc:
                    if signing is not None:
                        signing.end(exc, "iterating responses")
                    raise
                if signing is not None:
                    signing.end(None, "")

            return each()

        if not handler.request_streaming and not handler.response_streaming:
            def unary_unary(raw, context):
                message, ctx = single_request(raw, context)
                return one_response(lambda: handler.unary_unary(message, ctx), context, ctx)
            return grpc.unary_unary_rpc_method_handler(unary_unary, None, wire_serialize)

        if not handler.request_streaming:
            def unary_stream(raw, context):
                message, ctx = single_request(raw, context)
                return responses_of(lambda: handler.unary_stream(message, ctx), context, ctx)
            return grpc.unary_stream_rpc_method_handler(unary_stream, None, wire_serialize)

        if not handler.response_streaming:
            def stream_unary(raw_iterator, context):
                messages, ctx = stream_requests(raw_iterator, context)
                return one_response(lambda: handler.stream_unary(messages, ctx), context, ctx)
            return grpc.stream_unary_rpc_method_handler(stream_unary, None, wire_serialize)

        def stream_stream(raw_iterator, context):
            messages, ctx = stream_requests(raw_iterator, context)
            return responses_of(lambda: handler.stream_stream(messages, ctx), context, ctx)
        return grpc.stream_stream_rpc_method_handler(stream_stream, None, wire_serialize)


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
