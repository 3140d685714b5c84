"""The gRPC status and the client's generic message for each refusal class (spec §8)."""
import grpc

from ..errors import CLIENT_MESSAGES, RefusalClass, refusal_class

STATUS = {
    RefusalClass.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    RefusalClass.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    RefusalClass.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    RefusalClass.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    RefusalClass.INTERNAL: grpc.StatusCode.INTERNAL,
}


def status_for(reason: str) -> tuple[grpc.StatusCode, str]:
    cls = refusal_class(reason)
    return STATUS[cls], CLIENT_MESSAGES[cls]
