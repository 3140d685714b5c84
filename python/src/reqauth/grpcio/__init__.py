"""The grpcio binding of reqauth: a signing channel and a verifying server interceptor."""
from .client import ReqauthChannel, acting_for, reqauth_channel
from .responses import EndedCall
from .server import ReqauthServer, get_claims, get_delegated_macaroon, require_claims
from .status import status_for

__all__ = ["EndedCall", "ReqauthChannel", "ReqauthServer", "acting_for", "get_claims", "get_delegated_macaroon",
           "reqauth_channel", "require_claims", "status_for"]
