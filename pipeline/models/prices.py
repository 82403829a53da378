"""What calls cost: US dollars per million tokens, in and out.

Prices change; these are list prices of some common models as published by their vendors (2025),
and essay.toml overrides or adds any model:

    [prices."my-model"]
    input = 0.15    # dollars per million prompt tokens
    output = 0.60   # dollars per million output tokens
"""

from __future__ import annotations

from collections.abc import Mapping

BATCH_RATE = 0.5  # calls answered through a Batch API cost half the list price (OpenAI's batch pricing)

KNOWN: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


def cost(
    provider: str,
    model: str,
    tokens_in: int,
    tokens_out: int,
    configured: Mapping[str, tuple[float, float]],
    batch: bool = False,
) -> float | None:
    """Dollars, or None where no price is known. A model on this machine costs nothing (an Ollama cloud model is
    not one); `batch` calls half the price."""
    if provider == "local" or (provider == "ollama" and not model.endswith(("-cloud", ":cloud"))):
        return 0.0
    price = configured.get(model) or KNOWN.get(model)
    if price is None:
        return None
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000 * (BATCH_RATE if batch else 1.0)
