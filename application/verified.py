"""Authenticated identities remembered between requests, reused only while nothing about them changed.

Authenticating a key reads three aggregates (key, organization, user) from the log. A remembered identity
is reused after one query for the latest version of each of its aggregates: any event since (a revoked
key, a suspended organization, a disabled user, a role change) makes it stale, so a change still takes
effect on the very next request. Time-based rules (key expiry) are checked by the caller on every use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any
from uuid import UUID

LatestVersions = Callable[[Sequence[UUID]], dict[UUID, int]]


class VerifiedIdentities:
    """A bounded map from a credential to the identity it proved, checked against the log on each get."""

    def __init__(self, latest_versions: LatestVersions, size: int = 10_000) -> None:
        self._latest = latest_versions
        self._size = size
        self._items: OrderedDict[Hashable, tuple[Any, dict[UUID, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, credential: Hashable) -> Any | None:
        with self._lock:
            entry = self._items.get(credential)
        if entry is None:
            return None
        identity, versions = entry
        if self._latest(list(versions)) != versions:
            with self._lock:
                self._items.pop(credential, None)
            return None
        with self._lock:
            if credential in self._items:
                self._items.move_to_end(credential)
        return identity

    def put(self, credential: Hashable, identity: Any, aggregates: Sequence[Any]) -> None:
        versions = {aggregate.id: aggregate.version for aggregate in aggregates if aggregate is not None}
        with self._lock:
            self._items[credential] = (identity, versions)
            self._items.move_to_end(credential)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
