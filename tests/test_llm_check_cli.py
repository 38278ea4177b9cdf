"""`agentmem llm check` against an OpenAI-compatible server, as a user wiring up a provider runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.stubs.openai_chat import OpenAIChatStub
from tests.stubs.scripted import Reply


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTMEM_LLM", "OPENAI_", "ANTHROPIC_"))}
    return subprocess.run(
        [sys.executable, "-m", "agentmem.cli", "llm", "check"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_check_passes_against_an_openai_compatible_server() -> None:
    with OpenAIChatStub() as stub:
        stub.add(
            Reply(text="ready", input_tokens=12, output_tokens=2),
            Reply(text="ready"),
            Reply.calls(("get_time", {"timezone": "Europe/Lisbon"})),
        )
        done = run_check(AGENTMEM_LLM="openai_compatible:llama-stub", AGENTMEM_LLM_BASE_URL=stub.base_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"openai_compatible:llama-stub at {stub.base_url}"
    assert [line.split()[:2] for line in lines[1:]] == [["complete", "ok"], ["stream", "ok"], ["tool_call", "ok"]]
    assert "in    12  out     2" in lines[1]
    assert "get_time({'timezone': 'Europe/Lisbon'})" in lines[3]


def test_the_check_fails_clearly_when_the_server_refuses() -> None:
    with OpenAIChatStub() as stub:
        stub.default = Reply.error(401)
        done = run_check(AGENTMEM_LLM="openai_compatible:llama-stub", AGENTMEM_LLM_BASE_URL=stub.base_url)
    assert done.returncode == 1
    assert done.stdout.count("FAIL") == 3
    assert "HTTP 401" in done.stdout


def test_without_a_model_the_check_names_the_setting() -> None:
    done = run_check()
    assert done.returncode == 2
    assert "AGENTMEM_LLM=<provider>:<model>" in done.stderr
