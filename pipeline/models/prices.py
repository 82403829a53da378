"""What calls cost: US dollars per million tokens, in and out.

Prices change; these are list prices of some common models as published by their vendors (2025),
and essay.toml overrides or adds any model:

    [prices."my-model"]
    input = 0.15    # dollars per million prompt tokens
    output = 0.60   # dollars per million output tokens
    cached = 0.075  # dollars per million prompt tokens the server read from its prompt cache (default: input)
"""

from __future__ import annotations

from collections.abc import Mapping

BATCH_RATE = 0.5  # calls answered through a Batch API cost half the list price (OpenAI's batch pricing)

# input, output, cached input: OpenAI bills a prompt's prefix served from its cache at the third.
KNOWN: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.60, 0.075),
    "gpt-4o": (2.50, 10.00, 1.25),
    "gpt-4.1": (2.00, 8.00, 0.50),
    "gpt-4.1-mini": (0.40, 1.60, 0.10),
    "gpt-4.1-nano": (0.10, 0.40, 0.025),
    "o4-mini": (1.10, 4.40, 0.275),
    "gpt-5": (1.25, 10.00, 0.125),
    "gpt-5-mini": (0.25, 2.00, 0.025),
    "gpt-5-nano": (0.05, 0.40, 0.005),
}


def cost(
    provider: str,
    model: str,
    tokens_in: int,
    tokens_out: int,
    configured: Mapping[str, tuple[float, float, float]],
    batch: bool = False,
    cached: int = 0,
) -> float | None:
    """Dollars, or None where no price is known. A model on this machine costs nothing (an Ollama cloud model is
    not one); `batch` calls half the price. Of `tokens_in`, the `cached` the server read from its prompt cache
    cost the model's cached rate."""
    if provider == "local" or (provider == "ollama" and not model.endswith(("-cloud", ":cloud"))):
        return 0.0
    price = configured.get(model) or KNOWN.get(model)
    if price is None:
        return None
    cached = min(max(cached, 0), tokens_in)
    dollars = (tokens_in - cached) * price[0] + cached * price[2] + tokens_out * price[1]
    return dollars / 1_000_000 * (BATCH_RATE if batch else 1.0)


def sharing_pays(model: str, sections: int, configured: Mapping[str, tuple[float, float, float]]) -> bool:
    """Whether a billed API that caches prompts charges less when every call of a draft opens with all its notes.
    Then each section's call pays the whole opening at the cached rate; where each call carries its own notes,
    the sections pay about the notes once more at the list rate. So: sections x cached < input. True where no
    price is known: the cache still spares the server reading the notes again."""
    price = configured.get(model) or KNOWN.get(model)
    return price is None or sections * price[2] < price[0]
