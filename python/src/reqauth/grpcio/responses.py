"""A client that requires signed responses (spec §13.4), for grpcio.

The channel asks grpcio for each response's raw bytes (an identity deserializer), checks each
message's tag before decoding it, and passes the status on only once the end entry verified.
A unary or client-streaming call returns its message only with its verified status; a
response stream yields each message once it verified. Any failure cancels the call and ends
it with ``DATA_LOSS``, ``response authentication failed``, without metadata; the reason goes to
the response audit hook. No crypto here: ``reqauth.response`` does it.
"""
from __future__ import annotations

import collections
import logging
import sys
import threading
from typing import Optional

import grpc

from ..audit import ResponseAuditEvent, ResponseAuditHook
from ..errors import CLIENT_MESSAGES, RESPONSE_REASONS, RefusalClass
from ..response import RESPONSE_KEY, ResponseVerifier
from ..signer import SignedHeader

_LOG = logging.getLogger(__name__)

#: Statuses the client's own transport makes; without an end entry they pass on unverified (§13.4).
UNVERIFIED_STATUSES = frozenset((grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED,
                                 grpc.StatusCode.UNAVAILABLE))
_HOOK_FAULT_REPORTED = False
_STATUS = {RefusalClass.DATA_LOSS: grpc.StatusCode.DATA_LOSS, RefusalClass.INTERNAL: grpc.StatusCode.INTERNAL}


class EndedCall(grpc.RpcError, grpc.Call, grpc.Future):
    """A call's outcome as the application sees it: a fixed status and metadata. Raised for a
    refusal (``DATA_LOSS``), for a verified error status and for an unverified one."""

    def __init__(self, code: grpc.StatusCode, details: Optional[str], initial=(), trailing=()) -> None:
        super().__init__()
        self._code, self._details, self._initial, self._trailing = code, details, tuple(initial), tuple(trailing)

    def code(self):
        return self._code

    def details(self):
        return self._details

    def initial_metadata(self):
        return self._initial

    def trailing_metadata(self):
        return self._trailing

    def is_active(self):
        return False

    def time_remaining(self):
        return None

    def cancel(self):
        return False

    def add_callback(self, callback):
        return False

    def cancelled(self):
        return False

    def running(self):
        return False

    def done(self):
        return True

    def result(self, timeout=None):
        raise self

    def exception(self, timeout=None):
        return self

    def traceback(self, timeout=None):
        try:
            raise self
        except grpc.RpcError:
            return sys.exc_info()[2]

    def add_done_callback(self, fn):
        fn(self)

    def __str__(self):
        return f"<{type(self).__name__} of RPC that terminated with:\n\tstatus = {self._code}\n\tdetails = \"{self._details}\"\n>"

    __repr__ = __str__


class _Refusal(Exception):
    """``received``: the status the call had when refused, if it had ended (for the audit)."""

    def __init__(self, reason: str, received: Optional[grpc.StatusCode] = None) -> None:
        super().__init__(reason)
        self.reason, self.received = reason, received


def _without_entry(metadata) -> tuple:
    """A verified call's trailers, handed on without the end entry (§13.2)."""
    return tuple(m for m in (metadata or ()) if m[0] != RESPONSE_KEY)


class ResponseCheck:
    """One call's response checks, in arrival order: messages, then the end."""

    def __init__(self, header: SignedHeader, method: str, deserialize, audit: Optional[ResponseAuditHook]) -> None:
        self._verifier = ResponseVerifier(header.call_key, header.mac)
        self._method, self._deserialize, self._audit = method, deserialize or (lambda b: b), audit

    def message(self, raw: bytes):
        """The decoded message, once its tag verified; raises ``_Refusal``."""
        opened = self._verifier.open(raw)
        if opened.reason is not None:
            raise _Refusal(opened.reason)
        try:
            return self._deserialize(opened.body)
        except Exception:
            raise _Refusal("malformed_response") from None

    def end(self, call, single: bool) -> EndedCall:
        """The verified status of an ended ``call`` (a grpc.Call), as the application gets it:
        OK or the server's error, with the trailers minus the entry; or, for a status the
        transport makes without an entry, that status without metadata. Raises ``_Refusal``.
        ``single``: the method answers with one message, so a verified OK has exactly one."""
        code, details = call.code(), call.details()
        trailing = tuple(call.trailing_metadata() or ())
        entries = [v for k, v in trailing if k == RESPONSE_KEY]
        if not entries and code in UNVERIFIED_STATUSES:
            self._record("unverified", "missing_response_end", code)
            return EndedCall(code, details)
        reason = self._verifier.end(entries, code.value[0], details, call.initial_metadata() or (), trailing)
        if reason is None and single and code == grpc.StatusCode.OK and self._verifier.count != 1:
            reason = "malformed_response"  # signed, but no response of this method
        if reason is not None:
            raise _Refusal(reason, code)
        if not self._record("verified", None, code):
            raise _Refusal("internal_error", code)  # fail closed: nothing handed on unaudited
        return EndedCall(code, details, call.initial_metadata() or (), _without_entry(trailing))

    def refused(self, refusal: "_Refusal") -> EndedCall:
        if refusal.reason == "internal_error":  # the audit hook failed: not asked again
            return EndedCall(grpc.StatusCode.INTERNAL, CLIENT_MESSAGES[RefusalClass.INTERNAL])
        self._record("refused", refusal.reason, refusal.received)
        cls = RESPONSE_REASONS[refusal.reason]
        return EndedCall(_STATUS[cls], CLIENT_MESSAGES[cls])

    def _record(self, verdict: str, reason: Optional[str], received: Optional[grpc.StatusCode]) -> bool:
        """False when the hook raised: a verified response is then refused (INTERNAL); a
        refusal or an unverified status stays what it is (spec §8: faults fail closed)."""
        if self._audit is None:
            return True
        try:
            self._audit(ResponseAuditEvent(self._method, verdict, reason, received.value[0] if received else None))
            return True
        except Exception:
            global _HOOK_FAULT_REPORTED
            if not _HOOK_FAULT_REPORTED:  # once per process, naming what failed, never its message
                _HOOK_FAULT_REPORTED = True
                _LOG.warning("reqauth: the client's response audit hook raised; the responses it affects are refused")
            return False


def blocking_unary(check: ResponseCheck, inner_stream) -> tuple:
    """A single response read through grpcio's *streaming* API (``inner_stream`` is its call):
    every message that arrives is checked, as §13.1 counts them, where grpcio's unary API would
    read one and leave a second unread (the call then hangs until its deadline). Returns
    ``(message, call)`` or raises the call's ``EndedCall``."""
    stream = VerifiedStream(check, inner_stream, single=True)
    messages = list(stream)
    return messages[0], stream._ended


class VerifiedFuture(grpc.Future, grpc.Call):
    """An asynchronous single-response call. grpcio delivers a call's status only once its
    messages were read, so a thread of its own reads them (``blocking_unary``); its result is
    the verified message."""

    def __init__(self, check: ResponseCheck, inner_stream) -> None:
        self._inner = inner_stream
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._callbacks: Optional[list] = []
        self._outcome = None  # (message, EndedCall), or the RpcError to raise
        self._cancelled = False
        threading.Thread(target=self._run, args=(check,), name="reqauth-response", daemon=True).start()

    def _run(self, check: ResponseCheck) -> None:
        try:
            outcome = blocking_unary(check, self._inner)
        except grpc.RpcError as err:
            outcome = err
        except Exception as err:  # never lose a future's outcome to a fault
            _LOG.warning("reqauth: reading a response failed: %s", type(err).__name__)
            outcome = EndedCall(grpc.StatusCode.INTERNAL, CLIENT_MESSAGES[RefusalClass.INTERNAL])
        with self._lock:
            self._outcome = outcome
            self._done.set()
            callbacks, self._callbacks = self._callbacks, None
        for fn in callbacks:
            try:
                fn(self)
            except Exception:
                _LOG.exception("reqauth: a future's done callback raised")

    def _settled(self, timeout):
        if not self._done.wait(timeout):
            raise grpc.FutureTimeoutError()
        if self._cancelled:
            raise grpc.FutureCancelledError()
        return self._outcome

    def result(self, timeout=None):
        outcome = self._settled(timeout)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome[0]

    def exception(self, timeout=None):
        outcome = self._settled(timeout)
        return outcome if isinstance(outcome, BaseException) else None

    def traceback(self, timeout=None):
        err = self.exception(timeout)
        if err is None:
            return None
        try:
            raise err
        except BaseException:
            return sys.exc_info()[2]

    def _ended(self) -> grpc.Call:
        self._done.wait()
        outcome = self._outcome
        return outcome if isinstance(outcome, BaseException) else outcome[1]

    def code(self):
        return self._ended().code()

    def details(self):
        return self._ended().details()

    def initial_metadata(self):
        return self._ended().initial_metadata()

    def trailing_metadata(self):
        return self._ended().trailing_metadata()

    def add_done_callback(self, fn):
        with self._lock:
            if self._callbacks is not None:
                self._callbacks.append(fn)
                return
        fn(self)

    def cancel(self):
        with self._lock:
            if self._done.is_set():
                return False
            self._cancelled = self._inner.cancel()
            return self._cancelled

    def cancelled(self):
        return self._cancelled

    def running(self):
        return not self._done.is_set()

    def done(self):
        return self._done.is_set()

    def is_active(self):
        return not self._done.is_set()

    def time_remaining(self):
        return self._inner.time_remaining()

    def add_callback(self, callback):
        return self._inner.add_callback(callback)


class VerifiedStream(grpc.Call):
    """A response stream: each message yielded once its tag verified, the end checked after
    the last; the first failure cancels the call and is raised (then on every ``next``).
    ``code()``/``details()``/``trailing_metadata()`` wait for the verified end, reading the
    remaining messages into a buffer the iteration then yields from."""

    def __init__(self, check: ResponseCheck, inner, single: bool = False) -> None:
        self._check, self._inner, self._single = check, inner, single
        self._lock = threading.RLock()
        self._buffer: collections.deque = collections.deque()
        self._ended: Optional[EndedCall] = None  # the verified (or refused) end
        self._failure: Optional[EndedCall] = None  # what ends the iteration

    def __iter__(self):
        return self

    def _pull(self) -> bool:
        """Reads one more message or the end; False once the call ended."""
        if self._ended is not None:
            return False
        try:
            raw = next(self._inner)
        except StopIteration:
            return self._finish(self._inner)
        except grpc.RpcError as err:
            if not isinstance(err, grpc.Call):
                raise
            return self._finish(err)
        try:
            self._buffer.append(self._check.message(raw))
        except _Refusal as r:
            self._refuse(r)
            return False
        return True

    def _finish(self, call) -> bool:
        try:
            ended = self._check.end(call, self._single)
        except _Refusal as r:
            self._refuse(r)
            return False
        self._ended = ended
        if ended.code() != grpc.StatusCode.OK:
            self._failure = ended
        return False

    def _refuse(self, refusal: _Refusal) -> None:
        self._inner.cancel()  # the server sees a reset (§13.4)
        self._ended = self._failure = self._check.refused(refusal)

    def __next__(self):
        with self._lock:
            while not self._buffer:
                if not self._pull() and not self._buffer:
                    if self._failure is not None:
                        raise self._failure
                    raise StopIteration
            return self._buffer.popleft()

    def next(self):
        return self.__next__()

    def _end(self) -> EndedCall:
        with self._lock:
            while self._pull():
                pass
            return self._ended

    def code(self):
        return self._end().code()

    def details(self):
        return self._end().details()

    def trailing_metadata(self):
        return self._end().trailing_metadata()

    def initial_metadata(self):
        # A stream's headers reach the application as they arrive; their covered values are
        # verified at the end (§13.3).
        return self._inner.initial_metadata()

    def is_active(self):
        return self._inner.is_active()

    def time_remaining(self):
        return self._inner.time_remaining()

    def cancel(self):
        return self._inner.cancel()

    def add_callback(self, callback):
        return self._inner.add_callback(callback)
