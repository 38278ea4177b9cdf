"""A context template cannot take the API's memory: the attacks are 422 at save and at render time, RSS stays flat."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.clients import ApiClient

MIB = 2**20
ALLOWED_GROWTH = 50 * MIB
DOUBLINGS = '{% set a0 = "x" * 200000 %}' + "".join(f"{{% set a{i + 1} = a{i} ~ a{i} %}}" for i in range(10))
HUNDRED_MILLION = '{{ (range(1000)|join("y" * 100000))|length }}'
ON_REAL_BLOCKS = "{% for b in blocks %}{% set a = b.value * 40 %}{% set c = a ~ a ~ a %}{{ c|length }}{% endfor %}"
"""Builds 120 characters per character of a block: fine for the check's sample blocks, not for 100,000."""


def status_kib(field: str) -> int:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def reset_peak_rss() -> int:
    """Resets this process's peak resident set (VmHWM) to its current size and returns that size in bytes."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    return status_kib("VmHWM:") * 1024


def test_template_attacks_answer_422_and_the_api_memory_stays_flat(client: ApiClient) -> None:
    block = client.post("/v1/blocks", json={"label": "human", "value": "Sam", "limit": 100_000}).json()
    created = client.post(
        "/v1/agents", json={"name": "big", "block_ids": [block["id"]], "context_template": ON_REAL_BLOCKS}
    )
    assert created.status_code == 201, created.text
    context_url = f"/v1/agents/{created.json()['id']}/context"
    assert client.get(context_url).json()["context"] == "360"
    assert client.patch(f"/v1/blocks/{block['id']}", json={"value": "x" * 100_000}).status_code == 200

    baseline = reset_peak_rss()
    for attack in (DOUBLINGS, HUNDRED_MILLION, DOUBLINGS + HUNDRED_MILLION):
        refused = client.post("/v1/agents", json={"name": "attack", "context_template": attack})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "context_template"
        assert "characters built" in refused.json()["detail"]
        patched = client.patch(f"/v1/agents/{created.json()['id']}", json={"context_template": attack})
        assert patched.status_code == 422
    for _ in range(3):
        rendered = client.get(context_url)
        assert rendered.status_code == 422 and rendered.json()["errors"][0]["field"] == "context_template"
        assert "characters built" in rendered.json()["detail"]
    growth = status_kib("VmHWM:") * 1024 - baseline
    assert growth < ALLOWED_GROWTH, f"peak RSS grew {growth / MIB:.1f} MiB during the attacks"
