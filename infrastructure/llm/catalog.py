"""The configured language models: AGENTMEM_LLM's, or another of any provider with credentials, built on demand.

Building a model imports nothing: each adapter imports its SDK on its first call. Each provider has one
concurrency limit per process (AGENTMEM_LLM_CONCURRENCY) shared by all its models.
"""

from __future__ import annotations

import asyncio

from agentmem.application.llm import LanguageModel, LanguageModelNotConfigured
from agentmem.infrastructure.llm.anthropic import AnthropicMessages
from agentmem.infrastructure.llm.base import ProviderAdapter
from agentmem.infrastructure.llm.gemini import GeminiModels
from agentmem.infrastructure.llm.openai import OpenAIChat
from agentmem.infrastructure.llm.resilience import RateGate, ResilientModel
from agentmem.infrastructure.settings import LLM_BASE_URL_VARIABLES, LLM_KEY_VARIABLES, LLMSettings


class ProviderCatalog:
    """Implements the `ModelCatalog` port from LLMSettings."""

    def __init__(self, settings: LLMSettings, gate: RateGate | None = None) -> None:
        self.settings = settings
        self.gate = gate
        self._models: dict[tuple[str, str], ResilientModel] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}

    def configured(self) -> tuple[str, str] | None:
        """The default provider and model (AGENTMEM_LLM), None when there is none."""
        if self.settings.provider is None or self.settings.model is None:
            return None
        return self.settings.provider, self.settings.model

    def model(self, provider: str | None = None, model: str | None = None) -> LanguageModel:
        """The default model; or `model` of `provider` (an agent's own), with that provider's credentials."""
        if self.settings.provider is None or self.settings.model is None:
            raise LanguageModelNotConfigured()
        provider = provider or self.settings.provider
        model = model or (self.settings.model if provider == self.settings.provider else None)
        if model is None:
            raise LanguageModelNotConfigured(f"no model named for provider {provider}", setting="AGENTMEM_LLM")
        key = (provider, model)
        if key not in self._models:
            semaphore = self._limits.setdefault(provider, asyncio.Semaphore(self.settings.concurrency))
            self._models[key] = ResilientModel(
                self.adapter(provider, model),
                timeout=self.settings.timeout,
                max_retries=self.settings.max_retries,
                concurrency=semaphore,
                gate=self.gate,
            )
        return self._models[key]

    def adapter(self, provider: str, model: str) -> ProviderAdapter:
        key = self.settings.api_keys.get(provider)
        base_url = self.settings.base_urls.get(provider)
        if provider == "openai_compatible":
            if base_url is None:
                raise LanguageModelNotConfigured(
                    "openai_compatible needs the server's URL: set AGENTMEM_LLM_BASE_URL", "AGENTMEM_LLM_BASE_URL"
                )
            return OpenAIChat(provider, model, api_key=key, base_url=base_url)
        if key is None:
            variables = " or ".join(("AGENTMEM_LLM_API_KEY", *LLM_KEY_VARIABLES[provider]))
            raise LanguageModelNotConfigured(
                f"no API key for {provider}: set {variables}", LLM_KEY_VARIABLES[provider][0]
            )
        if provider == "azure_openai":
            if base_url is None:
                variable = LLM_BASE_URL_VARIABLES[provider]
                raise LanguageModelNotConfigured(f"azure_openai needs {variable} (or AGENTMEM_LLM_BASE_URL)", variable)
            return OpenAIChat(provider, model, api_key=key, base_url=base_url, api_version=self.settings.api_version)
        if provider == "openai":
            return OpenAIChat(provider, model, api_key=key, base_url=base_url)
        if provider == "anthropic":
            return AnthropicMessages(model, api_key=key, base_url=base_url)
        if provider == "gemini":
            return GeminiModels(model, api_key=key, base_url=base_url)
        raise LanguageModelNotConfigured(f"unknown language-model provider {provider!r}")
