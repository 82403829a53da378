"""Background: what an off-topic note line looks like, to tell "about this essay" from "just a note".

`rank` scores how close each fragment is to the prompt. Whether a fragment stands out from the rest of the
vault is one question (a relative cut); whether it is closer to the prompt than everyday notes are is
another, and it needs something to compare with that is not the author's vault: a vault that is all on
topic has no off-topic half to split off. These lines are that comparison: ordinary note lines from many
parts of a life, at most two per subject, so that whatever an essay is about, nearly all of them are not.
"""

from __future__ import annotations

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
