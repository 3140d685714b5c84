"""reqauth for Python gRPC services: authenticate every request, not just the channel.

Implements docs/spec.md (wire version 1). The core (envelope, keys, signer, verifier, replay,
policy, macaroon) knows nothing of grpcio; ``reqauth.grpcio`` is the binding.
"""
from .audit import AuditEvent, ResponseAuditEvent
from .envelope import DEFAULT_LIMITS, Envelope, EnvelopeLimits, canonical_roles, encode_envelope, parse_envelope
from .errors import CLIENT_MESSAGES, REASONS, RESPONSE_REASONS, Refusal, RefusalClass, ReqauthConfigError, refusal_class
from .keyring import (ClientCredential, KeyringFile, StaticKeys, VerificationKeys, issue_credential,
                      load_credential, parse_credential, parse_keyring, verification_keys)
from .keys import derive_audience_key, derive_principal_key
from .policy import AccessRule, Policy, policy_from_descriptors, signed_response_methods
from .replay import MemoryReplayStore, ReplayWindow
from .response import RESPONSE_KEY, ResponseSigner, ResponseVerifier
from .signer import ENVELOPE_KEY, SERVER_TIME_KEY, RequestSigner, SignedHeader
from .stream_tag import StreamSigner, StreamVerifier
from .verifier import Claims, RequestVerifier, VerifiedHeader

__version__ = "0.1.0"
__all__ = [n for n in dir() if not n.startswith("_")]
