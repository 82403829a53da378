"""Refusals: how an OpenAI-compatible endpoint says a request's parameter is not for this model, and what a
reasoning model reports of its thinking. The provider (openai_chat.py) adapts its requests to both."""

from __future__ import annotations

import re
from typing import Any

# How endpoints say they will not take a parameter: OpenAI ("Unsupported parameter", "Unsupported value", "does not
# support"), LiteLLM ("don't support temperature=0.7"), Azure's older API versions ("Unrecognized request argument").
# "max_tokens is too large … supports at most 4096" is a cap too high, not a parameter refused.
REFUSAL = re.compile(
    r"unsupported|not supported|(?:does not|do not|doesn't|don't) support|unrecognized request argument", re.I
)
ADAPTABLE = ("max_completion_tokens", "max_tokens", "temperature")
RENAMED = {"max_tokens": "max_completion_tokens", "max_completion_tokens": "max_tokens"}


def refused_parameter(exc: Exception) -> str | None:
    """The parameter a 400 refuses by name, from OpenAI's `param` field or, on servers that only say it in words,
    from the message; None for any other bad request."""
    param = getattr(exc, "param", None)
    if param in ADAPTABLE and REFUSAL.search(str(exc)):
        return param
    return refused_in(str(exc))


def refused_in(text: str) -> str | None:
    """The parameter an error's words refuse, if any."""
    if not REFUSAL.search(text):
        return None
    return next((name for name in ADAPTABLE if re.search(rf"\b{name}\b", text)), None)


def reasoning_tokens(usage: Any) -> int:
    """Completion tokens spent thinking (OpenAI's reasoning models report them)."""
    details = getattr(usage, "completion_tokens_details", None)
    return int(getattr(details, "reasoning_tokens", 0) or 0)
