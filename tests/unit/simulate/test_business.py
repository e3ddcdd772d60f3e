"""The simulated business year: its planted effects are what the isolated effect recovers, and its
season is what the naive change adds. Cells are built here straight from the items, sharing nothing
with the store's loading path."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from trainquant.analytics.impact import estimate
from trainquant.analytics.impact.rules import Cell, Design, naive, period_of, sample
from trainquant.simulate.attendance.generate import generate_checkins
from trainquant.simulate.business.generate import generate_business, peak
from trainquant.simulate.institution.school import generate
from trainquant.simulate.training.generate import generate_training


@pytest.fixture(scope="module")
def world():
    school = generate(2026, today=date(2026, 12, 1))
    year = generate_training(school)
    stream = generate_checkins(school, year)
    return school, generate_business(school, year, stream)


def _fit(school, business, items, who, when, value, kind):
    d = Design()
    index = {e.employee_no: i for i, e in enumerate(school.employees)}
    owner = {(s, x): e.employee_no for e in school.employees for s, x in e.external_ids}
    cells = []
    for it in items:
        v, w = value(it)
        if w > 0:
            cells.append(Cell(index[owner[who(it)]], period_of(datetime.fromisoformat(when(it)), d), v, w))
    people = {index[no]: business.truth.trained_at.get(no) for no, k in business.truth.kind_of.items() if k == kind}
    s = sample(cells, people, d)
    return s, estimate.did2s(s), naive(s, d)


def test_every_person_of_each_kind_has_a_year_of_weeks(world):
    school, business = world
    teachers = sum(1 for e in school.employees if dict(e.external_ids).get("teaching_platform"))
    consultants = sum(1 for e in school.employees if dict(e.external_ids).get("crm"))
    assert len(business.teaching) == 52 * teachers
    # The CRM holds a year and a half: new orders year on year need the same weeks a year before.
    assert len(business.crm) == 78 * consultants and len({it["id"] for it in business.crm}) == len(business.crm)
    assert all(s["value"] >= 80 * 0.5 * ops["value"] for it in business.oa for ops, s in [(it["stats"][0], it["stats"][3])])
    assert all(it["leads"] >= it["deals"] >= 0 for it in business.crm)
    assert all(it["renewals"]["due"] >= it["renewals"]["renewed"] >= 0 for it in business.teaching)
    assert peak(datetime.fromisoformat("2026-08-03T00:00:00+08:00")) == 1.0 and peak(datetime.fromisoformat("2026-04-06T00:00:00+08:00")) == 0.0


def test_the_isolated_effects_cover_the_planted_ones(world):
    school, business = world
    p = business.truth.planted
    since = business.truth.measured_since
    number = [e.employee_no for e in school.employees]

    def conversion(unit: int) -> float:  # the sales training before the school measured it was weaker
        return p.conversion if business.truth.trained_at[number[unit]] >= since else p.conversion_before_measuring

    teaching = ("teaching_platform", lambda i: i["teacher"]["id"], lambda i: i["week"]["start"])
    cases = [
        (business.teaching, teaching, lambda i: (i["ratings"]["overall"], 1), "teaching", p.rating),
        (business.teaching, teaching, lambda i: (i["ratings"]["interaction"], 1), "teaching", 1.2 * p.rating),
        (business.teaching, teaching, lambda i: (i["renewals"]["renewed"] / i["renewals"]["due"], i["renewals"]["due"]), "teaching", p.retention),
        (business.crm, ("crm", lambda i: i["owner"], lambda i: i["period"][0]), lambda i: (i["deals"] / i["leads"] if i["leads"] else 0, i["leads"]),
         "marketing", conversion),
        (business.oa, ("oa", lambda i: i["staff_id"], lambda i: i["from"]),
         lambda i: (i["stats"][2]["value"] / i["stats"][0]["value"], i["stats"][0]["value"]), "admin", 0.05 * p.error_rate_share),
    ]
    for items, (system, who, when), value, kind, planted in cases:
        s, e, n = _fit(school, business, items, lambda i, who=who, system=system: (system, who(i)), when, value, kind)
        assert e is not None and n is not None
        assert s.trained >= 25
        if callable(planted):  # per person: the truth of the whole is its mean over the treated cells, as they weigh
            rows = s.treated_rows
            planted = sum(planted(r.unit) * r.weight for r in rows) / sum(r.weight for r in rows)
        assert e.low <= planted <= e.high, (kind, planted, e)
