"""Macaroons in the envelope's credential field (spec §11) and the caveat vocabulary."""
from .acceptance import MacaroonAcceptance, MacaroonResult
from .caveats import CaveatClaims, CaveatContext, CaveatRefusal, authorize_caveats, format_time, parse_time
from .chain import add_first_party, add_third_party, bind_for_request, mint, signature_of, verify, VerifiedCaveat
from .credential import HANDOFF, POSSESSION, Presentation, decode_credential, encode_presentation, possession_key, possession_proof
from .format import Caveat, Macaroon, MacaroonFormatError, parse_token, parse_v2, serialize_token, serialize_v2
from .identifier import id_from_text, id_text, key_id_of
from .keyring import MacaroonKeyringFile, MacaroonKeys, mint_user_macaroon, parse_macaroon_keyring

__all__ = [n for n in dir() if not n.startswith("_")]
