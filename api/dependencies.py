"""Typed dependencies: each controller declares which applications and use cases of the container it uses."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from agentmem.runtime.container import Container


def container_of(state: State) -> Container:
    container: Container = state.container
    return container


def provide(name: str) -> Provide:
    """A dependency on the container's attribute `name` (an application or a use case)."""

    def from_container(state: State) -> Any:
        return getattr(container_of(state), name)

    from_container.__name__ = f"provide_{name}"
    return Provide(from_container, sync_to_thread=False)
