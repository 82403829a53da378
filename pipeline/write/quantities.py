"""Numbers, money and dates in prose, read into values so that "250,000", "250k" and "$250K" compare equal.

Used by the grounding check on both sides: the draft's claims and the notes they should come from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = (
    r"(?P<{g}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# Dates, most specific first; each alternative names its parts so one pass finds them all.
_DATE = re.compile(
    r"\b(?P<iy>(?:19|20)\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)\b"
    rf"|\b{_MONTH.format(g='m1')}\s+(?P<d1>[0-3]?\d)(?:st|nd|rd|th)?\b(?!:|\.\d|,\d)(?:,?\s+(?P<y1>(?:19|20)\d\d)\b)?"
    rf"|\b(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH.format(g='m2')}\b(?:,?\s+(?P<y2>(?:19|20)\d\d)\b)?"
    rf"|\b{_MONTH.format(g='m3')}\s+(?:of\s+)?(?P<y3>(?:19|20)\d\d)\b"
    r"|(?<![\w$€£.,])(?P<y4>(?:19|20)\d\d)(?![\w,%]|\.\d)",
    re.I,
)
# A number with its currency sign, thousands separators, decimals, and a scale or percent after it.
_NUMBER = re.compile(
    r"(?P<time>(?<![\w.:])[0-2]?\d:[0-5]\d(?![\d:]))"
    r"|(?<![\w.,/:])(?<![^\W\d_]-)(?P<cur>[$€£])?\s?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?![\d:])(?:\.(?P<frac>\d+))?"
    r"(?:(?P<scale>\s?(?:k|m|mm|bn|b)\b|\s(?:thousand|million|billion)\b)|(?P<pct>\s?%|\s?percent\b)|(?P<times>x\b)"
    r"|(?:st|nd|rd|th)\b)?"
    r"(?P<money>\s?(?:dollars|bucks|usd|eur|euros?|pounds)\b|\s(?:a|per)\s(?:year|month)\b|\s?/\s?(?:yr|year|mo)\b)?",
    re.I,
)
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_AMBIGUOUS_SCALE = {"m", "b"}  # "30m" is as often thirty minutes as thirty million
_SMALL = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
_SMALL += " seventeen eighteen nineteen twenty"
_WORD_NUMBERS = dict(zip(_SMALL.split(), range(21), strict=True)) | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_WORD_NUMBERS |= {"hundred": 100, "thousand": 1000, "million": 1_000_000, "dozen": 12}


@dataclass(frozen=True)
class Quantity:
    kind: str  # "number" | "money" | "date"
    start: int
    end: int
    values: tuple[float, ...] = ()  # every reading of a number ("30m": 30 and 30,000,000)
    digits: int = 0  # significant digits written, so "250k" may round "248,500"
    date: tuple[int | None, int | None, int | None] = (None, None, None)  # year, month, day


def find_quantities(text: str) -> Iterator[Quantity]:
    """Dates first, then the numbers outside them, in the order they appear within each kind."""
    taken: list[tuple[int, int]] = []
    for match in _DATE.finditer(text):
        taken.append(match.span())
        yield Quantity("date", *match.span(), date=_date_parts(match))
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        if any(s <= start < e for s, e in taken):
            continue
        if match.group("time"):  # "14:02" is a time of day: compare it whole
            hours, minutes = match.group("time").split(":")
            yield Quantity("number", start, end, values=(-1e6 - int(hours) * 60 - int(minutes),), digits=15)
            continue
        number = match.group("int").replace(",", "") + ("." + match.group("frac") if match.group("frac") else "")
        scale_word = (match.group("scale") or "").strip().lower()
        value = float(number) * _SCALES.get(scale_word, 1)
        values = (value, float(number)) if scale_word in _AMBIGUOUS_SCALE else (value,)
        kind = "money" if match.group("cur") or match.group("money") else "number"
        if match.group(
            "times"
        ):  # "2x" is a ratio: only a ratio in the notes supports it (ratios are kept negative, no other number is)
            values = tuple(-v for v in values)
        suffix = match.group("money") or match.group("pct") or match.group("times") or scale_word
        end = match.end() if suffix else match.end("int")
        if match.group("frac"):
            end = max(end, match.end("frac"))
        yield Quantity(kind, start, end, values=values, digits=_significant(number))


def word_numbers(text: str) -> set[float]:
    """Numbers the notes spell out ("three years", "a dozen"), which a draft may write as digits."""
    return {float(_WORD_NUMBERS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in _WORD_NUMBERS}


def _date_parts(match: re.Match[str]) -> tuple[int | None, int | None, int | None]:
    g = match.groupdict()
    if g["iy"]:
        return int(g["iy"]), int(g["im"]), int(g["id"])
    for month_key, day_key, year_key in (("m1", "d1", "y1"), ("m2", "d2", "y2"), ("m3", None, "y3")):
        if g[month_key]:
            month = _MONTHS.index(g[month_key][:3].lower()) + 1
            day = int(g[day_key]) if day_key and g[day_key] else None
            return (int(g[year_key]) if g[year_key] else None), month, day
    return int(g["y4"]), None, None


def _significant(number: str) -> int:
    digits = number.replace(".", "").lstrip("0")
    if "." not in number:
        digits = digits.rstrip("0")
    return max(1, len(digits))


@dataclass
class SourceQuantities:
    """Everything numeric the notes say, ready to answer "is this claim in there, in some form?"."""

    numbers: set[float]
    dates: set[tuple[int | None, int | None, int | None]]

    @classmethod
    def read(cls, texts: list[str]) -> SourceQuantities:
        numbers: set[float] = set()
        dates: set[tuple[int | None, int | None, int | None]] = set()
        for text in texts:
            numbers |= word_numbers(text)
            for quantity in find_quantities(text):
                numbers.update(quantity.values)
                if quantity.kind == "date":
                    dates.add(quantity.date)
                    if quantity.date[0] is not None:
                        numbers.add(float(quantity.date[0]))
                        if quantity.date[2] is not None:  # an ISO date is also "may 6" and "may 2025"
                            dates.add((None, quantity.date[1], quantity.date[2]))
                            dates.add((quantity.date[0], quantity.date[1], None))
        return cls(numbers, dates)

    def supports(self, claim: Quantity) -> bool:
        if claim.kind == "date":
            return self._supports_date(claim.date)
        return any(self._supports_value(value, claim.digits) for value in claim.values)

    def _supports_value(self, value: float, digits: int) -> bool:
        # "1.1k" stands for 1,100 and also for a rounded 1,130 in the notes: compare at the draft's precision.
        return any(abs(_round_to(source, digits) - value) <= 1e-9 * max(1.0, abs(value)) for source in self.numbers)

    def _supports_date(self, date: tuple[int | None, int | None, int | None]) -> bool:
        year, month, day = date
        if month is None:
            return year in {d[0] for d in self.dates} or float(year or 0) in self.numbers
        if year is None:
            return any(d[1] == month and d[2] == day for d in self.dates)
        if day is None:
            return any(d[0] == year and d[1] == month for d in self.dates)
        years = {d[0] for d in self.dates} | {int(n) for n in self.numbers if n.is_integer()}
        return date in self.dates or ((None, month, day) in self.dates and year in years)


def _round_to(value: float, digits: int) -> float:
    if value == 0:
        return 0.0
    return float(f"{value:.{digits}g}")
