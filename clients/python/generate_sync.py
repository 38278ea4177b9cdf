"""Writes agentmem_client/_sync from agentmem_client/_async (unasync, then ruff format); `--check` only compares.

The async client is the one source: the sync one is generated so both stay the same API, typed alike.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

HERE = Path(__file__).parent
SOURCE = HERE / "agentmem_client" / "_async"
TARGET = HERE / "agentmem_client" / "_sync"
REPLACEMENTS = {
    "AsyncAgentMem": "AgentMem",
    "AsyncMemory": "Memory",
    "AsyncClient": "Client",
    "asyncio": "time",
    "aclose": "close",
    "aiter_lines": "iter_lines",
    "aread": "read",
    "_async": "_sync",
}
HEADER = "# Generated from agentmem_client/_async by generate_sync.py: edit the async source, then regenerate.\n"


def generate(into: Path) -> None:
    work = Path(tempfile.mkdtemp(dir=HERE, prefix=".generate-"))  # under our ruff config
    try:
        shutil.copytree(SOURCE, work / "_async")
        sources = sorted(str(p) for p in (work / "_async").glob("*.py"))
        unasync.unasync_files(sources, [unasync.Rule(str(work / "_async"), str(work / "_sync"), REPLACEMENTS)])
        for path in (work / "_sync").glob("*.py"):
            path.write_text(HEADER + path.read_text())
        ruff = [sys.executable, "-m", "ruff"]
        subprocess.run([*ruff, "check", "--fix", "--quiet", "--select", "I,F401", str(work / "_sync")], check=True)
        subprocess.run([*ruff, "format", "--quiet", str(work / "_sync")], check=True)
        if into.exists():
            shutil.rmtree(into)
        shutil.copytree(work / "_sync", into)
    finally:
        shutil.rmtree(work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if _sync differs from what would be generated")
    if not parser.parse_args().check:
        generate(TARGET)
        return 0
    fresh = Path(tempfile.mkdtemp(dir=HERE, prefix=".check-")) / "_sync"
    generate(fresh)
    names = sorted(p.name for p in fresh.glob("*.py"))
    stale = [n for n in names if not (TARGET / n).exists() or not filecmp.cmp(fresh / n, TARGET / n, shallow=False)]
    shutil.rmtree(fresh.parent)
    if stale:
        print(f"stale generated files in {TARGET}: {', '.join(stale)}; run python generate_sync.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
