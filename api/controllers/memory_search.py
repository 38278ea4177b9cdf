"""/v1/memories/search: hybrid, vector or text search over the read model, with read-your-writes."""

from __future__ import annotations

from litestar import Controller, post

from agentmem.api.dependencies import provide
from agentmem.api.schemas.memories import MemorySearchIn, MemorySearchOut, hit_out
from agentmem.application.reads import Reads
from agentmem.application.scopes import memory_scope
from agentmem.domain.base import Context


class MemorySearchController(Controller):
    """Search over the caller's memories."""

    path = "/v1/memories/search"
    tags = ["memories"]
    dependencies = {"reads": provide("reads")}

    @post("/", status_code=200, opt={"permission": "memories:read"})
    async def search(self, data: MemorySearchIn, context: Context, reads: Reads) -> MemorySearchOut:
        """Hybrid (default), vector or text search, with scope and metadata filters."""
        scope = memory_scope(
            context.tenant_id,
            user_id=data.user_id,
            agent_id=data.agent_id,
            run_id=data.run_id,
            memory_type=data.memory_type,
            filters=data.filters,
            created_after=data.created_after,
            created_before=data.created_before,
            valid_at=data.valid_at,
        )
        result = await reads.search(
            "memories",
            scope,
            data.query,
            mode=data.mode,
            limit=data.limit,
            min_score=data.min_score,
            min_position=data.min_position,
        )
        return MemorySearchOut(
            results=[hit_out(h) for h in result.hits],
            mode=data.mode,
            embedding_ms=result.embedding_ms,
            search_ms=result.search_ms,
            vector_index=result.vector_index,
        )
