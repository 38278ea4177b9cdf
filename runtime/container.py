"""The composition root: builds, from Settings, every application, use case and adapter one process needs.

Entrypoints (the HTTP API, the CLI, workers, tests) take what they need from a Container and never build an
adapter themselves; this is the one module that knows which adapter implements which port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from uuid import UUID

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from agentmem.application.agent_tools import AttachedTools, MemoryTools, ToolProviders
from agentmem.application.agents import AgentApplication
from agentmem.application.authentication import Authenticator, Limits
from agentmem.application.block_rewrite import BlockWrites
from agentmem.application.blocks import BlockApplication
from agentmem.application.chat import Chat
from agentmem.application.chat_context import Budgets, ContextBuilder
from agentmem.application.chat_runs import ChatPolicy
from agentmem.application.consolidation import Consolidation
from agentmem.application.conversations import ConversationApplication
from agentmem.application.core_memory import CoreMemory
from agentmem.application.events import EventFeed
from agentmem.application.extraction import Extraction
from agentmem.application.identity import IdentityApplication
from agentmem.application.job_requests import Jobs
from agentmem.application.job_runner import JobRunner
from agentmem.application.jobs import JobApplication, JobPolicy
from agentmem.application.language_models import MeteredModels
from agentmem.application.lists import Lists
from agentmem.application.memories import MemoryApplication
from agentmem.application.memory_changes import MemoryChanges
from agentmem.application.memory_writes import MemoryWrites
from agentmem.application.metrics import job_readings, projection_readings
from agentmem.application.operations import OperationsApplication, ProjectionMonitor, ProjectionOperations
from agentmem.application.quota import MemoryQuota
from agentmem.application.reads import Reads
from agentmem.application.runs import RunApplication, RunList
from agentmem.application.sandbox import Limits as RunLimits
from agentmem.application.secrets import SecretApplication
from agentmem.application.tool_runs import ToolRunner
from agentmem.application.tools import ToolApplication
from agentmem.application.transfer import OrganizationExport
from agentmem.application.usage import UsageApplication, UsageReport
from agentmem.infrastructure.arq_jobs import ArqJobQueue, RedisScopeLocks
from agentmem.infrastructure.bubblewrap import bubblewrap_sandbox
from agentmem.infrastructure.database import async_pool, sync_pool
from agentmem.infrastructure.eventstore import PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.llm.catalog import ProviderCatalog
from agentmem.infrastructure.llm.limits import RedisRateGate, RedisTokenBudget
from agentmem.infrastructure.llm.prices import PriceTable, load_prices
from agentmem.infrastructure.monitoring import PostgresProjectionMonitor
from agentmem.infrastructure.positions import PostgresPositionWaiter
from agentmem.infrastructure.postgres_agents import PostgresAgentQueries
from agentmem.infrastructure.postgres_audit import PostgresAuditTrail
from agentmem.infrastructure.postgres_blocks import PostgresBlockQueries
from agentmem.infrastructure.postgres_directory import PostgresDirectory
from agentmem.infrastructure.postgres_events import PostgresLogSignal, PostgresTenantLog
from agentmem.infrastructure.postgres_holds import PostgresProjectionHolds
from agentmem.infrastructure.postgres_jobs import PostgresJobQueries
from agentmem.infrastructure.postgres_runs import PostgresRunQueries
from agentmem.infrastructure.postgres_tools import PostgresToolQueries
from agentmem.infrastructure.postgres_usage import PostgresUsageQueries
from agentmem.infrastructure.prometheus import MetricsExposition, stop_loopback
from agentmem.infrastructure.quotas import RedisQuotaStore, RequestRateLimiter
from agentmem.infrastructure.redis_runs import RedisRuns
from agentmem.infrastructure.secret_vault import PostgresSecretVault
from agentmem.infrastructure.secrets import server_secret
from agentmem.infrastructure.serving import ServingIndexes
from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.tokens import JwtTokens
from agentmem.infrastructure.write_positions import RedisWritePositions
from agentmem.runtime.observability import start_telemetry

HEALTH_TIMEOUT = 2.0
SANDBOX_CHECK = "sandbox"
OPTIONAL_CHECKS = frozenset({SANDBOX_CHECK})
"""Readiness reports these but does not depend on them: without a sandbox only tool runs are refused (503)."""


class Container:
    """Applications and use cases of one process; `start()` opens what needs the event loop."""

    reads: Reads
    lists: Lists
    memory_writes: MemoryWrites
    monitor: ProjectionMonitor
    usage_report: UsageReport
    events: EventFeed
    exports: OrganizationExport
    jobs: Jobs
    job_runner: JobRunner
    job_queries: PostgresJobQueries
    chat: Chat
    run_list: RunList

    def __init__(self, settings: Settings, role: str = "api") -> None:
        """`role` names this process in traces (api; a job worker's container: jobs)."""
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("DATABASE_URL and REDIS_URL must be set (agentmem serve sets them)")
        self.settings = settings
        start_telemetry(settings, role)  # before any pool opens: traced connections
        factory = make_factory(settings.database_url, settings.db_pool_size)
        env = event_store_env(settings.database_url, settings.db_pool_size)
        self.positions = PostgresEventPositions(factory)
        self.memories = MemoryApplication(env, factory=factory, positions=self.positions)
        self.blocks = BlockApplication(env, factory=factory, positions=self.positions)
        self.agents = AgentApplication(env, factory=factory, positions=self.positions)
        self.conversations = ConversationApplication(env, factory=factory, positions=self.positions)
        secret = server_secret(settings)
        self.identity = IdentityApplication(env, secret=secret, factory=factory, positions=self.positions)
        self.core_memory = CoreMemory(self.agents, self.blocks)
        self.redis = Redis.from_url(settings.redis_url)
        self.write_positions = RedisWritePositions(self.redis)
        self.auth = Authenticator(
            self.identity,
            self.positions,
            JwtTokens(secret, settings.jwt_algorithm, settings.token_ttl, self.redis),
            RequestRateLimiter(settings.redis_url, self.redis),
            Limits(settings.rate_limit_per_minute, settings.max_memories_per_org),
        )
        self.usage = UsageApplication(env, factory=factory, positions=self.positions)
        llm = settings.llm
        gate = RedisRateGate(self.redis, llm.rpm, llm.tpm) if llm.rpm or llm.tpm else None
        self.llm_catalog = ProviderCatalog(llm, gate)
        self.language_models = MeteredModels(
            self.llm_catalog,
            self.usage,
            RedisTokenBudget(self.redis),
            PriceTable(load_prices(llm.prices_file)),
            self.daily_token_quota,
        )
        self.tools = ToolApplication(env, factory=factory, positions=self.positions)
        vault = PostgresSecretVault(factory.datastore, secret)
        self.secrets = SecretApplication(env, vault=vault, factory=factory, positions=self.positions)
        self.sandbox = bubblewrap_sandbox(settings)
        self.tool_runner = ToolRunner(self.tools, self.secrets, self.sandbox, RunLimits())
        self.job_app = JobApplication(env, factory=factory, positions=self.positions)
        self.job_policy = JobPolicy(settings.job_max_attempts, settings.job_retry_seconds, settings.job_timeout)
        self.block_writes = BlockWrites(self.blocks, self.language_models)
        self.runs = RunApplication(env, factory=factory, positions=self.positions)
        self.run_streams = RedisRuns(self.redis, settings.chat.resume_window)
        self._pool: AsyncConnectionPool | None = None
        self._waiter: PostgresPositionWaiter | None = None
        self._signal: PostgresLogSignal | None = None
        self.metrics: MetricsExposition | None = None
        self._loopback: ThreadingHTTPServer | None = None

    async def start(self) -> None:
        """Opens the read pool and the projection position listener, and the use cases that read through them."""
        assert self.settings.database_url
        pool = await async_pool(self.settings.database_url, self.settings.db_pool_size, "api-reads")
        self._pool = pool
        self._waiter = PostgresPositionWaiter(pool, self.settings.database_url)
        self._waiter.start()
        self.reads = Reads(self._waiter, ServingIndexes(pool, self.settings), self.settings.read_wait_timeout)
        self.lists = Lists(
            self.reads,
            PostgresBlockQueries(pool),
            PostgresAgentQueries(pool),
            PostgresDirectory(pool),
            PostgresAuditTrail(pool),
            PostgresToolQueries(pool),
        )
        quota = MemoryQuota(RedisQuotaStore(self.redis), self.reads.live_memories)
        self.memory_writes = MemoryWrites(self.memories, quota)
        self.monitor = PostgresProjectionMonitor(pool, self.memories)
        self.usage_report = UsageReport(self.reads, PostgresUsageQueries(pool))
        self._signal = PostgresLogSignal(self.settings.database_url)
        tenant_log = PostgresTenantLog(pool)
        self.events = EventFeed(tenant_log, self.identity.mapper, self._signal)
        self.exports = OrganizationExport(tenant_log, self.identity)
        if self.settings.metrics_enabled:
            probes = [lambda: projection_readings(self.monitor), lambda: job_readings(self.job_queries)]
            self.metrics = MetricsExposition(self.settings.metrics_dir, probes)
            if self.settings.metrics_port:
                self._loopback = self.metrics.serve_loopback(self.settings.metrics_port, asyncio.get_running_loop())
        self._start_jobs(pool, quota)
        self.run_list = RunList(self.reads, PostgresRunQueries(pool), self.agents)
        self.chat = self._chat()

    def _start_jobs(self, pool: AsyncConnectionPool, quota: MemoryQuota) -> None:
        """The job use cases: queuing and following jobs (API), and running them (the job worker)."""
        queue = ArqJobQueue(self.redis, self.settings.job_queue)
        locks = RedisScopeLocks(self.redis)
        changes = MemoryChanges(self.memories)
        models, policy = self.language_models, self.job_policy
        extraction = Extraction(self.job_app, changes, models, self.reads, self.positions, locks, quota, policy)
        consolidation = Consolidation(changes, models, self.reads, self.positions, locks, quota, policy)
        handlers = {"extraction": extraction, "consolidation": consolidation}
        self.job_runner = JobRunner(self.job_app, handlers, queue, policy)
        self.job_queries = PostgresJobQueries(pool)
        self.jobs = Jobs(self.job_app, queue, models, extraction, self.job_queries, self.reads, policy)

    def _chat(self) -> Chat:
        """The step loop with the memory tools and the agent's attached tools (run in the sandbox)."""
        chat = self.settings.chat
        memory_tools = MemoryTools(self.core_memory, self.memory_writes, self.reads)
        tools = ToolProviders([memory_tools, AttachedTools(self.tools, self.tool_runner)])
        budgets = Budgets(memories=chat.memory_tokens, history=chat.history_tokens)
        policy = ChatPolicy(chat.deadline, chat.detached_grace)
        return Chat(
            self.agents,
            self.conversations,
            self.runs,
            self.language_models,
            tools,
            ContextBuilder(self.conversations, self.reads, budgets),
            self.run_streams,
            self.run_streams,
            policy,
        )

    def daily_token_quota(self, tenant_id: str) -> int | None:
        """The organization's `llm_tokens_per_day` quota (None: no cap)."""
        quota = self.identity.get_organization(UUID(tenant_id)).quotas.get("llm_tokens_per_day")
        return int(quota) if quota else None

    async def stop(self) -> None:
        """Closes what start() opened (the container can start again); runs still going end cancelled."""
        if hasattr(self, "chat"):
            await self.chat.shutdown()
        if self._loopback is not None:
            stop_loopback(self._loopback)
            self._loopback = None
        if self._waiter is not None:
            await self._waiter.stop()
            self._waiter = None
        if self._signal is not None:
            await self._signal.stop()
            self._signal = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def close(self) -> None:
        """Stops, and closes Redis and the event store's connections."""
        await self.stop()
        await self.redis.aclose()
        self.sandbox.close()
        self.memories.close()

    async def readiness(self) -> dict[str, str]:
        """Whether each dependency answers (`ok` or the error's type), and how many parked events hold tenants back."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(asyncio.to_thread(self.positions.ping), timeout=HEALTH_TIMEOUT)
            checks["event_store"] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            checks["event_store"] = f"error: {type(error).__name__}"
        try:
            await asyncio.wait_for(self.redis.ping(), timeout=HEALTH_TIMEOUT)
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["redis"] = f"error: {type(error).__name__}"
        problem = await asyncio.to_thread(self.sandbox.check)
        checks[SANDBOX_CHECK] = "ok" if problem is None else f"unavailable: {problem}"
        try:
            held = await asyncio.wait_for(self.monitor.parked(), timeout=HEALTH_TIMEOUT)
            checks["projections"] = f"{len(held)} parked event(s) hold tenants back" if held else "ok"
        except Exception as error:  # noqa: BLE001
            checks["projections"] = f"error: {type(error).__name__}"
        return checks


@contextlib.contextmanager
def projection_operations(settings: Settings) -> Iterator[ProjectionOperations]:
    """What an operator does about parked events (the CLI's `agentmem projections failures|retry|skip`)."""
    assert settings.database_url, "DATABASE_URL is required"
    factory = make_factory(settings.database_url, 1)
    log = OperationsApplication(
        event_store_env(settings.database_url, 1), factory=factory, positions=PostgresEventPositions(factory)
    )
    pool = sync_pool(settings.database_url, size=1, name="operations")
    try:
        yield ProjectionOperations(PostgresProjectionHolds(pool), log)
    finally:
        pool.close()
        log.close()
