"""All configuration, read from the environment in this one module."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs


class SettingsError(ValueError):
    """An environment variable holds a value AgentMem cannot use."""


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


JWT_ALGORITHMS = ("HS256", "HS384", "HS512")
MAX_TOOL_CONCURRENCY = 256
"""Each concurrent run gets its own sandbox user; 256 of them are mapped."""
MIN_SECRET_CHARS = 32


def _secret(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name) or None
    if value is not None and len(value) < MIN_SECRET_CHARS:
        raise SettingsError(f"{name} must be at least {MIN_SECRET_CHARS} characters")
    return value


LLM_PROVIDERS = ("openai", "anthropic", "gemini", "azure_openai", "openai_compatible")
LLM_KEY_VARIABLES = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "azure_openai": ("AZURE_OPENAI_API_KEY",),
    "openai_compatible": (),
}
"""Where each provider's API key is read when AGENTMEM_LLM_API_KEY does not apply (the SDKs' usual variables)."""
LLM_BASE_URL_VARIABLES = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GOOGLE_GEMINI_BASE_URL",
    "azure_openai": "AZURE_OPENAI_ENDPOINT",
}


@dataclass(frozen=True)
class LLMSettings:
    """The language model: `AGENTMEM_LLM=<provider>:<model>` (none by default), credentials, limits."""

    provider: str | None = None
    model: str | None = None
    api_keys: dict[str, str] = field(default_factory=dict)
    base_urls: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None
    timeout: float = 60.0
    max_retries: int = 3
    concurrency: int = 8
    rpm: int = 0
    tpm: int = 0
    prices_file: Path | None = None

    @property
    def spec(self) -> str | None:
        return f"{self.provider}:{self.model}" if self.provider else None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LLMSettings:
        defaults = cls()
        provider = model = None
        spec = (env.get("AGENTMEM_LLM") or "").strip()
        if spec and spec.lower() != "none":
            provider, _, model = spec.partition(":")
            if provider not in LLM_PROVIDERS or not model.strip():
                raise SettingsError(
                    f"AGENTMEM_LLM must be <provider>:<model> with a provider among {', '.join(LLM_PROVIDERS)}, "
                    f"got {spec!r}"
                )
        keys = {p: next((env[v] for v in names if env.get(v)), "") for p, names in LLM_KEY_VARIABLES.items()}
        urls = {p: env.get(v, "") for p, v in LLM_BASE_URL_VARIABLES.items()}
        if provider is not None:
            keys[provider] = env.get("AGENTMEM_LLM_API_KEY") or keys[provider]
            urls[provider] = env.get("AGENTMEM_LLM_BASE_URL") or urls.get(provider, "")
        return cls(
            provider=provider,
            model=model.strip() if model else None,
            api_keys={p: k for p, k in keys.items() if k},
            base_urls={p: u for p, u in urls.items() if u},
            api_version=env.get("OPENAI_API_VERSION") or None,
            timeout=_float(env, "AGENTMEM_LLM_TIMEOUT", defaults.timeout),
            max_retries=_int(env, "AGENTMEM_LLM_MAX_RETRIES", defaults.max_retries),
            concurrency=_int(env, "AGENTMEM_LLM_CONCURRENCY", defaults.concurrency, minimum=1),
            rpm=_int(env, "AGENTMEM_LLM_RPM", defaults.rpm),
            tpm=_int(env, "AGENTMEM_LLM_TPM", defaults.tpm),
            prices_file=Path(env["AGENTMEM_LLM_PRICES"]) if env.get("AGENTMEM_LLM_PRICES") else None,
        )

    def as_env(self) -> dict[str, str]:
        """The environment that gives a child process these same settings."""
        env = {
            "AGENTMEM_LLM": self.spec or "none",
            "AGENTMEM_LLM_TIMEOUT": str(self.timeout),
            "AGENTMEM_LLM_MAX_RETRIES": str(self.max_retries),
            "AGENTMEM_LLM_CONCURRENCY": str(self.concurrency),
            "AGENTMEM_LLM_RPM": str(self.rpm),
            "AGENTMEM_LLM_TPM": str(self.tpm),
        }
        for provider, key in self.api_keys.items():
            names = LLM_KEY_VARIABLES[provider]
            env[names[0] if names else "AGENTMEM_LLM_API_KEY"] = key
        if self.provider in self.api_keys:
            env["AGENTMEM_LLM_API_KEY"] = self.api_keys[self.provider]
        for provider, url in self.base_urls.items():
            env[LLM_BASE_URL_VARIABLES.get(provider, "AGENTMEM_LLM_BASE_URL")] = url
        if self.provider in self.base_urls:
            env["AGENTMEM_LLM_BASE_URL"] = self.base_urls[self.provider]
        if self.api_version:
            env["OPENAI_API_VERSION"] = self.api_version
        if self.prices_file:
            env["AGENTMEM_LLM_PRICES"] = str(self.prices_file)
        return env


@dataclass(frozen=True)
class ChatSettings:
    """Agent runs: the deadline, how long a stream's events are kept for resuming, how long a streaming client may
    be gone before its run is cancelled, and the token budgets of recalled memories and of the conversation."""

    deadline: float = 300.0
    resume_window: float = 600.0
    detached_grace: float = 15.0
    memory_tokens: int = 1_000
    history_tokens: int = 6_000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ChatSettings:
        defaults = cls()
        return cls(
            deadline=_float(env, "AGENTMEM_CHAT_DEADLINE", defaults.deadline),
            resume_window=_float(env, "AGENTMEM_CHAT_RESUME_WINDOW", defaults.resume_window),
            detached_grace=_float(env, "AGENTMEM_CHAT_DETACHED_GRACE", defaults.detached_grace),
            memory_tokens=_int(env, "AGENTMEM_CHAT_MEMORY_TOKENS", defaults.memory_tokens),
            history_tokens=_int(env, "AGENTMEM_CHAT_HISTORY_TOKENS", defaults.history_tokens, minimum=100),
        )

    def as_env(self) -> dict[str, str]:
        return {
            "AGENTMEM_CHAT_DEADLINE": str(self.deadline),
            "AGENTMEM_CHAT_RESUME_WINDOW": str(self.resume_window),
            "AGENTMEM_CHAT_DETACHED_GRACE": str(self.detached_grace),
            "AGENTMEM_CHAT_MEMORY_TOKENS": str(self.memory_tokens),
            "AGENTMEM_CHAT_HISTORY_TOKENS": str(self.history_tokens),
        }


def _auth_settings(env: Mapping[str, str], defaults: Settings) -> dict[str, Any]:
    """Secrets, tokens, rate limits, quotas and the bootstrap owner."""
    algorithm = (env.get("AGENTMEM_JWT_ALGORITHM") or defaults.jwt_algorithm).upper()
    if algorithm not in JWT_ALGORITHMS:
        raise SettingsError(f"AGENTMEM_JWT_ALGORITHM must be one of {', '.join(JWT_ALGORITHMS)}, got {algorithm!r}")
    return {
        "secret_key": _secret(env, "AGENTMEM_SECRET_KEY"),
        "token_ttl": _int(env, "AGENTMEM_TOKEN_TTL", defaults.token_ttl, minimum=60),
        "jwt_algorithm": algorithm,
        "rate_limit_per_minute": _int(env, "AGENTMEM_RATE_LIMIT_PER_MINUTE", defaults.rate_limit_per_minute, 1),
        "max_memories_per_org": _int(env, "AGENTMEM_MAX_MEMORIES_PER_ORG", defaults.max_memories_per_org, 1),
        "bootstrap_api_key": _secret(env, "AGENTMEM_BOOTSTRAP_API_KEY"),
        "bootstrap_email": env.get("AGENTMEM_BOOTSTRAP_EMAIL") or defaults.bootstrap_email,
        "bootstrap_password": env.get("AGENTMEM_BOOTSTRAP_PASSWORD") or None,
    }


LOG_FORMATS = ("text", "json")


def _telemetry_settings(env: Mapping[str, str], defaults: Settings) -> dict[str, Any]:
    """Metrics, traces and log lines."""
    log_format = (env.get("AGENTMEM_LOG_FORMAT") or defaults.log_format).lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"AGENTMEM_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    ratio = _float(env, "AGENTMEM_TRACE_SAMPLE_RATIO", defaults.trace_sample_ratio)
    if not 0.0 <= ratio <= 1.0:
        raise SettingsError(f"AGENTMEM_TRACE_SAMPLE_RATIO must be between 0 and 1, got {ratio}")
    return {
        "log_format": log_format,
        "metrics_enabled": (env.get("AGENTMEM_METRICS") or "true").lower() not in ("0", "false", "no"),
        "metrics_token": _secret(env, "AGENTMEM_METRICS_TOKEN"),
        "metrics_port": _int(env, "AGENTMEM_METRICS_PORT", defaults.metrics_port),
        "metrics_dir": Path(env["PROMETHEUS_MULTIPROC_DIR"]) if env.get("PROMETHEUS_MULTIPROC_DIR") else None,
        "otlp_endpoint": env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        "service_name": env.get("OTEL_SERVICE_NAME") or defaults.service_name,
        "trace_sample_ratio": ratio,
    }


@dataclass(frozen=True)
class Settings:
    """Every setting AgentMem reads, with its default (see the README's configuration table)."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("agentmem")))
    host: str = "127.0.0.1"
    port: int = 8000
    api_workers: int = 1
    db_pool_size: int = 8
    max_body_bytes: int = 32 * 1024 * 1024
    read_wait_timeout: float = 5.0
    log_level: str = "info"
    embedder: str = "local:all-MiniLM-L6-v2-int8"
    embed_threads: int = 1
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    embedding_send_dimensions: bool = True
    text_search_config: str = "english"
    exact_search_limit: int = 10_000
    worker_nice: int = 0
    worker_embed_threads: int = 2
    sandbox_bwrap: str | None = None
    tool_concurrency: int = 4
    tool_queue: int = 16
    projection_max_attempts: int = 5
    projection_retry_seconds: float = 1.0
    secret_key: str | None = None
    token_ttl: int = 24 * 3600
    jwt_algorithm: str = "HS256"
    rate_limit_per_minute: int = 1200
    max_memories_per_org: int = 1_000_000
    bootstrap_api_key: str | None = None
    bootstrap_email: str = "admin@agentmem.local"
    bootstrap_password: str | None = None
    llm: LLMSettings = field(default_factory=LLMSettings)
    job_queue: str = "agentmem:jobs"
    job_concurrency: int = 4
    job_max_attempts: int = 3
    job_retry_seconds: float = 5.0
    job_timeout: float = 300.0
    chat: ChatSettings = field(default_factory=ChatSettings)
    url: str | None = None
    api_key: str | None = None
    log_format: str = "text"
    metrics_enabled: bool = True
    metrics_token: str | None = None
    metrics_port: int = 0
    metrics_dir: Path | None = None
    otlp_endpoint: str | None = None
    service_name: str = "agentmem"
    trace_sample_ratio: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env["AGENTMEM_DATA_DIR"]) if env.get("AGENTMEM_DATA_DIR") else defaults.data_dir,
            host=env.get("AGENTMEM_HOST") or defaults.host,
            port=_int(env, "AGENTMEM_PORT", defaults.port, minimum=0),
            api_workers=_int(env, "AGENTMEM_API_WORKERS", defaults.api_workers, minimum=1),
            db_pool_size=_int(env, "AGENTMEM_DB_POOL_SIZE", defaults.db_pool_size, minimum=1),
            max_body_bytes=_int(env, "AGENTMEM_MAX_BODY_BYTES", defaults.max_body_bytes, minimum=1024),
            read_wait_timeout=_float(env, "AGENTMEM_READ_WAIT_TIMEOUT", defaults.read_wait_timeout),
            log_level=(env.get("AGENTMEM_LOG_LEVEL") or defaults.log_level).lower(),
            embedder=env.get("AGENTMEM_EMBEDDER") or defaults.embedder,
            embed_threads=_int(env, "AGENTMEM_EMBED_THREADS", defaults.embed_threads, minimum=1),
            embedding_base_url=env.get("AGENTMEM_EMBEDDING_BASE_URL") or None,
            embedding_api_key=env.get("AGENTMEM_EMBEDDING_API_KEY") or env.get("OPENAI_API_KEY") or None,
            embedding_send_dimensions=(env.get("AGENTMEM_EMBEDDING_SEND_DIMENSIONS") or "true").lower()
            not in ("0", "false", "no"),
            text_search_config=env.get("AGENTMEM_TEXT_SEARCH_CONFIG") or defaults.text_search_config,
            exact_search_limit=_int(env, "AGENTMEM_EXACT_SEARCH_LIMIT", defaults.exact_search_limit),
            worker_nice=_int(env, "AGENTMEM_WORKER_NICE", defaults.worker_nice),
            worker_embed_threads=_int(env, "AGENTMEM_WORKER_EMBED_THREADS", defaults.worker_embed_threads, minimum=1),
            projection_max_attempts=_int(
                env, "AGENTMEM_PROJECTION_MAX_ATTEMPTS", defaults.projection_max_attempts, minimum=1
            ),
            projection_retry_seconds=_float(
                env, "AGENTMEM_PROJECTION_RETRY_SECONDS", defaults.projection_retry_seconds
            ),
            llm=LLMSettings.from_env(env),
            sandbox_bwrap=env.get("AGENTMEM_SANDBOX_BWRAP") or None,
            tool_concurrency=_int(env, "AGENTMEM_TOOL_CONCURRENCY", defaults.tool_concurrency, minimum=1),
            tool_queue=_int(env, "AGENTMEM_TOOL_QUEUE", defaults.tool_queue),
            job_queue=env.get("AGENTMEM_JOB_QUEUE") or defaults.job_queue,
            job_concurrency=_int(env, "AGENTMEM_JOB_CONCURRENCY", defaults.job_concurrency, minimum=1),
            job_max_attempts=_int(env, "AGENTMEM_JOB_MAX_ATTEMPTS", defaults.job_max_attempts, minimum=1),
            job_retry_seconds=_float(env, "AGENTMEM_JOB_RETRY_SECONDS", defaults.job_retry_seconds),
            job_timeout=_float(env, "AGENTMEM_JOB_TIMEOUT", defaults.job_timeout),
            chat=ChatSettings.from_env(env),
            **_auth_settings(env, defaults),
            url=env.get("AGENTMEM_URL") or None,
            api_key=env.get("AGENTMEM_API_KEY") or None,
            **_telemetry_settings(env, defaults),
        )

    def __post_init__(self) -> None:
        if self.tool_concurrency > MAX_TOOL_CONCURRENCY:
            raise SettingsError(f"AGENTMEM_TOOL_CONCURRENCY must be at most {MAX_TOOL_CONCURRENCY}")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    def as_env(self) -> dict[str, str]:
        """The environment that gives a child process these same settings."""
        env = {
            "AGENTMEM_DATA_DIR": str(self.data_dir),
            "AGENTMEM_HOST": self.host,
            "AGENTMEM_PORT": str(self.port),
            "AGENTMEM_API_WORKERS": str(self.api_workers),
            "AGENTMEM_DB_POOL_SIZE": str(self.db_pool_size),
            "AGENTMEM_MAX_BODY_BYTES": str(self.max_body_bytes),
            "AGENTMEM_READ_WAIT_TIMEOUT": str(self.read_wait_timeout),
            "AGENTMEM_LOG_LEVEL": self.log_level,
            "AGENTMEM_EMBEDDER": self.embedder,
            "AGENTMEM_EMBED_THREADS": str(self.embed_threads),
            "AGENTMEM_EMBEDDING_SEND_DIMENSIONS": str(self.embedding_send_dimensions).lower(),
            "AGENTMEM_TEXT_SEARCH_CONFIG": self.text_search_config,
            "AGENTMEM_EXACT_SEARCH_LIMIT": str(self.exact_search_limit),
            "AGENTMEM_WORKER_NICE": str(self.worker_nice),
            "AGENTMEM_WORKER_EMBED_THREADS": str(self.worker_embed_threads),
            "AGENTMEM_TOOL_CONCURRENCY": str(self.tool_concurrency),
            "AGENTMEM_TOOL_QUEUE": str(self.tool_queue),
            "AGENTMEM_PROJECTION_MAX_ATTEMPTS": str(self.projection_max_attempts),
            "AGENTMEM_PROJECTION_RETRY_SECONDS": str(self.projection_retry_seconds),
            "AGENTMEM_TOKEN_TTL": str(self.token_ttl),
            "AGENTMEM_JWT_ALGORITHM": self.jwt_algorithm,
            "AGENTMEM_RATE_LIMIT_PER_MINUTE": str(self.rate_limit_per_minute),
            "AGENTMEM_MAX_MEMORIES_PER_ORG": str(self.max_memories_per_org),
            "AGENTMEM_BOOTSTRAP_EMAIL": self.bootstrap_email,
            **self.llm.as_env(),
            "AGENTMEM_JOB_QUEUE": self.job_queue,
            "AGENTMEM_JOB_CONCURRENCY": str(self.job_concurrency),
            "AGENTMEM_JOB_MAX_ATTEMPTS": str(self.job_max_attempts),
            "AGENTMEM_JOB_RETRY_SECONDS": str(self.job_retry_seconds),
            "AGENTMEM_JOB_TIMEOUT": str(self.job_timeout),
            **self.chat.as_env(),
            "AGENTMEM_LOG_FORMAT": self.log_format,
            "AGENTMEM_METRICS": str(self.metrics_enabled).lower(),
            "AGENTMEM_METRICS_PORT": str(self.metrics_port),
            "OTEL_SERVICE_NAME": self.service_name,
            "AGENTMEM_TRACE_SAMPLE_RATIO": str(self.trace_sample_ratio),
        }
        for name, value in (
            ("AGENTMEM_SECRET_KEY", self.secret_key),
            ("AGENTMEM_BOOTSTRAP_API_KEY", self.bootstrap_api_key),
            ("AGENTMEM_BOOTSTRAP_PASSWORD", self.bootstrap_password),
            ("AGENTMEM_METRICS_TOKEN", self.metrics_token),
            ("PROMETHEUS_MULTIPROC_DIR", str(self.metrics_dir) if self.metrics_dir else None),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.otlp_endpoint),
        ):
            if value:
                env[name] = value
        if self.sandbox_bwrap:
            env["AGENTMEM_SANDBOX_BWRAP"] = self.sandbox_bwrap
        if self.embedding_base_url:
            env["AGENTMEM_EMBEDDING_BASE_URL"] = self.embedding_base_url
        if self.embedding_api_key:
            env["AGENTMEM_EMBEDDING_API_KEY"] = self.embedding_api_key
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env
