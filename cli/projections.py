"""`agentmem projections failures|retry|skip`: what an operator does about events a projection parked."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agentmem.domain.errors import AgentMemError
from agentmem.runtime.settings import Settings

if TYPE_CHECKING:
    from agentmem.application.operations import ParkedEvent

COLUMNS = ("projection", "position", "tenant_id", "state", "attempts", "applied_to", "event", "error")


def add_commands(projections: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the commands to `agentmem projections`."""
    failures = projections.add_parser("failures", help="list parked events and the tenants they hold back")
    failures.add_argument("--projection", help="only this projection (its tracking name, e.g. memories_g1)")
    retry = projections.add_parser("retry", help="retry parked events (all, one projection's, or one)")
    retry.add_argument("projection", nargs="?", help="the projection's tracking name, as `failures` lists it")
    retry.add_argument("position", nargs="?", type=int, help="the parked event's log position")
    retry.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the worker (0: do not wait)")
    skip = projections.add_parser("skip", help="leave one parked event out of its read model, recorded in the log")
    skip.add_argument("projection", help="the projection's tracking name, as `failures` lists it")
    skip.add_argument("position", type=int, help="the parked event's log position")
    skip.add_argument("--reason", required=True, help="why: recorded in the log with the skip")
    for command in (failures, retry, skip):
        command.add_argument("--data-dir", type=Path, help="data directory of an embedded database")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Runs one of the commands; 1 when the operation was refused (the reason goes to stderr)."""
    from agentmem.runtime import processes

    try:
        with processes.projection_operations(settings.with_overrides(data_dir=args.data_dir)) as operations:
            if args.action == "failures":
                _print(operations.failures(args.projection))
                return 0
            if args.action == "retry":
                asked = operations.retry(args.projection, args.position)
                if not asked:
                    print("nothing to retry: no parked event matches", file=sys.stderr)
                    return 0
                print(f"asked the worker to retry {len(asked)} parked event(s)", file=sys.stderr)
                if args.wait > 0:
                    for parked, outcome in operations.settle(asked, args.wait):
                        print(f"{parked.projection} {parked.position} (tenant {parked.tenant_id}): {outcome}")
                return 0
            parked, recorded = operations.skip(args.projection, args.position, args.reason, _actor())
            print(
                f"skipped {parked.event_type} at {parked.position} of {parked.projection} for tenant "
                f"{parked.tenant_id}; recorded in the log at position {recorded}"
            )
            return 0
    except AgentMemError as error:
        print(f"agentmem: {error}", file=sys.stderr)
        return 1


def _actor() -> str:
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):
        return "operator:cli"


def _print(parked: list[ParkedEvent]) -> None:
    if not parked:
        print("no parked events")
        return
    rows = [
        (
            p.projection,
            str(p.position),
            p.tenant_id,
            p.state,
            str(p.attempts),
            str(p.applied_to),
            f"{p.event_type} {p.aggregate_id} v{p.version}",
            p.error.splitlines()[0][:120] if p.error else "",
        )
        for p in parked
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    for row in [COLUMNS, *rows]:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
