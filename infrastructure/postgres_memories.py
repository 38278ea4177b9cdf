"""The memories read model in PostgreSQL, one set of tables per generation (per embedder):

- `<g>`          every field of every memory (deleted ones too), its version and its contextual vector (HNSW);
- `<g>_lex`      a narrow row per live memory with its tsvector and the columns filters need, so
                 lexical scoring never reads the wide rows (measured: 70 ms+ p50 when it did);
- `<g>_postings` (tenant, scope, lexeme) -> memory, a btree inverted index for lexical candidates;
- `<g>_lexemes`  document frequency of every lexeme per tenant and per user (BM25 idf);
- `<g>_scopes`   live memories per tenant and per user (BM25 N, and exact-versus-HNSW choice).

Why postings and not a GIN index on the tsvector: API reads run under row-level security, and PostgreSQL
only uses an index for a condition whose operator is LEAKPROOF when RLS applies. Text search `@@` and jsonb
`@>` are not, so a GIN index is never used by a tenant's query (measured: the whole tenant is scanned and
filtered, 7.7 ms at 3,000 rows and growing linearly), while btree equality on text is leakproof. The same
holds for metadata filters, which therefore filter the rows an index found by tenant, user or vector.
A scope is 'u:<user_id>' (or 'u:' for memories without a user) or 't' for the whole tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Composable, Composed, Identifier, Literal, Placeholder
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from agentmem.infrastructure.postgres_tracking import move_tracking
from agentmem.infrastructure.rls import rls_ddl
from agentmem.projections.base import Tracking
from agentmem.projections.embedding import Vectors
from agentmem.projections.memories import CONTEXT_TURNS, NewRow, RowChange

CHANGEABLE = ("text", "memory_type", "metadata", "valid_from", "valid_to", "deleted")
LEXICAL_COLUMNS = {"text", "memory_type", "valid_from", "valid_to", "deleted"}


def names(table: str) -> dict[str, Identifier]:
    return {
        "t": Identifier(table),
        "lex": Identifier(f"{table}_lex"),
        "lexemes": Identifier(f"{table}_lexemes"),
        "scopes": Identifier(f"{table}_scopes"),
        "postings": Identifier(f"{table}_postings"),
    }


def _index(table: str, suffix: str) -> Identifier:
    return Identifier(f"{table}_{suffix}")


def table_ddl(table: str, dimension: int) -> list[Composed]:
    """Every table and index of one generation, except the HNSW index (see hnsw_ddl)."""
    n = names(table)
    ddl = [
        SQL(
            "CREATE TABLE IF NOT EXISTS {t} ("
            " id uuid PRIMARY KEY, tenant_id text NOT NULL, user_id text, agent_id text, run_id text,"
            " memory_type text NOT NULL, text text NOT NULL, metadata jsonb NOT NULL DEFAULT '{{}}',"
            " valid_from timestamptz, valid_to timestamptz, version integer NOT NULL,"
            " deleted boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL, created_by text NOT NULL, updated_by text NOT NULL,"
            " seq bigint NOT NULL, position bigint NOT NULL, embedding vector({dim}))"
            # index-only scans need the visibility map: vacuum after 1% new rows, not the default 20%
            " WITH (autovacuum_vacuum_insert_scale_factor = 0.01)"
        ).format(t=n["t"], dim=Literal(dimension)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {lex} ("
            " id uuid PRIMARY KEY, tenant_id text NOT NULL, user_id text, agent_id text, run_id text,"
            " memory_type text NOT NULL, created_at timestamptz NOT NULL, valid_from timestamptz,"
            " valid_to timestamptz, seq bigint NOT NULL, tsv tsvector NOT NULL)"
        ).format(lex=n["lex"]),
        SQL(
            "CREATE TABLE IF NOT EXISTS {lexemes} (tenant_id text NOT NULL, scope text NOT NULL,"
            " lexeme text NOT NULL, df integer NOT NULL, PRIMARY KEY (tenant_id, scope, lexeme))"
        ).format(lexemes=n["lexemes"]),
        SQL(
            "CREATE TABLE IF NOT EXISTS {scopes} (tenant_id text NOT NULL, scope text NOT NULL,"
            " n_docs integer NOT NULL, PRIMARY KEY (tenant_id, scope))"
        ).format(scopes=n["scopes"]),
        SQL(
            "CREATE TABLE IF NOT EXISTS {postings} (tenant_id text NOT NULL, scope text NOT NULL,"
            " lexeme text NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, scope, lexeme, id))"
        ).format(postings=n["postings"]),
    ]
    indexes = [
        ("t", "created", "(tenant_id, created_at DESC, id DESC)"),
        ("t", "updated", "(tenant_id, updated_at DESC, id DESC)"),
        ("t", "user", "(tenant_id, user_id, created_at DESC)"),
        ("t", "agent", "(tenant_id, agent_id, created_at DESC)"),
        ("t", "run", "(tenant_id, run_id, seq)"),
        ("lex", "lex_run", "(tenant_id, run_id, seq)"),
        # exact vector search of a tenant or a user reads the vectors from this index alone (index-only scan):
        # measured at 100k memories, 5,000 per user: 4 ms instead of 10 for 5,000 heap pages
        ("t", "vectors", "(tenant_id, user_id) INCLUDE (id, embedding) WHERE NOT deleted AND embedding IS NOT NULL"),
    ]
    for target, suffix, columns in indexes:
        ddl.append(SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} " + columns).format(i=_index(table, suffix), t=n[target]))
    for name in (table, f"{table}_lex", f"{table}_lexemes", f"{table}_scopes", f"{table}_postings"):
        ddl.extend(rls_ddl(name))  # API reads see one tenant's rows only (see rls.py)
    return ddl


def hnsw_ddl(table: str) -> Composed:
    """The approximate nearest-neighbour index (cosine) over live memories."""
    return SQL(
        "CREATE INDEX IF NOT EXISTS {i} ON {t} USING hnsw (embedding vector_cosine_ops) "
        "WITH (m = 16, ef_construction = 64) WHERE NOT deleted"
    ).format(i=_index(table, "hnsw"), t=Identifier(table))


def drop_ddl(table: str) -> list[Composed]:
    n = names(table)
    return [SQL("DROP TABLE IF EXISTS {}").format(n[k]) for k in ("lex", "lexemes", "scopes", "postings", "t")]


def create_table(conn: psycopg.Connection, table: str, dimension: int, *, with_hnsw: bool = True) -> None:
    for statement in table_ddl(table, dimension):
        conn.execute(statement)
    if with_hnsw:
        conn.execute(hnsw_ddl(table))


def _stats_sql(source: str, sign: str) -> str:
    """Adds (+) or removes (-) the `source` rows' postings, lexeme frequencies and document counts."""
    postings = (
        " postings AS (INSERT INTO {postings} (tenant_id, scope, lexeme, id)"
        " SELECT tenant_id, scope, lexeme, id FROM scoped, unnest(tsvector_to_array(tsv)) AS lexeme"
        " ORDER BY 1, 2, 3, 4 ON CONFLICT DO NOTHING),"
        if sign == "+"
        else " postings AS (DELETE FROM {postings} p USING (SELECT tenant_id, scope, lexeme, id FROM scoped,"
        " unnest(tsvector_to_array(tsv)) AS lexeme) x WHERE p.tenant_id = x.tenant_id AND p.scope = x.scope"
        " AND p.lexeme = x.lexeme AND p.id = x.id),"
    )
    return (
        f", scoped AS (SELECT s.id, s.tenant_id, k.scope, s.tsv FROM {source} s"
        "   CROSS JOIN LATERAL (VALUES ('u:' || coalesce(s.user_id, '')), ('t')) AS k(scope)),"
        + postings
        + " docs AS (INSERT INTO {scopes} AS d (tenant_id, scope, n_docs)"
        f"   SELECT tenant_id, scope, {sign}count(*) FROM scoped GROUP BY 1, 2 ORDER BY 1, 2"
        "   ON CONFLICT (tenant_id, scope) DO UPDATE SET n_docs = d.n_docs + EXCLUDED.n_docs)"
        " INSERT INTO {lexemes} AS x (tenant_id, scope, lexeme, df)"
        f" SELECT tenant_id, scope, lexeme, {sign}count(*) FROM scoped, unnest(tsvector_to_array(tsv)) AS lexeme"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        " ON CONFLICT (tenant_id, scope, lexeme) DO UPDATE SET df = x.df + EXCLUDED.df"
    )


class PostgresMemoryView:
    """Applies projection batches to one generation's tables; rows, vectors and tracking in one transaction."""

    def __init__(self, pool: ConnectionPool, table: str, text_search_config: str = "english") -> None:
        self.pool = pool
        self.table = table
        n = names(table)
        cfg = Literal(text_search_config)
        turns = Literal(CONTEXT_TURNS)
        self._insert = SQL(
            "INSERT INTO {t} (id, tenant_id, user_id, agent_id, run_id, memory_type, text, metadata, valid_from,"
            " valid_to, version, deleted, created_at, updated_at, created_by, updated_by, seq, position, embedding)"
            " VALUES (%(id)s, %(tenant_id)s, %(user_id)s, %(agent_id)s, %(run_id)s, %(memory_type)s, %(text)s,"
            " %(metadata)s, %(valid_from)s, %(valid_to)s, 1, false, %(created_at)s, %(created_at)s,"
            " %(created_by)s, %(created_by)s, %(position)s, %(position)s, %(embedding)s) ON CONFLICT (id) DO NOTHING"
        ).format(**n)
        self._run_tails = SQL(
            "SELECT k.tenant_id, k.user_id, k.run_id, p.seq, p.text FROM unnest(%(tenants)s::text[],"
            " %(users)s::text[], %(runs)s::text[]) AS k(tenant_id, user_id, run_id) CROSS JOIN LATERAL ("
            " SELECT text, seq FROM {t} p WHERE p.tenant_id = k.tenant_id AND p.run_id = k.run_id"
            "  AND p.user_id IS NOT DISTINCT FROM k.user_id AND NOT p.deleted ORDER BY p.seq DESC LIMIT {turns}) p"
        ).format(turns=turns, **n)
        self._unindex = SQL(
            "WITH gone AS (DELETE FROM {lex} WHERE id = ANY(%(ids)s) RETURNING id, tenant_id, user_id, tsv)"
            + _stats_sql("gone", "-")
        ).format(**n)
        self._index = SQL(
            "WITH added AS (INSERT INTO {lex} (id, tenant_id, user_id, agent_id, run_id, memory_type, created_at,"
            " valid_from, valid_to, seq, tsv) SELECT id, tenant_id, user_id, agent_id, run_id, memory_type,"
            " created_at, valid_from, valid_to, seq, to_tsvector({cfg}::regconfig, text) FROM {t}"
            " WHERE id = ANY(%(ids)s) AND NOT deleted RETURNING id, tenant_id, user_id, tsv)" + _stats_sql("added", "+")
        ).format(cfg=cfg, **n)
        self._followers = SQL(
            "SELECT DISTINCT f.id FROM {t} x CROSS JOIN LATERAL (SELECT n.id FROM {t} n"
            " WHERE n.tenant_id = x.tenant_id AND n.run_id = x.run_id AND n.user_id IS NOT DISTINCT FROM x.user_id"
            " AND n.seq > x.seq AND NOT n.deleted ORDER BY n.seq LIMIT {turns}) f"
            " WHERE x.id = ANY(%(ids)s) AND x.run_id IS NOT NULL"
        ).format(turns=turns, **n)
        self._documents = SQL(
            "SELECT m.id, m.text, coalesce(c.texts, '{{}}') FROM {t} m LEFT JOIN LATERAL ("
            " SELECT array_agg(p.text ORDER BY p.seq DESC) AS texts FROM (SELECT text, seq FROM {t} p"
            "  WHERE m.run_id IS NOT NULL AND p.tenant_id = m.tenant_id AND p.run_id = m.run_id"
            "  AND p.user_id IS NOT DISTINCT FROM m.user_id AND p.seq < m.seq AND NOT p.deleted"
            "  ORDER BY p.seq DESC LIMIT {turns}) p) c ON true"
            " WHERE m.id = ANY(%(ids)s) AND NOT m.deleted"
        ).format(turns=turns, **n)
        self._set_vector = SQL("UPDATE {t} SET embedding = %s WHERE id = %s").format(**n)
        self._drop_vectors = SQL("UPDATE {t} SET embedding = NULL WHERE id = ANY(%(ids)s) AND deleted").format(**n)
        self._t = n["t"]
        self._updates: dict[tuple[str, ...], Composed] = {}

    def _update_statement(self, columns: tuple[str, ...]) -> Composed:
        statement = self._updates.get(columns)
        if statement is None:
            sets: list[Composable] = [SQL("{c} = {p}").format(c=Identifier(c), p=Placeholder(c)) for c in columns]
            sets += [
                SQL("version = %(version)s"),
                SQL("position = %(position)s"),
                SQL("updated_at = %(updated_at)s"),
                SQL("updated_by = %(updated_by)s"),
            ]
            statement = SQL("UPDATE {t} SET {sets} WHERE id = %(id)s AND version < %(version)s").format(
                t=self._t, sets=SQL(", ").join(sets)
            )
            self._updates[columns] = statement
        return statement

    def apply(
        self,
        rows: Sequence[NewRow],
        changes: Sequence[RowChange],
        tracking: Tracking,
        embed: Callable[[Sequence[tuple[str, Sequence[str]]]], Vectors],
    ) -> None:
        reindex: set[UUID] = {row.id for row in rows}
        context_changed: set[UUID] = set()
        # New rows are embedded before the transaction opens: only this worker (holding the projection's lock)
        # writes these tables, so their run context cannot change in between, and no transaction stays open
        # (holding row locks) while the model runs.
        vectors = embed(self.preview_documents((), rows)) if rows else []
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            move_tracking(cursor, tracking, events=len(rows) + len(changes))
            if rows:
                cursor.executemany(self._insert, [self._row_params(r, v) for r, v in zip(rows, vectors, strict=True)])
            for change in changes:
                columns = tuple(c for c in CHANGEABLE if c in change.columns)
                cursor.execute(self._update_statement(columns), self._change_params(change), prepare=True)
                if LEXICAL_COLUMNS & set(columns):
                    reindex.add(change.id)
                if {"text", "deleted"} & set(columns):
                    context_changed.add(change.id)
            if reindex:
                ids = list(reindex)
                cursor.execute(self._unindex, {"ids": ids}, prepare=True)
                cursor.execute(self._index, {"ids": ids}, prepare=True)
            if context_changed:
                # A deleted memory keeps no vector (it is re-embedded on restore); others get fresh ones.
                cursor.execute(self._drop_vectors, {"ids": list(context_changed)}, prepare=True)
                self._embed(cursor, context_changed, embed)

    def preview_documents(self, earlier: Sequence[NewRow], rows: Sequence[NewRow]) -> list[tuple[str, Sequence[str]]]:
        with self.pool.connection() as conn, conn.cursor() as cursor:
            return self._new_documents(cursor, rows, earlier)

    def _new_documents(
        self, cursor: psycopg.Cursor, rows: Sequence[NewRow], earlier: Sequence[NewRow] = ()
    ) -> list[tuple[str, Sequence[str]]]:
        """Each new memory's text and context: the last live memories of its run before it, from the table,
        the `earlier` rows and the batch itself."""
        keys = {(r.tenant_id, r.user_id, r.run_id) for r in rows if r.run_id is not None}
        runs: dict[tuple[str, str | None, str | None], dict[int, str]] = {key: {} for key in keys}  # seq -> text
        if keys:
            ordered = sorted(keys, key=lambda k: (k[0], k[1] or "", k[2] or ""))
            tenants, users, runs_ids = (list(column) for column in zip(*ordered, strict=True))
            cursor.execute(self._run_tails, {"tenants": tenants, "users": users, "runs": runs_ids}, prepare=True)
            for tenant, user, run, seq, text in cursor.fetchall():
                runs[(tenant, user, run)][seq] = text
        for row in earlier:
            run = runs.get((row.tenant_id, row.user_id, row.run_id))
            if run is not None:
                run[row.position] = row.text
        # what came before the batch, oldest first; the batch's rows (in log order) are appended as they go
        first = min((r.position for r in rows), default=0)
        tails = {key: [run[seq] for seq in sorted(run) if seq < first] for key, run in runs.items()}
        documents: list[tuple[str, Sequence[str]]] = []
        for row in rows:
            if row.run_id is None:
                documents.append((row.text, []))
                continue
            tail = tails[(row.tenant_id, row.user_id, row.run_id)]
            documents.append((row.text, tail[::-1][:CONTEXT_TURNS]))  # the newest, newest first
            tail.append(row.text)
        return documents

    def _embed(
        self,
        cursor: psycopg.Cursor,
        changed: set[UUID],
        embed: Callable[[Sequence[tuple[str, Sequence[str]]]], Vectors],
    ) -> None:
        """Re-embeds the changed memories and the next CONTEXT_TURNS live memories of their runs, whose context they
        are. Inside the transaction: their documents depend on the changes just made in it."""
        cursor.execute(self._followers, {"ids": list(changed)}, prepare=True)
        targets = changed | {row[0] for row in cursor.fetchall()}
        cursor.execute(self._documents, {"ids": list(targets)}, prepare=True)
        documents = cursor.fetchall()
        if not documents:
            return
        vectors = embed([(text, context) for _, text, context in documents])
        cursor.executemany(self._set_vector, [(vectors[i], doc[0]) for i, doc in enumerate(documents)])

    @staticmethod
    def _row_params(row: NewRow, vector: Vectors) -> dict[str, Any]:
        return {
            "embedding": vector,
            "id": row.id,
            "tenant_id": row.tenant_id,
            "user_id": row.user_id,
            "agent_id": row.agent_id,
            "run_id": row.run_id,
            "memory_type": row.memory_type,
            "text": row.text,
            "metadata": Jsonb(row.metadata),
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "created_at": row.created_at,
            "created_by": row.created_by,
            "position": row.position,
        }

    @staticmethod
    def _change_params(change: RowChange) -> dict[str, Any]:
        params: dict[str, Any] = {
            "id": change.id,
            "version": change.version,
            "position": change.position,
            "updated_at": change.updated_at,
            "updated_by": change.updated_by,
        }
        for column, value in change.columns.items():
            params[column] = Jsonb(value) if column == "metadata" else value
        return params
