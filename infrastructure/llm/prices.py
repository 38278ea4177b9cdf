"""Prices of common models in US dollars per million tokens, overridable by a JSON file (AGENTMEM_LLM_PRICES).

The defaults are the providers' published list prices for standard (not batch) use as of 2025; a price file
`{"<model>": {"input": 0.15, "cached_input": 0.075, "output": 0.6}}` replaces or adds entries. A model is matched
exactly, else by the longest known prefix (so dated versions such as gpt-4o-mini-2024-07-18 find gpt-4o-mini).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agentmem.application.llm import Usage


@dataclass(frozen=True, slots=True)
class Price:
    """Dollars per million input, cached input and output tokens."""

    input: float
    cached_input: float
    output: float


DEFAULT_PRICES = {
    "gpt-4o-mini": Price(0.15, 0.075, 0.60),
    "gpt-4o": Price(2.50, 1.25, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.025, 0.40),
    "gpt-4.1-mini": Price(0.40, 0.10, 1.60),
    "gpt-4.1": Price(2.00, 0.50, 8.00),
    "o4-mini": Price(1.10, 0.275, 4.40),
    "claude-3-5-haiku": Price(0.80, 0.08, 4.00),
    "claude-haiku-4-5": Price(1.00, 0.10, 5.00),
    "claude-3-7-sonnet": Price(3.00, 0.30, 15.00),
    "claude-sonnet-4": Price(3.00, 0.30, 15.00),
    "claude-opus-4": Price(15.00, 1.50, 75.00),
    "gemini-2.0-flash": Price(0.10, 0.025, 0.40),
    "gemini-2.5-flash-lite": Price(0.10, 0.025, 0.40),
    "gemini-2.5-flash": Price(0.30, 0.075, 2.50),
    "gemini-2.5-pro": Price(1.25, 0.31, 10.00),
}


class PriceError(ValueError):
    """The price file cannot be read as {model: {input, output, cached_input?}}."""


def load_prices(path: Path | None) -> dict[str, Price]:
    prices = dict(DEFAULT_PRICES)
    if path is None:
        return prices
    try:
        entries = json.loads(path.read_text())
        for model, entry in entries.items():
            cached = entry.get("cached_input", entry["input"])
            prices[model] = Price(float(entry["input"]), float(cached), float(entry["output"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise PriceError(f"AGENTMEM_LLM_PRICES {path}: expected {{model: {{input, output}}}} ({error})") from None
    return prices


class PriceTable:
    """What a call cost, from the model's price; None for a model without one (e.g. a local server)."""

    def __init__(self, prices: dict[str, Price]) -> None:
        self.prices = prices
        self._by_length = sorted(prices, key=len, reverse=True)

    def price_of(self, model: str) -> Price | None:
        name = model.rsplit("/", 1)[-1]  # OpenRouter-style "openai/gpt-4o-mini"
        if name in self.prices:
            return self.prices[name]
        return next((self.prices[k] for k in self._by_length if name.startswith(k)), None)

    def cost(self, provider: str, model: str, usage: Usage) -> float | None:  # noqa: ARG002 - priced by model
        price = self.price_of(model)
        if price is None:
            return None
        fresh = max(usage.input_tokens - usage.cached_tokens, 0)
        dollars = fresh * price.input + usage.cached_tokens * price.cached_input + usage.output_tokens * price.output
        return round(dollars / 1_000_000, 8)
