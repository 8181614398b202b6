"""Keep verified Basic credentials for a short while and slow down repeated failed logins, in this process."""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedLogin:
    user_id: int
    stamp: str
    until: float


class BasicCache:
    """Remember which name and password pairs were verified, keyed by an HMAC so no password is kept.

    An entry names the user and the credential stamp it was verified with; the caller compares the stamp
    with the user's row on every use, so a changed password, changed roles or a disabled account end it
    at once, in every process.
    """

    def __init__(self, secret: str, seconds: float, size: int = 10_000) -> None:
        self._key = hashlib.sha256(b"basic-cache:" + secret.encode("utf-8")).digest()
        self._seconds = seconds
        self._size = size
        self._entries: OrderedDict[bytes, CachedLogin] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, name: str, password: str) -> bytes:
        message = name.encode("utf-8") + b"\x00" + password.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def get(self, key: bytes) -> CachedLogin | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.until < time.monotonic():
                del self._entries[key]
                return None
            return entry

    def put(self, key: bytes, user_id: int, stamp: str) -> None:
        if self._seconds <= 0:
            return
        with self._lock:
            self._entries[key] = CachedLogin(user_id, stamp, time.monotonic() + self._seconds)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def drop(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)


class FailureLimiter:
    """Count failed logins per user name and per address in a sliding window; too many lock both out."""

    def __init__(self, per_name: int, per_address: int, window: float) -> None:
        self._limits = {"name": per_name, "address": per_address}
        self._window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, name: str, address: str) -> int:
        """Return the seconds until the next attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for kind, value in (("name", name.lower()), ("address", address)):
                times = self._recent((kind, value), now)
                if len(times) >= self._limits[kind]:
                    wait = max(wait, times[-self._limits[kind]] + self._window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (("name", name.lower()), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)
                times = self._failures[key]
                while len(times) > max(self._limits.values()):
                    times.popleft()

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name.lower()), None)
