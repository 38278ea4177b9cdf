"""Compiles memory scopes and metadata filters to SQL: named placeholders only, never values in the text."""

from __future__ import annotations

import json
from typing import Any

from psycopg.sql import SQL, Composable, Placeholder

from agentmem.projections.filters import AnyOf, Compare, Filter, Negation
from agentmem.projections.queries import Scope

_COMPARISON = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class Params(dict[str, Any]):
    """Query parameters; `add` stores a value and returns its placeholder."""

    def add(self, value: Any, cast: str = "") -> Composable:
        name = f"p{len(self)}"
        self[name] = value
        return SQL("{}{}").format(Placeholder(name), SQL(cast))


def _nested(path: tuple[str, ...], value: Any) -> str:
    for key in reversed(path):
        value = {key: value}
    return json.dumps(value)


def _jsonpath(path: tuple[str, ...]) -> str:
    return "$" + "".join('."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in path)


def compile_filter(node: Filter, params: Params) -> Composable:
    """SQL for a metadata filter over a `metadata` jsonb column."""
    if isinstance(node, Negation):
        return SQL("NOT ({})").format(compile_filter(node.item, params))
    if isinstance(node, AnyOf):
        return SQL("({})").format(SQL(" OR ").join(compile_filter(i, params) for i in node.items))
    if not isinstance(node, Compare):
        return SQL("({})").format(SQL(" AND ").join(compile_filter(i, params) for i in node.items))
    return _compare(node, params)


def _compare(node: Compare, params: Params) -> Composable:
    op, value, path = node.op, node.value, node.path
    if op in ("eq", "ne"):
        clause = SQL("metadata @> {}").format(params.add(_nested(path, value), "::jsonb"))
        return SQL("NOT ({})").format(clause) if op == "ne" else clause
    if op in ("in", "nin"):
        clause = SQL("metadata @> ANY({})").format(params.add([_nested(path, v) for v in value], "::jsonb[]"))
        return SQL("NOT ({})").format(clause) if op == "nin" else clause
    if op in _COMPARISON:
        return SQL("jsonb_path_exists(metadata, {}, {})").format(
            params.add(f"{_jsonpath(path)} ? (@ {_COMPARISON[op]} $v)", "::jsonpath"),
            params.add(json.dumps({"v": value}), "::jsonb"),
        )
    if op == "contains":
        return SQL("(metadata @> {} OR strpos(metadata #>> {}, {}) > 0)").format(
            params.add(_nested(path, [value]), "::jsonb"), params.add(list(path), "::text[]"), params.add(str(value))
        )
    test = "IS NOT NULL" if value else "IS NULL"
    return SQL("metadata #> {} " + test).format(params.add(list(path), "::text[]"))


def compile_scope(
    scope: Scope,
    params: Params,
    *,
    deleted_column: bool = True,
    metadata: Composable | None = None,
    include_deleted: bool = False,
) -> Composable:
    """The WHERE clause of a scope over a table with the memory columns.

    `deleted_column=False` for tables that hold only live memories; `metadata` replaces the metadata filter
    (e.g. an EXISTS against the wide table) for tables without that column.
    """
    clauses: list[Composable] = [SQL("tenant_id = {}").format(params.add(scope.tenant_id))]
    if deleted_column and not include_deleted:
        clauses.append(SQL("NOT deleted"))
    for column in ("user_id", "agent_id", "run_id"):
        value = getattr(scope, column)
        if value is not None:
            clauses.append(SQL(column + " = {}").format(params.add(value)))
    if scope.memory_types:
        clauses.append(SQL("memory_type = ANY({})").format(params.add(list(scope.memory_types))))
    if scope.created_after is not None:
        clauses.append(SQL("created_at >= {}").format(params.add(scope.created_after)))
    if scope.created_before is not None:
        clauses.append(SQL("created_at < {}").format(params.add(scope.created_before)))
    if scope.valid_at is not None:
        at = params.add(scope.valid_at)
        clauses.append(
            SQL("(valid_from IS NULL OR valid_from <= {at}) AND (valid_to IS NULL OR valid_to > {at})").format(at=at)
        )
    if scope.metadata is not None:
        clauses.append(metadata if metadata is not None else compile_filter(scope.metadata, params))
    return SQL(" AND ").join(clauses)
