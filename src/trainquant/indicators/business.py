"""Business-metric facts for indicators such as "student-rating lift >= 5%" or "30-day conversion lift
>= 8 points": a person's metric before and after their latest training, from the metric store.

Each training gives two facts, read by the indicator's "change" aggregation (from the first to the
second): one dated on the training day, one on the last day of the post window. Two kinds:

- ``business_metric`` (naive): their pooled value over the 30 days before, then over the 30 after
  (the source's "10% -> 18%": whatever else happened meanwhile included);
- ``business_effect`` (isolated): what the imputation (did2s's first stage: everyone's person and
  period effects, fitted where nobody was treated) says their post window would have averaged
  without the training, then what it did average. The season and the trend are in both, so the change
  is the person's own effect of the training.

Rates are in percent (a conversion of 0.10 is 10), so a change in points is percentage points. The
training counted is the person's latest whose post window has ended by the period's end.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from trainquant.analytics.impact import estimate
from trainquant.analytics.impact import rules as impact
from trainquant.analytics.impact.service import design_for, program_sample, trainings
from trainquant.indicators.rules import Fact
from trainquant.integrations.metrics.rules import DEFINITIONS, RATIO

# The indicator vocabulary's names for the metric store's keys.
STORE_KEYS = {"student_rating": "teaching.rating.overall", "conversion_rate": "crm.conversion_rate", "process_time": "oa.minutes_per_operation",
              "orders": "crm.conversions", "order_value": "crm.order_amount", "retention_rate": "teaching.retention"}
NAIVE, ISOLATED = "business_metric", "business_effect"


class BusinessFacts:
    name = "business"
    kinds = frozenset({NAIVE, ISOLATED})

    def __init__(self, zone: str = "Asia/Shanghai", *, pre_days: int = 30, post_days: int = 30):
        self.zone, self.pre_days, self.post_days = ZoneInfo(zone), pre_days, post_days
        # A program's per-person figures cover its whole comparison pool, whichever chunk of people an
        # evaluation asks about: kept for the chunks of one evaluation, which share its session (and
        # go with it), per period end.
        self._cache: weakref.WeakKeyDictionary[Session, dict[tuple[datetime, int, str], dict[str, dict[int, tuple[float, float]]]]] = \
            weakref.WeakKeyDictionary()

    def _latest_trainings(self, db: Session, employee_ids: Sequence[int], until: datetime) -> dict[int, tuple[int, datetime]]:
        """Employee -> (program, trained on) of their latest attended training whose post window ended by ``until``."""
        latest: dict[int, tuple[int, datetime]] = {}
        for eid, program_id, at in trainings(db, until=until - timedelta(days=self.post_days), employee_ids=employee_ids):
            if eid not in latest or at > latest[eid][1]:
                latest[eid] = (program_id, at)
        return latest

    def _figures(self, db: Session, program_id: int, key: str, kinds: frozenset[str], design: impact.Design,
                 until: datetime) -> dict[str, dict[int, tuple[float, float]]]:
        known = self._cache.setdefault(db, {}).setdefault((until, program_id, key), {})
        missing = sorted(kinds - set(known))
        if missing:
            s, _ = program_sample(db, program_id, DEFINITIONS[key], design=design, now=until)
            for kind in missing:
                if not s.trained:
                    known[kind] = {}
                else:
                    known[kind] = impact.person_naive(s, design) if kind == NAIVE else estimate.person_effects(s)
        return {k: known[k] for k in kinds}

    def load(self, db: Session, employee_ids: Sequence[int], *, start: date, end: date, kinds: frozenset[str]) -> Iterator[Fact]:
        until = datetime.combine(end + timedelta(days=1), time.min, self.zone).astimezone(UTC)
        latest = self._latest_trainings(db, employee_ids, until)
        if not latest:
            return
        design = design_for(self.zone.key, pre_days=self.pre_days, post_days=self.post_days)
        programs = sorted({p for p, _ in latest.values()})
        for name, key in STORE_KEYS.items():
            d = DEFINITIONS[key]
            scale = 100.0 if d.aggregation == RATIO else 1.0
            for program_id in programs:
                pairs = self._figures(db, program_id, key, kinds, design, until)
                for kind, by_person in pairs.items():
                    for eid, (before, after) in by_person.items():
                        if latest.get(eid, (None,))[0] != program_id:
                            continue
                        trained_on = latest[eid][1].astimezone(self.zone).date()
                        closed_on = trained_on + timedelta(days=self.post_days)
                        ref = f"{kind}:{key}:program:{program_id}"
                        if start <= trained_on <= end:
                            yield Fact(eid, kind, name, trained_on, before * scale, ref)
                        if start <= closed_on <= end:
                            yield Fact(eid, kind, name, closed_on, after * scale, ref)
