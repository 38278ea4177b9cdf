"""Telemetry of one process, from Settings: log lines, metric series and traces (see the README's Observability).

Only the logging set-up is imported with this module: every command configures logs, while the Prometheus and
OpenTelemetry modules load when a server process starts its telemetry (the light commands never do).
"""

from __future__ import annotations

import threading

from agentmem.infrastructure.logs import configure_logging
from agentmem.infrastructure.settings import Settings

__all__ = ["configure_logging", "start_telemetry"]
_lock = threading.Lock()
_started = False


def start_telemetry(settings: Settings, role: str) -> None:
    """Binds the declared metrics and starts tracing (when configured), once per process; `role` names the process
    in traces (api, worker). Runs before any database pool opens, so tracing sees every connection."""
    global _started  # noqa: PLW0603 - once per process
    from agentmem.application import metrics
    from agentmem.infrastructure.prometheus import bind_metrics
    from agentmem.infrastructure.tracing import start_tracing

    with _lock:
        if _started:
            return
        if settings.metrics_enabled:
            bind_metrics(metrics.ALL, settings.metrics_dir)
        start_tracing(settings, role)
        _started = True
