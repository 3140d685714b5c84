"""Replay stores (spec §6.4): atomic check-and-remember of (principal, nonce) with floors.

A store never accepts a replay; what forgetting costs is the refusal (``nonce_forgotten``) of
honest requests older than what it forgot. The rules every store follows are in §6.4.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

FRESH, REPLAYED, FORGOTTEN = "fresh", "replayed", "forgotten"


@dataclass(frozen=True)
class ReplayWindow:
    max_age_ms: int
    max_future_ms: int


def restart_floor(now_ms: int, window: ReplayWindow, strict: bool) -> int:
    """The floor of a store that starts empty (§6.4): past every request issued before."""
    if strict:
        return now_ms + window.max_age_ms + 2 * window.max_future_ms
    return now_ms + window.max_age_ms + window.max_future_ms - 1


class ReplayStore(Protocol):
    def attach(self, window: ReplayWindow) -> None: ...

    def check_and_remember(self, principal: str, nonce: bytes, expires_at_ms: int) -> str: ...


class _Principal:
    __slots__ = ("entries", "floor")

    def __init__(self) -> None:
        self.entries: "OrderedDict[bytes, int]" = OrderedDict()  # insertion order
        self.floor = 0


class MemoryReplayStore:
    """One process's store. Bounded (``max_entries``), with a per-principal share."""

    def __init__(self, max_entries: int = 200_000, max_entries_per_principal: Optional[int] = None,
                 strict_restart: bool = False, now: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._share = max(1, max_entries_per_principal or max_entries)
        self._strict = strict_restart
        self._now = now
        self._floor = 0
        self._total = 0
        self._principals: dict[str, _Principal] = {}
        self._lock = threading.Lock()
        self._sweep: list[str] = []
        self._sweep_at = 0

    @property
    def size(self) -> int:
        return self._total

    def attach(self, window: ReplayWindow) -> None:
        with self._lock:
            self._floor = max(self._floor, restart_floor(self._now(), window, self._strict))

    def check_and_remember(self, principal: str, nonce: bytes, expires_at_ms: int) -> str:
        with self._lock:
            now = self._now()
            self._sweep_some(now)  # before taking this principal's record, which it may drop
            rec = self._principals.get(principal)
            if rec is None:
                rec = self._principals[principal] = _Principal()
                self._sweep.append(principal)
            self._expire(rec, now)
            # A remembered pair is a replay, whatever the floors say (§6.4: replayed wins).
            if nonce in rec.entries:
                return REPLAYED
            if expires_at_ms <= self._floor or expires_at_ms <= rec.floor:
                return FORGOTTEN
            if len(rec.entries) >= self._share:
                self._forget_oldest(rec)
            if self._total >= self._max:
                largest = max(self._principals.values(), key=lambda r: len(r.entries))
                self._forget_oldest(largest)
            rec.entries[bytes(nonce)] = expires_at_ms
            self._total += 1
            return FRESH

    def _expire(self, rec: _Principal, now: int, budget: int = 64) -> None:
        # Entries leave from the front once expired; expiry raises the store's floor (§6.4).
        while rec.entries and budget > 0:
            nonce, exp = next(iter(rec.entries.items()))
            if exp > now:
                return
            del rec.entries[nonce]
            self._total -= 1
            self._floor = max(self._floor, exp)
            budget -= 1

    def _forget_oldest(self, rec: _Principal) -> None:
        # Making room raises only this principal's floor: a flood refuses only its own.
        nonce, exp = rec.entries.popitem(last=False)
        self._total -= 1
        rec.floor = max(rec.floor, exp)

    def _sweep_some(self, now: int) -> None:
        """Bounded work per call: two principals' expired entries; drop empty, past records."""
        for _ in range(min(2, len(self._sweep))):
            self._sweep_at %= len(self._sweep)
            name = self._sweep[self._sweep_at]
            rec = self._principals[name]
            self._expire(rec, now)
            if not rec.entries and rec.floor <= now:
                # Its floor is in the past: fold it into the store's (at most now) and forget it.
                self._floor = max(self._floor, rec.floor)
                del self._principals[name]
                self._sweep[self._sweep_at] = self._sweep[-1]
                self._sweep.pop()
            else:
                self._sweep_at += 1
