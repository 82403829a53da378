"""Background: what an off-topic note line looks like, to tell "about this essay" from "just a note".

`rank` scores how close each fragment is to the prompt. Whether a fragment stands out from the rest of the
vault is one question (a relative cut); whether it is closer to the prompt than everyday notes are is
another, and it needs something to compare with that is not the author's vault: a vault that is all on
topic has no off-topic half to split off. These lines are that comparison: ordinary note lines from many
parts of a life, at most two per subject, so that whatever an essay is about, nearly all of them are not.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from pipeline.embeddings.embed import Embedder

KNOWN = Path(__file__).parent / "data"  # their vectors, as the default sorting model makes them

BACKGROUND: tuple[str, ...] = (
    "buy coffee filters and oat milk",
    "call the dentist to move the appointment to thursday",
    "return the library book before friday",
    "renew the parking permit online",
    "pay the electricity bill",
    "the car needs an oil change and new wiper blades",
    "book the train tickets for the wedding in june",
    "pack the charger and the passport",
    "mom's birthday on the 14th, get flowers",
    "dinner at sam's on saturday, bring wine",
    "the cat threw up on the rug again",
    "vet appointment for the dog's vaccines",
    "water the tomatoes, the basil is bolting",
    "raked the leaves in the front yard",
    "the kitchen tap is dripping, order a new washer",
    "the landlord says the heating will be fixed next week",
    "watched two episodes of the detective show, the ending was silly",
    "finished the crossword in twenty minutes",
    "pasta with lemon, garlic and too much parmesan",
    "soak the beans overnight for tomorrow's soup",
    "rainy all day, stayed in",
    "first snow of the year, roads are icy",
    "change my password on the bank site",
    "the printer is out of cyan again",
    "update the phone, it keeps asking",
    "cancel the gym trial before it renews",
    "tax forms due at the end of the month",
    "compare prices for a new washing machine",
    "grocery list: eggs, rice, spinach, apples",
    "pick up the dry cleaning",
    "call grandma on sunday",
    "the neighbours are having a party, it is loud",
    "podcast about the history of salt, surprisingly good",
    "the football match went to penalties",
    "schedule the boiler service",
    "send the thank-you card to aunt rita",
    "order a birthday present for the twins",
    "the bus was twenty minutes late this morning",
    "clean out the fridge before the trip",
    "look up opening hours of the post office",
    "headache all afternoon, drink more water",
    "the flight was delayed two hours, read the whole magazine",
    "new recipe for banana bread, use less sugar next time",
    "fix the squeaky hinge on the bathroom door",
    "movie night: pick something everyone has not seen",
    "sell the old bike online",
    "the wifi drops every evening around eight",
    "insurance renewal letter came, check the price",
    "remember to defrost the chicken",
    "buy stamps and envelopes",
)


def background_vectors(embedder: Embedder, dim: int) -> np.ndarray:
    """BACKGROUND's vectors by `embedder`: shipped for the default sorting model, so a first plan does not spend
    3 s embedding the same 50 lines; embedded now for any other model, if the lines or the model changed, or if
    the shipped file is damaged."""
    try:
        shipped = np.load(_shipped(embedder.key))
    except (OSError, ValueError):  # not shipped for this model, or unreadable
        shipped = None
    if shipped is not None and shipped.shape == (len(BACKGROUND), dim):
        return shipped
    return embedder.embed(list(BACKGROUND))


def _shipped(model_key: str) -> Path:
    digest = hashlib.sha256("\n".join([model_key, *BACKGROUND]).encode()).hexdigest()[:16]
    return KNOWN / f"background-{digest}.npy"


def main() -> int:
    """`python -m pipeline.sort.background`: write the default sorting model's vectors of BACKGROUND (after editing
    the lines or the model), replacing the stale file."""
    from pipeline.embeddings.gemma import gemma_embedder

    embedder = gemma_embedder()
    KNOWN.mkdir(exist_ok=True)
    for stale in KNOWN.glob("background-*.npy"):
        stale.unlink()
    target = _shipped(embedder.key)
    np.save(target, embedder.embed(list(BACKGROUND)))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
