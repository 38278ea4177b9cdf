"""Every metric AgentMem reports, by name: declared here once, bound to Prometheus series by the composition root.

Label values must come from a small set (route templates, modes, model names), never from ids or user text.
"""

from __future__ import annotations

from agentmem.application.operations import ProjectionMonitor
from agentmem.application.telemetry import SIZES, Metric, Reading
from agentmem.projections.jobs import JobQueries

HTTP_REQUESTS = Metric(
    "agentmem_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ("method", "route", "status"),
)
HTTP_SECONDS = Metric(
    "agentmem_http_request_seconds",
    "Time to answer an HTTP request, by method, route template and status",
    ("method", "route", "status"),
    kind="histogram",
)

EVENTSTORE_APPEND_SECONDS = Metric(
    "agentmem_eventstore_append_seconds", "Time to append one batch of events (lock, insert, commit)", kind="histogram"
)
EVENTSTORE_APPEND_EVENTS = Metric(
    "agentmem_eventstore_append_events", "Events appended per transaction", kind="histogram", buckets=SIZES
)

PROJECTION_BATCH_SECONDS = Metric(
    "agentmem_projection_batch_seconds",
    "Time to apply one batch of events to a read model (rows and tracking)",
    ("projection",),
    kind="histogram",
)
PROJECTION_BATCH_EVENTS = Metric(
    "agentmem_projection_batch_events",
    "Events a projection batch applied",
    ("projection",),
    kind="histogram",
    buckets=SIZES,
)

EMBEDDING_SECONDS = Metric(
    "agentmem_embedding_seconds",
    "Time of one call to the embedding model, by embedder and use (query, projection)",
    ("embedder", "use"),
    kind="histogram",
)
EMBEDDING_TEXTS = Metric(
    "agentmem_embedding_texts_total",
    "Texts embedded by the model (cache misses), by embedder and use",
    ("embedder", "use"),
)
EMBEDDING_CACHE = Metric(
    "agentmem_embedding_cache_total",
    "Embedding cache look-ups by cache (query: in-process LRU, store: the shared table) and result (hit, miss)",
    ("cache", "result"),
)

SEARCH_SECONDS = Metric(
    "agentmem_search_seconds",
    "Time of one search (query embedding and SQL), by read model and mode",
    ("read_model", "mode"),
    kind="histogram",
)

LIMIT_REFUSALS = Metric(
    "agentmem_limit_refusals_total",
    "Requests refused by a limit (429): rate (requests per minute), login, memories (stored quota), llm_tokens",
    ("limit",),
)

LLM_CALLS = Metric(
    "agentmem_llm_calls_total",
    "Language-model calls by provider, model, purpose and outcome (ok, rate_limited, timeout, invalid_output, "
    "cancelled, error)",
    ("provider", "model", "purpose", "outcome"),
)
LLM_TOKENS = Metric(
    "agentmem_llm_tokens_total",
    "Language-model tokens by provider, model, purpose and kind (input, output)",
    ("provider", "model", "purpose", "kind"),
)
LLM_SECONDS = Metric(
    "agentmem_llm_call_seconds",
    "Time of one language-model call (all its retries), by provider, model and purpose",
    ("provider", "model", "purpose"),
    kind="histogram",
)

JOBS_FINISHED = Metric(
    "agentmem_jobs_finished_total",
    "Job attempts finished, by kind and outcome (succeeded, retried, failed)",
    ("kind", "outcome"),
)
JOB_SECONDS = Metric(
    "agentmem_job_seconds", "Time of one job attempt, by kind and outcome", ("kind", "outcome"), kind="histogram"
)

TOOL_RUNS = Metric("agentmem_tool_runs_total", "Tool runs by language and status", ("language", "status"))
TOOL_SECONDS = Metric(
    "agentmem_tool_run_seconds",
    "Time of one tool run in the sandbox, by language and status",
    ("language", "status"),
    kind="histogram",
)

ALL: tuple[Metric, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Metric))
"""What the composition root binds; a metric declared above is reported without another line."""


async def projection_readings(monitor: ProjectionMonitor) -> list[Reading]:
    """Each projection's position, lag and throughput as the database has them (right whichever worker runs it)."""
    head, states = await monitor.projections()
    readings = [Reading("agentmem_event_log_head", "Position of the last event in the log", head)]
    for state in states:
        labels = {"projection": state.name, "read_model": state.read_model or state.name}
        readings += [
            Reading("agentmem_projection_position", "Last log position the projection applied", state.position, labels),
            Reading(
                "agentmem_projection_lag_events",
                "Events of the log the projection has not applied",
                state.lag_events,
                labels,
            ),
            Reading(
                "agentmem_projection_lag_seconds",
                "Age of the oldest event the projection has not applied (0 when caught up)",
                state.lag_seconds,
                labels,
            ),
            Reading(
                "agentmem_projection_rate",
                "Events per second the projection applied over the last minute",
                state.rate_per_second,
                labels,
            ),
            Reading(
                "agentmem_projection_events_applied_total",
                "Events the projection has applied",
                state.events_applied,
                labels,
                kind="counter",
            ),
        ]
    return readings


async def job_readings(queries: JobQueries) -> list[Reading]:
    """Jobs waiting and running now, by kind, from the jobs read model (every job worker's, every tenant's)."""
    counts = await queries.unfinished_counts()
    return [
        Reading(
            "agentmem_jobs", "Jobs queued or running now, by kind and status", count, {"kind": kind, "status": status}
        )
        for (kind, status), count in sorted(counts.items())
    ]
