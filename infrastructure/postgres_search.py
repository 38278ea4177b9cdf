"""Hybrid search and lists over the memories read model, in SQL.

Hybrid scoring (chosen by measurement on LoCoMo, see README "Search quality"):
  idf(t)   = ln(1 + (N - df_t + 0.5) / (df_t + 0.5))   N, df over live memories of the user (or the tenant)
  bm25(d)  = sum of idf(t) over the distinct query lexemes in d         (BM25 with b = 0 and binary tf)
  lexical candidates: memories holding one of the rarest query lexemes, taken in increasing df order while
             the summed df stays <= BUDGET (bounded work at any scale), plus the dense candidates; text mode
             always takes the rarest lexeme, and when even that one is in more than BUDGET memories (a word
             that barely discriminates), BUDGET of them in index order
  bm_n     = bm25 / max bm25 over the lexical top DEPTH;  dn_n = min-max of cosine over the dense top DEPTH
  F(d)     = ALPHA * bm_n + (1 - ALPHA) * dn_n
  score(d) = F(d) + SMOOTH * (F(prev(d)) + F(next(d)))    prev/next: adjacent live memories of the same run
Dense candidates come from HNSW with iterative scans for large scopes and from an exact scan for small
ones (HNSW filters after the index scan, so a small tenant among large ones would otherwise get too few).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composable, Composed, Identifier, Literal
from psycopg_pool import AsyncConnectionPool

from agentmem.application.reads import Found
from agentmem.infrastructure.postgres_filters import Params, compile_filter, compile_scope
from agentmem.infrastructure.postgres_memories import names
from agentmem.infrastructure.postgres_paging import Keyset
from agentmem.infrastructure.rls import enter_tenant, tenant_transaction
from agentmem.projections.queries import Hit, ListOrder, MemoryRow, Page, Scope, SearchMode

ALPHA = 0.6
SMOOTH = 0.15
DEPTH = 100
BUDGET = 2000
EXACT_LIMIT = 10_000
MAX_SCAN_TUPLES = 50_000
COLUMNS = (
    "id",
    "tenant_id",
    "user_id",
    "agent_id",
    "run_id",
    "memory_type",
    "text",
    "metadata",
    "valid_from",
    "valid_to",
    "version",
    "deleted",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)
_SYNTAX = re.compile(r'"|(^|\s)-\w|\sOR\s')


def uses_search_syntax(query: str) -> bool:
    """True for websearch syntax: "quoted phrases", -exclusions or an upper-case OR."""
    return bool(_SYNTAX.search(query))


def _row(record: dict[str, Any]) -> MemoryRow:
    return MemoryRow(**{c: record[c] for c in COLUMNS})


class PostgresMemorySearch:
    """Search and list over one generation of the memories read model."""

    def __init__(
        self, pool: AsyncConnectionPool, table: str, text_search_config: str = "english", exact_limit: int = EXACT_LIMIT
    ) -> None:
        self.pool = pool
        self.exact_limit = exact_limit
        self.table = table
        self.n = names(table)
        self.cfg = Literal(text_search_config)
        self.columns = SQL(", ").join(SQL("m.") + Identifier(c) for c in COLUMNS)

    async def search(
        self, scope: Scope, query: str, vector: np.ndarray | None, mode: SearchMode, limit: int, min_score: float | None
    ) -> Found:
        stat_scope = f"u:{scope.user_id}" if scope.user_id is not None else "t"
        async with self.pool.connection() as conn, conn.transaction():
            await enter_tenant(conn, scope.tenant_id)  # row-level security: this tenant's rows only
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(
                SQL(
                    "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan',"
                    " 'relaxed_order', true), set_config('hnsw.max_scan_tuples', %s, true),"
                    " (SELECT n_docs FROM {scopes} WHERE tenant_id = %s AND scope = %s) AS n"
                ).format(**self.n),
                (str(max(DEPTH, limit) * 2), str(MAX_SCAN_TUPLES), scope.tenant_id, stat_scope),
                prepare=True,
            )
            record = await cursor.fetchone()
            scope_size = int(record["n"] or 0) if record else 0
            exact = scope_size <= self.exact_limit
            statement, params = self._search_sql(scope, query, vector, mode, limit, min_score, stat_scope, exact)
            await cursor.execute(statement, params)
            records = await cursor.fetchall()
            wanted = min(max(DEPTH, limit) if mode == "hybrid" else limit, scope_size)
            if mode != "text" and not exact and records and records[0]["dense_count"] < wanted:
                exact = True  # HNSW found too few in this scope (filters apply after the index scan)
                statement, params = self._search_sql(scope, query, vector, mode, limit, min_score, stat_scope, True)
                await cursor.execute(statement, params)
                records = await cursor.fetchall()
        hits = [Hit(_row(r), float(r["score"]), r["vector_rank"], r["text_rank"]) for r in records]
        return Found(hits, None if mode == "text" else "exact" if exact else "hnsw")

    def _search_sql(
        self,
        scope: Scope,
        query: str,
        vector: np.ndarray | None,
        mode: SearchMode,
        limit: int,
        min_score: float | None,
        stat_scope: str,
        exact: bool,
    ) -> tuple[Composed, Params]:
        p = Params()
        main_scope = compile_scope(scope, p)
        syntax = mode != "vector" and uses_search_syntax(query)
        q = p.add(query)
        strict = SQL("websearch_to_tsquery({cfg}::regconfig, {q})").format(cfg=self.cfg, q=q)
        depth = p.add(max(DEPTH, limit) if mode == "hybrid" else limit)
        ctes: list[Composable] = []
        if mode != "text":
            ctes.append(self._dense(p, main_scope, vector, exact, depth))
        if mode != "vector":
            ctes.append(self._terms(p, scope, stat_scope, q, every=syntax, rarest=mode == "text"))
            ctes.append(
                self._lexical(p, scope, stat_scope, strict if syntax else None, depth, with_dense=mode == "hybrid")
            )
        if mode == "hybrid":
            ctes.append(self._fusion(p))
            source = SQL("ranked r LEFT JOIN fused USING (id)")
            ranks = SQL("fused.vector_rank, fused.text_rank")
        else:
            ctes.append(
                SQL(
                    "ranked AS (SELECT id, s AS score, row_number() OVER (ORDER BY s DESC, id) AS rank FROM {}) "
                ).format(SQL("dn" if mode == "vector" else "bm"))
            )
            source = SQL("ranked r")
            ranks = (
                SQL("r.rank AS vector_rank, NULL::bigint AS text_rank")
                if mode == "vector"
                else SQL("NULL::bigint AS vector_rank, r.rank AS text_rank")
            )
        conditions: list[Composable] = [main_scope]
        if syntax:
            conditions.append(
                SQL("EXISTS (SELECT 1 FROM {lex} x WHERE x.id = m.id AND x.tsv @@ {strict})").format(
                    lex=self.n["lex"], strict=strict
                )
            )
        if min_score is not None:
            conditions.append(SQL("r.score >= {}").format(p.add(min_score)))
        dense_count = SQL("(SELECT count(*) FROM dn)") if mode != "text" else SQL("0")
        statement = SQL(
            "WITH {ctes} SELECT {columns}, r.score, {ranks}, {dense_count} AS dense_count"
            # a primary-key lookup per ranked candidate, whatever the table statistics say
            " FROM {source} CROSS JOIN LATERAL (SELECT m.* FROM {t} m WHERE m.id = r.id AND {conditions}) m"
            " ORDER BY r.score DESC, m.id LIMIT {limit}"
        ).format(
            ctes=SQL(", ").join(ctes),
            columns=self.columns,
            ranks=ranks,
            dense_count=dense_count,
            source=source,
            t=self.n["t"],
            conditions=SQL(" AND ").join(conditions),
            limit=p.add(limit),
        )
        return statement, p

    def _dense(
        self, p: Params, main_scope: Composable, vector: np.ndarray | None, exact: bool, depth: Composable
    ) -> Composable:
        """`dn`: the nearest live memories by cosine, from HNSW or by an exact scan."""
        vec = p.add(vector, "::vector")
        # exact: sort by the computed similarity (one distance per row; the HNSW index cannot serve `s DESC`)
        order = SQL("s DESC" if exact else "embedding <=> {v}").format(v=vec)
        return SQL(
            "dn AS MATERIALIZED (SELECT id, 1 - (embedding <=> {v}) AS s FROM {t} WHERE {scope}"
            " AND embedding IS NOT NULL ORDER BY {order} LIMIT {depth})"
        ).format(v=vec, t=self.n["t"], scope=main_scope, order=order, depth=depth)

    def _terms(self, p: Params, scope: Scope, stat_scope: str, q: Composable, every: bool, rarest: bool) -> Composable:
        """`qterms`: the query's lexemes with their idf; `generates` marks those whose postings are read:
        all of them (`every`), else the rarest ones within BUDGET (and at least the rarest, if `rarest`)."""
        generates = (
            SQL("true")
            if every
            else SQL("(sum(x.df) OVER (ORDER BY x.df, x.lexeme) <= {budget}{rarest})").format(
                budget=p.add(BUDGET), rarest=SQL(" OR x.rn = 1" if rarest else "")
            )
        )
        return SQL(
            "n AS (SELECT coalesce((SELECT n_docs FROM {scopes} WHERE tenant_id = {tenant} AND scope = {stat}), 0)"
            "::float8 AS n),"
            " qterms AS MATERIALIZED (SELECT x.lexeme, x.tq, x.idf, {generates} AS generates"
            " FROM (SELECT s.lexeme, quote_literal(s.lexeme)::tsquery AS tq, s.df,"
            " ln(1 + (n.n - s.df + 0.5) / (s.df + 0.5)) AS idf,"
            " row_number() OVER (ORDER BY s.df, s.lexeme) AS rn"
            " FROM {lexemes} s CROSS JOIN n WHERE s.tenant_id = {tenant} AND s.scope = {stat}"
            " AND s.lexeme = ANY(tsvector_to_array(to_tsvector({cfg}::regconfig, {q}))) AND s.df > 0) x)"
        ).format(
            scopes=self.n["scopes"],
            lexemes=self.n["lexemes"],
            tenant=p.add(scope.tenant_id),
            stat=p.add(stat_scope),
            generates=generates,
            cfg=self.cfg,
            q=q,
        )

    def _lexical(
        self, p: Params, scope: Scope, stat_scope: str, strict: Composable | None, depth: Composable, with_dense: bool
    ) -> Composable:
        """`bm`: BM25 (b = 0, binary tf) over the postings' candidates and, in hybrid mode, the dense ones."""
        metadata: Composable | None = None
        if scope.metadata is not None:
            metadata = SQL("EXISTS (SELECT 1 FROM {t} mm WHERE mm.id = l.id AND {f})").format(
                t=self.n["t"], f=compile_filter(scope.metadata, p)
            )
        lex_scope = compile_scope(scope, p, deleted_column=False, metadata=metadata)
        score = SQL("(SELECT sum(qt.idf) FROM qterms qt WHERE l.tsv @@ qt.tq)")
        only = SQL(" AND l.tsv @@ {}").format(strict) if strict is not None else SQL("")
        dense: Composable = SQL("")
        if with_dense:
            # one primary-key lookup per dense candidate, whatever the table statistics say
            dense = SQL(
                " UNION ALL SELECT dn.id, (SELECT sum(qt.idf) FROM {lex} l, qterms qt WHERE l.id = dn.id"
                " AND l.tsv @@ qt.tq{only}) FROM dn"
            ).format(lex=self.n["lex"], only=only)
        return SQL(
            "bm AS MATERIALIZED (SELECT c.id, max(c.s) AS s FROM (SELECT l.id, {score} AS s"
            " FROM (SELECT DISTINCT x.id FROM (SELECT po.id FROM {postings} po WHERE po.tenant_id = {tenant}"
            " AND po.scope = {stat} AND po.lexeme = ANY(ARRAY(SELECT lexeme FROM qterms WHERE generates))"
            "{cap}) x) found"
            " JOIN {lex} l ON l.id = found.id"
            " WHERE {lex_scope}{only}{dense}) c WHERE c.s > 0 GROUP BY c.id ORDER BY s DESC, c.id LIMIT {depth})"
        ).format(
            score=score,
            postings=self.n["postings"],
            tenant=p.add(scope.tenant_id),
            stat=p.add(stat_scope),
            lex=self.n["lex"],
            lex_scope=lex_scope,
            only=only,
            dense=dense,
            depth=depth,
            # search syntax reads every query lexeme's postings: the strict match must see all its candidates
            cap=SQL("") if strict is not None else SQL(" LIMIT {}").format(p.add(BUDGET)),
        )

    def _fusion(self, p: Params) -> Composable:
        """`fused`: the convex mix of normalised scores; `ranked`: plus SMOOTH times each run neighbour's."""
        neighbour = (
            "(SELECT {a}.id FROM {lex} {a} WHERE {a}.tenant_id = l.tenant_id AND {a}.run_id = l.run_id"
            " AND {a}.user_id IS NOT DISTINCT FROM l.user_id AND {a}.seq {cmp} l.seq ORDER BY {a}.seq {dir} LIMIT 1)"
        )
        before = SQL(neighbour.format(a="a", lex="{lex}", cmp="<", dir="DESC"))
        after = SQL(neighbour.format(a="b", lex="{lex}", cmp=">", dir="ASC"))
        return SQL(
            "bmn AS (SELECT id, s / nullif(max(s) OVER (), 0) AS s,"
            " row_number() OVER (ORDER BY s DESC, id) AS r FROM bm),"
            " dnn AS (SELECT id, coalesce((s - min(s) OVER ()) / nullif(max(s) OVER () - min(s) OVER (), 0), 1)"
            " AS s, row_number() OVER (ORDER BY s DESC, id) AS r FROM dn),"
            " fused AS MATERIALIZED (SELECT id, {alpha} * coalesce(b.s, 0) + (1 - {alpha}) * coalesce(d.s, 0) AS f,"
            " d.r AS vector_rank, b.r AS text_rank FROM bmn b FULL JOIN dnn d USING (id)),"
            " spread AS (SELECT id, f FROM fused UNION ALL SELECT nb.id, {smooth} * fu.f FROM fused fu"
            " JOIN {lex} l ON l.id = fu.id CROSS JOIN LATERAL ({before} UNION ALL {after}) AS nb(id)"
            " WHERE l.run_id IS NOT NULL),"
            " ranked AS (SELECT id, sum(f) AS score FROM spread GROUP BY id)"
        ).format(
            alpha=p.add(ALPHA),
            smooth=p.add(SMOOTH),
            lex=self.n["lex"],
            before=before.format(lex=self.n["lex"]),
            after=after.format(lex=self.n["lex"]),
        )

    async def list(self, scope: Scope, order: ListOrder, limit: int, cursor: str | None, include_deleted: bool) -> Page:
        keyset = Keyset(order, prefix="m.")
        p = Params()
        conditions: list[Composable] = [compile_scope(scope, p, include_deleted=include_deleted)]
        after = keyset.after(cursor, p)
        if after is not None:
            conditions.append(after)
        statement = SQL("SELECT {columns} FROM {t} m WHERE {conditions} ORDER BY {order} LIMIT {limit}").format(
            columns=self.columns,
            t=self.n["t"],
            conditions=SQL(" AND ").join(conditions),
            order=keyset.order_by,
            limit=p.add(limit + 1),
        )
        async with self.pool.connection() as conn, tenant_transaction(conn, scope.tenant_id):
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(statement, p)
            records = await cur.fetchall()
        return Page([_row(r) for r in records[:limit]], keyset.next_cursor(records, limit))

    async def live_count(self, tenant_id: str) -> int:
        """Live memories of a tenant (row-level security applies)."""
        statement = SQL("SELECT coalesce(sum(n_docs), 0) FROM {} WHERE tenant_id = %s AND scope = 't'").format(
            self.n["scopes"]
        )
        async with self.pool.connection() as conn, tenant_transaction(conn, tenant_id):
            cursor = await conn.execute(statement, (tenant_id,))
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
