"""Block writes that may ask the model to condense: `rewrite: true` on append and replace.

A write that fits the limit is written as it is. One that would not fit, with `rewrite`, has the model condense
the whole new value to the limit; the block records ValueRewritten naming the model and the prompt. Without a
model, or when the model's answer still does not fit, the write is refused exactly as without `rewrite` (422).
The rewrite expects the version it read, so an edit made while the model was thinking is never lost (409).
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from agentmem.application.base import Saved
from agentmem.application.blocks import BlockApplication
from agentmem.application.llm import (
    LanguageModelNotConfigured,
    LanguageModels,
    LLMRequest,
    Message,
    OutputSchema,
    deadline_in,
)
from agentmem.application.model_output import REWRITE_SCHEMA, answer_data
from agentmem.application.prompts import DEFAULT_PROMPT_VERSION, prompt_set
from agentmem.domain.base import Context
from agentmem.domain.block import Block, BlockLimitExceededError

REWRITE_SECONDS = 60.0


class BlockWrites:
    """Appends and replaces block values, condensing them with the model when asked and needed."""

    def __init__(self, blocks: BlockApplication, models: LanguageModels) -> None:
        self.blocks = blocks
        self.models = models

    async def append(
        self,
        block_id: UUID,
        text: str,
        context: Context,
        separator: str = "\n",
        expected_version: int | None = None,
        rewrite: bool = False,
    ) -> Saved[Block]:
        """Adds text at the end; past the limit, with `rewrite`, the model condenses value and text together."""
        try:
            return await asyncio.to_thread(self.blocks.append, block_id, text, context, separator, expected_version)
        except BlockLimitExceededError as refused:
            if not rewrite:
                raise
            block = await asyncio.to_thread(self.blocks.get, block_id, context.tenant_id)
            wanted = block.value + (separator if block.value else "") + text
            value, provenance = await self._condense(wanted, block.limit, context, "append", refused)
            version = expected_version or block.version
            return await asyncio.to_thread(self.blocks.update, block_id, {"value": value}, context, version, provenance)

    async def update(
        self,
        block_id: UUID,
        changes: dict[str, Any],
        context: Context,
        expected_version: int | None = None,
        rewrite: bool = False,
    ) -> Saved[Block]:
        """Changes fields; a new value past the (new) limit, with `rewrite`, is condensed to fit it."""
        try:
            return await asyncio.to_thread(self.blocks.update, block_id, changes, context, expected_version)
        except BlockLimitExceededError as refused:
            if not rewrite or "value" not in changes:
                raise
            block = await asyncio.to_thread(self.blocks.get, block_id, context.tenant_id)
            limit = changes.get("limit", block.limit)
            value, provenance = await self._condense(changes["value"], limit, context, "replace", refused)
            version = expected_version or block.version
            return await asyncio.to_thread(
                self.blocks.update, block_id, {**changes, "value": value}, context, version, provenance
            )

    async def _condense(
        self, value: str, limit: int, context: Context, operation: str, refused: BlockLimitExceededError
    ) -> tuple[str, dict[str, Any]]:
        try:
            model = self.models.bind(context, "rewrite")
        except LanguageModelNotConfigured:
            raise refused from None
        prompts = prompt_set(DEFAULT_PROMPT_VERSION)
        answer = await model.complete(
            LLMRequest(
                messages=(Message.system(prompts.render("rewrite", limit=limit, size=len(value))), Message.user(value)),
                output=OutputSchema("block_value", REWRITE_SCHEMA),
                temperature=0.0,
                deadline=deadline_in(REWRITE_SECONDS),
            )
        )
        condensed = answer_data(answer, REWRITE_SCHEMA)["value"]
        if len(condensed) > limit:
            raise BlockLimitExceededError(limit, len(condensed), refused.field) from None
        provenance = {
            "source": "rewrite",
            "operation": operation,
            "provider": answer.provider,
            "model": answer.model,
            "prompt_version": prompts.version,
            "size_before": len(value),
        }
        return condensed, provenance
