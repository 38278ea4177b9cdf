"""Response bodies of /v1/llm and /v1/usage."""

from __future__ import annotations

from msgspec import Struct


class LanguageModelOut(Struct):
    """The configured language model (provider and model are null when none is: set AGENTMEM_LLM)."""

    configured: bool
    provider: str | None
    model: str | None


class ProbeOut(Struct):
    """One check: whether it worked, its latency, tokens, retries, and what came back or went wrong."""

    name: str
    ok: bool
    latency_ms: float
    input_tokens: int
    output_tokens: int
    retries: int
    detail: str


class CheckOut(Struct):
    """The three checks (answer, stream, tool call) and the log position of their usage records."""

    provider: str
    model: str
    ok: bool
    probes: list[ProbeOut]
    position: int | None


class UsageGroupOut(Struct):
    """Calls, errors, retries, tokens, cost (null when a model has no known price) and mean latency of one group."""

    organization_id: str
    key: str | None
    calls: int
    errors: int
    retries: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float | None
    mean_latency_ms: float


class UsageOut(Struct):
    """Language-model usage in [since, until), grouped."""

    since: str
    until: str
    group_by: str
    groups: list[UsageGroupOut]
