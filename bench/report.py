"""The benchmark result as Markdown tables, with the targets we hold ourselves to."""

from __future__ import annotations

from typing import Any


def _latency(stats: dict[str, Any]) -> str:
    if not stats or not stats.get("n"):
        return "-"
    return f"{stats['p50']} / {stats['p95']} / {stats['p99']}"


def _write(result: dict[str, Any]) -> list[str]:
    lines = [
        "### Write throughput (HTTP)",
        "",
        "| kind | clients | events/s | latency p50 / p95 / p99 ms |",
        "| --- | --- | --- | --- |",
    ]
    for kind in ("single", "batch"):
        for clients, row in result[kind].items():
            label = kind if kind == "single" else f"batch of {result['batch_size']}"
            lines.append(f"| {label} | {clients} | {row['events_per_s']} | {_latency(row['latency_ms'])} |")
    return lines


def _projection(result: dict[str, Any]) -> list[str]:
    lines = [
        "### Projection",
        "",
        f"- throughput with the default local embedder: **{result['throughput_events_per_s']} events/s** "
        f"({result['events']} memories)",
    ]
    for key, lag in result.items():
        if key.startswith("lag_at_"):
            lines.append(
                f"- write-to-searchable lag at {lag['steady_write_rate']} writes/s: p50 / p95 / p99 = "
                f"**{_latency(lag['lag_ms'])} ms**"
            )
    return lines


def _search(result: dict[str, Any]) -> list[str]:
    lines = [
        "### Search latency",
        "",
        f"One tenant at each size; {result['other_tenants']} other tenants hold "
        f"{result['other_tenant_rows']} memories each. Total = client-observed (HTTP + embedding + SQL).",
        "",
        "| memories | mode | total p50 / p95 / p99 ms | embedding p50 ms | SQL p50 / p95 ms | short results |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size, modes in result.items():
        if not size.isdigit():
            continue
        for mode, row in modes.items():
            if not isinstance(row, dict):
                continue
            sql = f"{row['search_ms']['p50']} / {row['search_ms']['p95']}"
            lines.append(
                f"| {int(size):,} | {mode} | {_latency(row['total_ms'])} | {row['embedding_ms']['p50']} "
                f"| {sql} | {row['short_results']} |"
            )
    return lines


def _reads(result: dict[str, Any]) -> list[str]:
    lines = [
        f"### Reads (memory with {result['versions']} versions)",
        "",
        "| read | p50 / p95 / p99 ms |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {_latency(result[name])} |" for name in ("get", "version", "as_of", "history")]
    return lines


def _locomo(result: dict[str, Any]) -> list[str]:
    lines = [
        f"### LoCoMo retrieval ({result['conversations']} conversations, {result['questions']} questions)",
        "",
        "| mode | R@1 | R@5 | R@10 | R@25 | R@50 | hit@10 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode in ("hybrid", "vector", "text"):
        if mode in result:
            r = result[mode]["recall"]
            lines.append(
                f"| {mode} | {r['1']} | {r['5']} | {r['10']} | {r['25']} | {r['50']} | {result[mode]['hit']['10']} |"
            )
    if "hybrid" in result:
        lines += ["", "| hybrid, per category | questions | R@10 |", "| --- | --- | --- |"]
        for category, row in result["hybrid"]["per_category"].items():
            lines.append(f"| {category} | {row['questions']} | {row['recall']['10']} |")
    return lines


def _tools(result: dict[str, Any]) -> list[str]:
    lines = [
        "### Tools (a trivial tool run through HTTP, in the sandbox)",
        "",
        "| language | HTTP run p50 / p95 / p99 ms | in the sandbox p50 / p95 / p99 ms |",
        "| --- | --- | --- |",
    ]
    for language in ("python", "bash", "javascript"):
        row = result[language]
        lines.append(f"| {language} | {_latency(row['latency_ms'])} | {_latency(row['sandbox_ms'])} |")
    concurrent = result["concurrent"]
    lines += [
        "",
        f"{concurrent['runs']} Python runs at once: all done in {concurrent['wall_ms']} ms, each "
        f"{_latency(concurrent['latency_ms'])} ms (p50 / p95 / p99).",
    ]
    return lines


def _extraction(result: dict[str, Any]) -> list[str]:
    if result.get("available") is False:
        return ["### Extraction", "", f"- {result.get('reason')}"]
    return [
        f"### Extraction (stub model answering after {result['model_delay_ms']} ms; "
        f"{result['messages_per_conversation']} messages per conversation)",
        "",
        "| measure | p50 / p95 / p99 |",
        "| --- | --- |",
        f"| POST /v1/memories with messages → 202, ms (model at {result['slow_model_delay_ms']} ms a call) "
        f"| {_latency(result['accepted_202_ms'])} |",
        f"| plain POST /v1/memories with text → 201, ms, interleaved with the above | "
        f"{_latency(result['plain_add_201_ms'])} |",
        f"| job, queued to succeeded, one at a time, ms | {_latency(result['job_ms'])} |",
        f"| job overhead beyond the model's time, ms ({result['model_calls_per_job']} calls a job) "
        f"| {_latency(result['job_overhead_ms'])} |",
        f"| job with 4 conversations at once, ms | {_latency(result['job_ms_4_concurrent'])} |",
        "",
        f"- jobs/s with 4 concurrent conversations: **{result['jobs_per_s_4_concurrent']}**",
    ]


def _footprint(result: dict[str, Any]) -> list[str]:
    if not result.get("memories"):
        return ["### Footprint", "", f"- {result.get('reason', 'not measured')}"]
    rss = ", ".join(f"{name} {mib} MiB" for name, mib in result["peak_rss_mib"].items())
    per = result["bytes_per_memory"]
    return [
        "### Footprint",
        "",
        f"- peak RSS: {rss}",
        f"- bytes per memory ({result['memories']:,} memories): event store {per['event_store']}, "
        f"read model {per['read_model']}, embedding cache {per['embedding_cache']}, total **{per['total']}**",
    ]


def _peers(result: dict[str, Any]) -> list[str]:
    mem0 = result.get("mem0", {})
    if mem0.get("available") is False:
        return ["### Peers", "", f"- mem0: not run: {mem0.get('reason')}"]
    lines = [
        f"### Peers: mem0 {mem0.get('version', '')} (in-process, no HTTP, same MiniLM on CPU torch)",
        "",
        "| measure | mem0 | ours / mem0 |",
        "| --- | --- | --- |",
    ]
    ratios = result.get("ratios", {})
    if "add" in mem0:
        add = mem0["add"]
        lines.append(
            f"| add p50 / p95 ms | {_latency(add['latency_ms'])} | {ratios.get('add_p50')} / {ratios.get('add_p95')} |"
        )
        lines.append(
            f"| adds/s (mem0 one thread; ours 16 HTTP clients) | {add.get('adds_per_s')} | "
            f"{ratios.get('adds_per_s_16_clients_vs_one_thread')} |"
        )
    search = mem0.get("search", {})
    if "latency_ms" in search:
        short = search["short_results"]
        exact = search["without_index"]
        lines.append(
            f"| user-filtered top-10 search at {search['rows']:,} rows, HNSW as configured | "
            f"{_latency(search['latency_ms'])} ms; short answers {short['count']}/{short['queries']} | "
            f"{ratios.get('search_p50')} / {ratios.get('search_p95')} |"
        )
        lines.append(
            f"| same without the index (exact, full answers) | {_latency(exact['latency_ms'])} ms | "
            f"{ratios.get('search_vs_exact_p50')} / {ratios.get('search_vs_exact_p95')} |"
        )
        lines.append(f"| of which query embedding p50 | {search['embedding_ms'].get('p50')} ms | |")
    if "locomo" in mem0:
        r = mem0["locomo"]["recall"]
        lines.append(
            f"| LoCoMo R@1/5/10/25/50 (dense only) | {r['1']} / {r['5']} / {r['10']} / {r['25']} / {r['50']} | "
            f"hybrid R@10: {ratios.get('locomo_recall_at_10_hybrid')} |"
        )
    if "search_compared_at_rows" in ratios:
        at = ratios["search_compared_at_rows"]
        lines += ["", f"Our search figure: vector mode, user filter, at {at['ours']:,} memories, total HTTP time."]
    return lines


def _chat(result: dict[str, Any]) -> list[str]:
    if result.get("available") is False:
        return ["### Chat", "", f"- {result.get('reason')}"]
    over = result["overhead"]
    together = result["concurrent"]
    return [
        f"### Chat (stub model answering after {result['stub_delay_ms']:g} ms)",
        "",
        "| measure | p50 / p95 / p99 ms |",
        "| --- | --- |",
        f"| step time minus model call (server) | {_latency(over['step_minus_model_ms'])} |",
        f"| model call minus stub delay (SDK, HTTP, metering) | {_latency(over['model_call_minus_stub_delay_ms'])} |",
        f"| run outside its steps (HTTP, start, recall, end) | {_latency(over['run_outside_steps_ms'])} |",
        f"| client latency minus stub delay, per step | {_latency(over['client_latency_minus_stub_delay_per_step_ms'])}"
        " |",
        f"| first SSE byte after the model's first token | {_latency(result['first_sse_byte_after_first_token_ms'])} |",
        f"| {together['chats']} concurrent chats on {together['chats']} agents ({together['errors']} errors, "
        f"{together['wall_s']} s) | {_latency(together['latency_ms'])} |",
    ]


RENDER = {
    "write": _write,
    "projection": _projection,
    "search": _search,
    "reads": _reads,
    "chat": _chat,
    "locomo": _locomo,
    "tools": _tools,
    "extraction": _extraction,
    "footprint": _footprint,
    "peers": _peers,
}


def markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    machine = meta["machine"]
    lines = [
        f"## Benchmark ({meta['mode']}, {meta['date']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM)",
        "",
    ]
    for name, render in RENDER.items():
        if name in result:
            lines += [*render(result[name]), ""]
    return "\n".join(lines)
