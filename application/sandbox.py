"""The sandbox port: run untrusted code (a tool) once, isolated, within limits, and say how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agentmem.application.base import ApplicationError
from agentmem.domain.errors import LimitExceeded, Unavailable

Language = Literal["python", "bash", "javascript"]
RunStatus = Literal["ok", "error", "timeout", "killed"]


class SandboxUnavailableError(ApplicationError, Unavailable):
    """The sandbox cannot be set up on this machine (or lacks the language's runtime): nothing runs unsandboxed."""


class SandboxBusyError(ApplicationError, LimitExceeded):
    """Every run slot of this process is taken and the queue in front of them is full."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one run may use. Memory, CPU seconds and files are per process; `processes` counts threads too."""

    timeout_s: float = 10.0
    memory_mb: int = 256
    processes: int = 16
    open_files: int = 128
    tmp_mb: int = 64
    output_bytes: int = 65_536
    return_bytes: int = 1_048_576


@dataclass(frozen=True, slots=True)
class Code:
    """The program to run: its language, its source, and the environment variables it gets (secrets)."""

    language: Language
    source: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended: `ok` (exit 0), `error` (non-zero exit, exception, bad return value), `timeout` (killed at
    the wall-clock limit) or `killed` (by a signal: a memory, CPU or process limit). `error` says why when not ok."""

    status: RunStatus
    return_value: Any
    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: float
    truncated: bool
    error: str | None = None


class Sandbox(Protocol):
    """Runs code in a fresh isolated process each time; never runs it unsandboxed."""

    def run(self, code: Code, args: dict[str, Any], limits: Limits) -> RunResult:
        """Runs `code` with `args` (SandboxUnavailableError when it cannot be isolated, SandboxBusyError when full)."""
        ...

    def check(self) -> str | None:
        """None when runs can start; otherwise why they cannot (for readiness probes)."""
        ...
