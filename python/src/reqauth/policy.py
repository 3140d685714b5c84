"""Per-method access rules (spec §7), from code or from the ``(reqauth.v1.access)`` option."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from .errors import ReqauthConfigError


@dataclass(frozen=True)
class AccessRule:
    public: bool = False
    roles: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    #: The server signs the method's responses (§13).
    sign_responses: bool = False

    def __post_init__(self) -> None:
        if self.public and (self.roles or self.principals):
            raise ReqauthConfigError("a public method must not also list roles or principals")
        if self.public and self.sign_responses:
            raise ReqauthConfigError("a public method cannot sign its responses: its calls have no key (§13.3)")


class Policy:
    """Rules keyed by method path or by ``/pkg.Service/*``; an exact rule wins."""

    def __init__(self, rules: Optional[Mapping[str, AccessRule]] = None) -> None:
        self._rules: dict[str, AccessRule] = {}
        for path, rule in (rules or {}).items():
            if not path.startswith("/") or path.count("/") != 2:
                raise ReqauthConfigError(f"policy key {path!r} is not /pkg.Service/Method or /pkg.Service/*")
            if not isinstance(rule, AccessRule):
                rule = AccessRule(**rule)
            self._rules[path] = rule

    def merge(self, other: "Policy") -> "Policy":
        both = set(self._rules) & set(other._rules)
        if both:
            raise ReqauthConfigError(f"policy rules defined twice: {sorted(both)}")
        return Policy({**self._rules, **other._rules})

    def rule_for(self, method: str) -> Optional[AccessRule]:
        rule = self._rules.get(method)
        if rule is None and method.startswith("/") and method.count("/") == 2:
            rule = self._rules.get(method[: method.rindex("/")] + "/*")
        return rule

    def is_public(self, method: str) -> bool:
        rule = self.rule_for(method)
        return bool(rule and rule.public)

    def signs_responses(self, method: str) -> bool:
        rule = self.rule_for(method)
        return bool(rule and rule.sign_responses)

    def methods(self) -> tuple[str, ...]:
        """The rules' keys: method paths and ``/pkg.Service/*``."""
        return tuple(self._rules)

    def authorize(self, method: str, principal: str, roles: Iterable[str]) -> Optional[str]:
        """None when allowed, else the reason code (§7)."""
        rule = self.rule_for(method)
        if rule is None:
            return "no_rule"
        if rule.public:
            return None
        if principal in rule.principals:
            return None
        if rule.roles and any(r in rule.roles for r in roles):
            return None
        return "missing_role" if rule.roles else "principal_not_allowed"


def policy_from_descriptors(*services) -> Policy:
    """Rules from the ``(reqauth.v1.access)`` option of every method of the given
    ``ServiceDescriptor``s (``ledger_pb2.DESCRIPTOR.services_by_name['LedgerService']``) or file
    descriptors (every service in the file). Methods without the option get no rule: denied."""
    from .v1 import options_pb2

    rules: dict[str, AccessRule] = {}
    for item in services:
        svcs = item.services_by_name.values() if hasattr(item, "services_by_name") else [item]
        for svc in svcs:
            for m in svc.methods:
                opts = m.GetOptions()
                if not opts.HasExtension(options_pb2.access):
                    continue
                a = opts.Extensions[options_pb2.access]
                rules[f"/{svc.full_name}/{m.name}"] = AccessRule(
                    public=a.public, roles=tuple(a.roles), principals=tuple(a.principals),
                    sign_responses=a.sign_responses)
    return Policy(rules)


def signed_response_methods(*services) -> frozenset[str]:
    """The paths of the methods whose ``(reqauth.v1.access)`` option says ``sign_responses``:
    what a client passes as ``require_signed_responses`` to require exactly those (§13.4)."""
    policy = policy_from_descriptors(*services)
    return frozenset(m for m in policy.methods() if policy.signs_responses(m))
