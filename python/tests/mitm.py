"""A man in the middle for response tests: a grpcio proxy on loopback that forwards each call's
raw messages to the real server and hands the response to a plan on the way back.

Every call is proxied as a bidi stream of raw bytes (the wire is the same for all four kinds),
so a plan sees the server's messages exactly as framed and its status and trailers: it can flip
a byte, drop, reorder, duplicate or inject messages, cut the stream short, rewrite the status,
the headers or any trailer, or answer with a response recorded from an earlier call.

    proxy = Mitm(server_target); proxy.plan = Plan(message=lambda i, m: [flip(m)])
"""
from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass, field
from typing import Callable, Optional

import grpc

_HOP = ("grpc-", ":")


def flip(data: bytes, at: int = 0) -> bytes:
    out = bytearray(data)
    out[at] ^= 1
    return bytes(out)


@dataclass
class Response:
    """A response as the server sent it (or as the plan forwards it)."""

    messages: list = field(default_factory=list)
    code: grpc.StatusCode = grpc.StatusCode.OK
    details: str = ""
    initial: tuple = ()
    trailing: tuple = ()


@dataclass
class Plan:
    #: The initial metadata to forward in place of the server's.
    headers: Optional[Callable[[tuple], tuple]] = None
    #: Each message as it arrives (index, bytes): the messages to forward instead.
    message: Optional[Callable[[int, bytes], list]] = None
    #: The end, once the server's arrived: edit the Response in place (messages are extra ones to send first).
    end: Optional[Callable[[Response], None]] = None
    #: Replace the whole response with this one (a recorded earlier response).
    replay: Optional[Response] = None


class Mitm:
    def __init__(self, upstream: str) -> None:
        self.plan: Optional[Plan] = None
        self.calls: list[Response] = []
        self._upstream = grpc.insecure_channel(upstream)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self._server.add_generic_rpc_handlers((self,))
        self.target = f"127.0.0.1:{self._server.add_insecure_port('127.0.0.1:0')}"
        self._server.start()

    def close(self) -> None:
        self._server.stop(0)
        self._upstream.close()

    # grpc.GenericRpcHandler
    def service(self, details):
        return grpc.stream_stream_rpc_method_handler(lambda it, ctx: self._forward(details.method, it, ctx))

    def _forward(self, method: str, requests, context):
        plan = self.plan or Plan()
        md = tuple((k, v) for k, v in context.invocation_metadata() if not k.startswith(_HOP) and k != "user-agent")
        call = self._upstream.stream_stream(method)(requests, metadata=md, timeout=10)
        genuine = Response(initial=tuple(call.initial_metadata() or ()))
        self.calls.append(genuine)
        if plan.replay is not None:
            for _ in call:  # the genuine response is swallowed
                pass
            out = plan.replay
            context.send_initial_metadata(out.initial)
            yield from out.messages
            self._end(context, out)
            return
        context.send_initial_metadata(plan.headers(genuine.initial) if plan.headers else genuine.initial)
        try:
            for i, m in enumerate(call):
                genuine.messages.append(m)
                yield from (plan.message(i, m) if plan.message else [m])
        except grpc.RpcError:
            pass
        genuine.code, genuine.details = call.code(), call.details() or ""
        genuine.trailing = tuple(call.trailing_metadata() or ())
        out = Response([], genuine.code, genuine.details, genuine.initial, genuine.trailing)
        if plan.end:
            plan.end(out)
        yield from out.messages
        self._end(context, out)

    @staticmethod
    def _end(context, out: Response) -> None:
        context.set_trailing_metadata(out.trailing)
        context.set_code(out.code)
        context.set_details(out.details)
