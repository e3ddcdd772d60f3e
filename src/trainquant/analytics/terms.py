"""A school's terms (学期) and the date ranges a report is filtered by. Pure: dates in, dates out.

A language school's year runs in seasons: the winter-holiday classes (寒假班), the spring term, the
summer-holiday classes (暑期班) and the autumn term. Each term runs from its start to the day before the
next one's; the last of the year runs to the end of December. Schools set their own starts
(``TQ_SCHOOL_TERMS``, "key:MM-DD,..."), in the order of the year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# The default of TQ_SCHOOL_TERMS: 寒假班 from 1 January, 春季班 from 1 March, 暑期班 from 1 July, 秋季班 from 1 September.
DEFAULT_SPEC = "winter:01-01,spring:03-01,summer:07-01,autumn:09-01"


class TermSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    key: str  # e.g. "2026-autumn": what a filter's query string carries
    season: str  # "autumn"
    year: int
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class Range:
    """The days a report covers, both ends included; either end may be open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValueError("the range ends before it starts")

    @property
    def open(self) -> bool:
        return self.start is None and self.end is None


def parse(spec: str) -> tuple[tuple[str, int, int], ...]:
    """``"winter:01-01,spring:03-01"`` → ((season, month, day), ...), checked: the first starts on 1 January
    (every day belongs to a term) and the starts rise through the year."""
    seasons = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, when = part.partition(":")
        try:
            month, day = (int(x) for x in when.split("-"))
            date(2023, month, day)  # not a leap year: a term starts on a day every year has
        except ValueError:
            raise TermSpecError(f"term {part!r}: give key:MM-DD") from None
        if not name.isidentifier():
            raise TermSpecError(f"term {part!r}: the key is letters, digits and _")
        seasons.append((name, month, day))
    if not seasons or seasons[0][1:] != (1, 1):
        raise TermSpecError("the first term starts on 01-01, so that every day belongs to a term")
    if [s[1:] for s in seasons] != sorted({s[1:] for s in seasons}) or len({s[0] for s in seasons}) != len(seasons):
        raise TermSpecError("terms are named once each and start later and later in the year")
    return tuple(seasons)


def terms_of_year(year: int, seasons: tuple[tuple[str, int, int], ...]) -> list[Term]:
    starts = [date(year, m, d) for _, m, d in seasons]
    ends = [s - timedelta(days=1) for s in starts[1:]] + [date(year, 12, 31)]
    return [Term(f"{year}-{name}", name, year, s, e) for (name, _, _), s, e in zip(seasons, starts, ends, strict=True)]


def recent(today: date, seasons: tuple[tuple[str, int, int], ...], count: int = 8) -> list[Term]:
    """The term ``today`` is in and the ``count - 1`` before it, newest first."""
    out: list[Term] = []
    year = today.year
    while len(out) < count:
        out.extend(t for t in reversed(terms_of_year(year, seasons)) if t.start <= today)
        year -= 1
    return out[:count]


def find(key: str, seasons: tuple[tuple[str, int, int], ...]) -> Term | None:
    year, _, season = key.partition("-")
    if not year.isdigit() or not 1900 <= int(year) <= 9999:
        return None
    return next((t for t in terms_of_year(int(year), seasons) if t.season == season), None)
