"""The query parameters that narrow a training effect report, shared by its pages, exports and JSON
routes: a department (by code), a term of the school's year or days from / to."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from trainquant.analytics import effect, terms
from trainquant.deps import AppClock, AppSettings
from trainquant.errors import Invalid
from trainquant.params import QueryDate


@dataclass(frozen=True)
class Chosen:
    """What the reader asked for, as the page's form shows it back, and the filter it makes."""

    department: str | None
    term: str | None
    start: date | None
    end: date | None
    days: terms.Range
    zone: str
    terms: list[terms.Term]  # the school's recent terms, newest first, for the form

    def narrow(self, department_ids: tuple[int, ...] | None = None) -> effect.Filter:
        return effect.Filter(department_ids, self.days, self.zone)

    def query(self) -> str:
        """The same choice as a query string, for the page's export links."""
        from urllib.parse import urlencode

        pairs = [("department", self.department), ("term", self.term), ("from", self.start), ("to", self.end)]
        return urlencode([(k, str(v)) for k, v in pairs if v])


def chosen_days(settings: AppSettings, clock: AppClock,
                term: Annotated[str | None, Query(max_length=40, description="a term of the school's year, e.g. 2026-autumn (TQ_SCHOOL_TERMS)")] = None,
                start: Annotated[QueryDate | None, Query(alias="from", description="the first day (sessions started, assessments taken), in the school's zone")] = None,
                end: Annotated[QueryDate | None, Query(alias="to", description="the last day, included")] = None) -> Chosen:
    seasons = terms.parse(settings.school_terms)
    today = clock.now().astimezone(ZoneInfo(settings.default_timezone)).date()
    term = term or None
    if term is not None:
        found = terms.find(term, seasons)
        if found is None:
            raise Invalid(f"no term {term!r}: give a year and one of {', '.join(s[0] for s in seasons)}, e.g. {today.year}-{seasons[-1][0]}",
                          code="unknown-term", errors=[{"loc": ["query", "term"], "msg": "unknown term"}])
        if start or end:
            raise Invalid("give a term or days from / to, not both", code="term-and-days",
                          errors=[{"loc": ["query", "term"], "msg": "a term or days, not both"}])
        days = terms.Range(found.start, found.end)
    else:
        if start and end and end < start:
            raise Invalid("the days end before they start", code="days-reversed", errors=[{"loc": ["query", "to"], "msg": "before from"}])
        days = terms.Range(start, end)
    return Chosen(None, term, start, end, days, settings.default_timezone, terms.recent(today, seasons))


Days = Annotated[Chosen, Depends(chosen_days)]


def chosen(days: Days, department: Annotated[str | None, Query(max_length=32, description="a department's code: its people and sub-departments")] = None) -> Chosen:
    return replace(days, department=department or None)


Choice = Annotated[Chosen, Depends(chosen)]
