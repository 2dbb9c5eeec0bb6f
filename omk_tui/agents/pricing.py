"""Token usage into money: a price table per model, $2 per million input and $8 per million output by default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_INPUT_PER_MILLION = 2.0
DEFAULT_OUTPUT_PER_MILLION = 8.0


@dataclass(frozen=True)
class ModelPrice:
    input_per_million: float = DEFAULT_INPUT_PER_MILLION
    output_per_million: float = DEFAULT_OUTPUT_PER_MILLION

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (max(0, input_tokens) * self.input_per_million + max(0, output_tokens) * self.output_per_million) / 1e6


class PriceTable:
    """Prices by model name; unknown models use the `default` entry, else the built-in default."""

    def __init__(self, prices: Mapping[str, ModelPrice] | None = None, model: str = "default"):
        self.prices = dict(prices or {})
        self.model = model

    @classmethod
    def from_config(cls, agent_config) -> "PriceTable":
        """From `omk_tui.config.AgentConfig` (`[agent.prices.<model>]` input/output_per_million)."""
        prices = {
            name: ModelPrice(p.input_per_million, p.output_per_million)
            for name, p in (agent_config.prices or {}).items()
        }
        return cls(prices, agent_config.model)

    def price(self, model: str | None = None) -> ModelPrice:
        return self.prices.get(model or self.model) or self.prices.get("default") or ModelPrice()

    def cost(self, input_tokens: int, output_tokens: int, model: str | None = None) -> float:
        return self.price(model).cost(input_tokens, output_tokens)


def cost_usd(input_tokens: int, output_tokens: int, price: ModelPrice | None = None) -> float:
    return (price or ModelPrice()).cost(input_tokens, output_tokens)
