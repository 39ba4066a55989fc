"""The one time-limited cache: what a Lambda container may keep for a while (shops, templates,
a sender's verdict, secrets) and "done recently" marks (a delivery noted, SES asked).

Expiry runs on a monotonic timer, never the wall clock, so a clock moved by tests or by
NTP neither empties nor freezes it. Thread-safe: Chalice local serves requests in threads.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")
_MISSING = object()


class TTLCache(Generic[V]):
    def __init__(self, seconds: float, timer: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._timer = timer
        self._items: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return default
            if found[0] <= self._timer():
                del self._items[key]
                return default
            return found[1]

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._items[key] = (self._timer() + self.seconds, value)
        return value

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value, or ``load()``'s, kept (None is kept too: "there is none" is worth caching)."""
        found = self.get(key, _MISSING)
        return self.put(key, load()) if found is _MISSING else found

    def mark_if_due(self, key: Hashable) -> bool:
        """True, and marked, when ``key`` was not marked within the last ``seconds``: work done
        at most once per interval per container (no lock is held while the work runs)."""
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[0] > self._timer():
                return False
            self._items[key] = (self._timer() + self.seconds, True)
            return True

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
