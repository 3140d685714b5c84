"""The typed caveat vocabulary (docs/macaroon-caveats.md, normative)."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Union

from .chain import VerifiedCaveat

_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_ROLE = re.compile(r"[A-Za-z0-9._:-]+\Z")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_METHOD = re.compile(rf"/({_IDENT}(?:\.{_IDENT})*)\.({_IDENT})/({_IDENT}|\*)\Z")
_REQUEST_KEY = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z\Z")

BUILT_IN = ("user", "presenter", "roles", "audience", "method", "expires", "not-before", "request-key")


def _bad_char(ch: str) -> bool:
    o = ord(ch)
    return o <= 0x1F or 0x7F <= o <= 0x9F


def parse_time(value: str) -> Optional[int]:
    """RFC 3339 UTC, whole seconds or exactly three fractional digits: milliseconds or None."""
    m = _TIME.match(value)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    if not 1 <= mo <= 12 or not 1 <= d <= (calendar.monthrange(y, mo)[1] if y else _days0(mo)):
        return None
    if h > 23 or mi > 59 or s > 59:
        return None
    ms = int(m.group(7) or 0)
    days = _days_from_civil(y, mo, d)
    return ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms


def _days0(mo: int) -> int:  # year 0000 is a leap year (proleptic Gregorian)
    return [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def format_time(ms: int) -> str:
    import datetime

    t = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.timezone.utc)
    frac = ms % 1000
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac:03d}" if frac else "") + "Z"


def _list(value: str, item: re.Pattern) -> Optional[list[str]]:
    items = value.split(",")
    if any(not i or not item.match(i) for i in items) or len(set(items)) != len(items):
        return None
    return items


_AUD_ITEM = re.compile(r"[^, ]+\Z")


@dataclass(frozen=True)
class CaveatContext:
    now_ms: int
    principal: Optional[str] = None
    audience: Optional[str] = None
    method: Optional[str] = None
    key_id: Optional[str] = None


@dataclass(frozen=True)
class CaveatClaims:
    user: Optional[str] = None
    roles: Optional[tuple[str, ...]] = None
    chain: tuple[str, ...] = ()
    presenter: Optional[str] = None
    expires_at_ms: Optional[int] = None
    not_before_ms: Optional[int] = None


@dataclass(frozen=True)
class CaveatRefusal:
    reason: str  # caveat_unknown | caveat_malformed | caveat_failed | caveat_missing
    detail: str


def _parse(name: str, value: str):
    """The typed value of a built-in caveat, or None if it breaks the type's grammar."""
    if name in ("user", "presenter"):
        return value
    if name == "roles":
        return _list(value, _ROLE)
    if name == "audience":
        return _list(value, _AUD_ITEM)
    if name == "method":
        m = _METHOD.match(value)
        return value if m else None
    if name in ("expires", "not-before"):
        return parse_time(value)
    if name == "request-key":
        return value if _REQUEST_KEY.match(value) else None
    raise AssertionError(name)


def _method_matches(pattern: str, method: Optional[str]) -> bool:
    if method is None:
        return False
    if pattern.endswith("/*"):
        prefix = pattern[:-1]
        rest = method[len(prefix):]
        return method.startswith(prefix) and rest != "" and "/" not in rest
    return pattern == method


def authorize_caveats(caveats: Sequence[VerifiedCaveat], ctx: CaveatContext, exact: Iterable[str] = (),
                      require_presenter: bool = True) -> Union[CaveatClaims, CaveatRefusal]:
    """§3 of docs/macaroon-caveats.md, in its order; the first refusal wins."""
    exact = set(exact)
    typed: list[tuple[VerifiedCaveat, str, object]] = []
    where = lambda c, name: f"caveat {c.index} of {'the root' if c.source == 'root' else 'discharge ' + c.source} ({name})"
    # 1. Syntax, each caveat in order.
    for c in caveats:
        try:
            text = c.predicate.decode("utf-8")
        except UnicodeDecodeError:
            return CaveatRefusal("caveat_unknown", where(c, "?") + ": unknown caveat")
        name, sp, value = text.partition(" ")
        if name not in BUILT_IN:
            if text in exact:
                continue
            return CaveatRefusal("caveat_unknown", where(c, "?") + ": unknown caveat")
        if not sp or not value or value[0] == " " or value[-1] == " " or any(_bad_char(ch) for ch in value):
            return CaveatRefusal("caveat_malformed", where(c, name) + ": malformed")
        parsed = _parse(name, value)
        if parsed is None:
            return CaveatRefusal("caveat_malformed", where(c, name) + ": malformed")
        if name == "presenter" and c.source != "root":
            return CaveatRefusal("caveat_failed", where(c, name) + ": a presenter caveat belongs to the root")
        typed.append((c, name, parsed))
    # 2. One-at-a-time types, in caveat order.
    roles: Optional[set[str]] = None
    expires = not_before = None
    for c, name, v in typed:
        ok = True
        if name == "roles":
            roles = set(v) if roles is None else roles & set(v)
        elif name == "audience":
            ok = ctx.audience is not None and ctx.audience in v
        elif name == "method":
            ok = _method_matches(v, ctx.method)
        elif name == "expires":
            ok = ctx.now_ms < v
            expires = v if expires is None else min(expires, v)
        elif name == "not-before":
            ok = ctx.now_ms >= v
            not_before = v if not_before is None else max(not_before, v)
        elif name == "request-key":
            ok = ctx.key_id is not None and ctx.key_id == v
        if not ok:
            return CaveatRefusal("caveat_failed", where(c, name) + f": the {name} is not allowed")
    # 3. Whole-list types, in registration order: user, then presenter.
    users = [(c, v) for c, n, v in typed if n == "user"]
    if users and any(v != users[0][1] for _, v in users):
        return CaveatRefusal("caveat_failed", where(users[-1][0], "user") + ": users differ")
    presenters = [(c, v) for c, n, v in typed if n == "presenter"]
    if presenters and (ctx.principal is None or presenters[-1][1] != ctx.principal):
        return CaveatRefusal("caveat_failed", where(presenters[-1][0], "presenter") + ": not the presenter")
    # 4. Required types.
    if require_presenter and not presenters:
        return CaveatRefusal("caveat_missing", "no presenter caveat")
    user = users[0][1] if users else None
    chain = ((user,) if user is not None else ()) + tuple(v for _, v in presenters)
    return CaveatClaims(user=user, roles=tuple(sorted(roles, key=lambda r: r.encode())) if roles is not None else None,
                        chain=chain, presenter=presenters[-1][1] if presenters else None,
                        expires_at_ms=expires, not_before_ms=not_before)
