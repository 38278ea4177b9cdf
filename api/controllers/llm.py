"""/v1/llm: which language model is configured, and a live check of it."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post

from agentmem.api.dependencies import provide
from agentmem.api.schemas.llm import CheckOut, LanguageModelOut, ProbeOut
from agentmem.application.language_models import MeteredModels
from agentmem.application.llm_check import check_model
from agentmem.domain.base import Context


class LanguageModelController(Controller):
    """The language model AgentMem uses (AGENTMEM_LLM) and whether it answers."""

    path = "/v1/llm"
    tags = ["llm"]
    dependencies = {"language_models": provide("language_models")}

    @get("/", opt={"permission": "org:read"})
    async def configured(self, language_models: MeteredModels) -> LanguageModelOut:
        """The configured provider and model; nothing is called."""
        configured = language_models.catalog.configured()
        if configured is None:
            return LanguageModelOut(configured=False, provider=None, model=None)
        return LanguageModelOut(configured=True, provider=configured[0], model=configured[1])

    @post("/check", opt={"permission": "org:manage", "errors": (503,)}, status_code=200)
    async def check(self, context: Context, language_models: MeteredModels) -> CheckOut:
        """Sends one tiny request, one streamed and one tool call (metered as purpose `check`); 503 without a model,
        429 once the organization's daily token quota is spent."""
        model = language_models.bind(context, "check")
        await language_models.check_quota(context.tenant_id)
        probes = await check_model(model)
        return CheckOut(
            provider=model.provider,
            model=model.model,
            ok=all(p.ok for p in probes),
            probes=[msgspec.convert(p, ProbeOut, from_attributes=True) for p in probes],
            position=getattr(model, "position", None),
        )
