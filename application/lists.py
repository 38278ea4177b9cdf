"""Lists over the plain read models (blocks, agents, tools, the directory, the audit trail), with read-your-writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from uuid import UUID

from agentmem.application.reads import Reads
from agentmem.projections.agents import READ_MODEL as AGENTS
from agentmem.projections.agents import AgentPage, AgentQueries
from agentmem.projections.audit import AUDIT, AuditEntry, AuditPage, AuditQuery, AuditTrail
from agentmem.projections.blocks import READ_MODEL as BLOCKS
from agentmem.projections.blocks import BlockPage, BlockQueries
from agentmem.projections.directory import DIRECTORY, Directory, DirectoryPage
from agentmem.projections.queries import ListOrder
from agentmem.projections.tools import TOOL_RUNS, TOOLS, RunOrder, ToolPage, ToolQueries, ToolRunPage


class Lists:
    """Each list waits (bounded) until its read model has applied `min_position`, then reads one page."""

    def __init__(
        self,
        reads: Reads,
        blocks: BlockQueries,
        agents: AgentQueries,
        directory: Directory,
        audit: AuditTrail,
        tools: ToolQueries,
    ) -> None:
        self.reads = reads
        self._blocks = blocks
        self._agents = agents
        self._tools = tools
        self._directory = directory
        self._audit = audit

    async def blocks(
        self,
        tenant_id: str,
        *,
        label: str | None = None,
        agent_id: UUID | None = None,
        order: ListOrder = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        include_deleted: bool = False,
        min_position: int | None = None,
    ) -> BlockPage:
        """Blocks by label, or those attached to an agent (which reads the agents read model too)."""
        await self.reads.wait([BLOCKS, AGENTS] if agent_id else [BLOCKS], min_position, tenant_id)
        return await self._blocks.list(
            tenant_id,
            label=label,
            agent_id=agent_id,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
        )

    async def agents(
        self,
        tenant_id: str,
        *,
        tags: Sequence[str] = (),
        order: ListOrder = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        include_deleted: bool = False,
        min_position: int | None = None,
    ) -> AgentPage:
        """Agents holding every one of `tags`."""
        await self.reads.wait([AGENTS], min_position, tenant_id)
        return await self._agents.list(
            tenant_id, tags=tags, order=order, limit=limit, cursor=cursor, include_deleted=include_deleted
        )

    async def tools(
        self,
        tenant_id: str,
        *,
        tags: Sequence[str] = (),
        name: str | None = None,
        language: str | None = None,
        order: ListOrder = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        include_deleted: bool = False,
        min_position: int | None = None,
    ) -> ToolPage:
        """Tools holding every one of `tags`, by name or language."""
        await self.reads.wait([TOOLS], min_position, tenant_id)
        return await self._tools.list(
            tenant_id,
            tags=tags,
            name=name,
            language=language,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
        )

    async def tool_runs(
        self,
        tenant_id: str,
        tool_id: UUID,
        *,
        order: RunOrder = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        min_position: int | None = None,
    ) -> ToolRunPage:
        """The runs of one tool, newest first by default."""
        await self.reads.wait([TOOL_RUNS], min_position, tenant_id)
        return await self._tools.runs(tenant_id, tool_id, order=order, limit=limit, cursor=cursor)

    async def directory(
        self,
        table: str,
        tenant_id: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        platform: bool = False,
        min_position: int | None = None,
    ) -> DirectoryPage:
        """Users or API keys of a tenant, or organizations (every one of them for `platform`)."""
        await self.reads.wait([DIRECTORY], min_position, tenant_id)
        return await self._directory.page(table, tenant_id, limit, cursor, platform=platform)

    async def audit(self, query: AuditQuery, min_position: int | None = None) -> AuditPage:
        """One page of a tenant's audit trail."""
        await self.reads.wait([AUDIT], min_position, query.tenant_id)
        return await self._audit.page(query)

    async def audit_export(self, query: AuditQuery, min_position: int | None = None) -> AsyncIterator[AuditEntry]:
        """Waits for `min_position`, then gives every matching entry, read page by page."""
        await self.reads.wait([AUDIT], min_position, query.tenant_id)
        return self._entries(query)

    async def _entries(self, query: AuditQuery) -> AsyncIterator[AuditEntry]:
        while True:
            page = await self._audit.page(query)
            for entry in page.items:
                yield entry
            if page.next_after is None:
                return
            query = replace(query, after=page.next_after)
