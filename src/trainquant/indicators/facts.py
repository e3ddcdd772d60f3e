"""Fact sources: where indicator facts come from. Each source says which fact kinds it provides.

Assessments, attendance and the business metrics (``business.py``: ratings, conversion, process time
before and after a training) feed facts today; online learning (``LearningFacts``: online and study hours from the LRS) is one more; the
metric registry (``metrics.py``) names the fact kind every metric needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.attendance.models import AttendanceRecord
from trainquant.indicators.business import BusinessFacts
from trainquant.indicators.metrics import EXAM_KINDS
from trainquant.indicators.rules import TRAINED, Fact
from trainquant.learning.models import OnlineCompletion
from trainquant.learning.service import daily_program_study_seconds
from trainquant.training.models import Assessment, Program, TrainingSession

CHUNK = 2000  # employee ids per IN list: well under every backend's bind-parameter limit


class FactSource(Protocol):
    name: str
    kinds: frozenset[str]

    def load(self, db: Session, employee_ids: Sequence[int], *, start: date, end: date, kinds: frozenset[str]) -> Iterator[Fact]:
        """Facts of ``kinds`` (a subset of ``self.kinds``) dated ``start``..``end`` for these employees."""
        ...


class AssessmentFacts:
    """Scores, pass/fail, error rates and exam progress from recorded assessments."""

    name = "assessments"
    kinds = frozenset({"assessment_score", "assessment_passed", "error_rate", "exam_score_change"})

    def load(self, db: Session, employee_ids: Sequence[int], *, start: date, end: date, kinds: frozenset[str]) -> Iterator[Fact]:
        if kinds & {"assessment_score", "assessment_passed", "error_rate"}:
            yield from self._in_window(db, employee_ids, start=start, end=end, kinds=kinds)
        if "exam_score_change" in kinds:
            yield from self._exam_changes(db, employee_ids, start=start, end=end)

    def _in_window(self, db: Session, employee_ids: Sequence[int], *, start: date, end: date, kinds: frozenset[str]) -> Iterator[Fact]:
        a = Assessment
        rows = db.execute(
            select(a.id, a.employee_id, a.kind_code, a.assessed_on, a.score, a.passed, a.errors, a.operations).where(
                a.employee_id.in_(employee_ids), a.assessed_on >= start, a.assessed_on <= end
            )
        )
        for aid, emp, kind, on, score, passed, errors, operations in rows:
            ref = f"assessment:{aid}"
            if "assessment_score" in kinds and score is not None:
                yield Fact(emp, "assessment_score", kind, on, float(score), ref)
            if "assessment_passed" in kinds and passed is not None:
                yield Fact(emp, "assessment_passed", kind, on, 1.0 if passed else 0.0, ref)
            if "error_rate" in kinds:
                rate = _error_rate(kind, score, errors, operations)
                if rate is not None:
                    yield Fact(emp, "error_rate", kind, on, rate, ref)

    def _exam_changes(self, db: Session, employee_ids: Sequence[int], *, start: date, end: date) -> Iterator[Fact]:
        """One fact per pair of successive results of the same exam whose later result falls in the window,
        on the exam's own scale (IELTS bands, TOEFL points): the fact's key is the exam.

        The earlier result may lie before the window: it is the baseline the later one improved on.
        """
        a = Assessment
        rows = db.execute(
            select(a.id, a.employee_id, a.kind_code, a.assessed_on, a.score)
            .where(a.employee_id.in_(employee_ids), a.kind_code.in_(EXAM_KINDS), a.score.is_not(None), a.assessed_on <= end)
            .order_by(a.employee_id, a.kind_code, a.assessed_on, a.id)
        )
        previous: tuple | None = None
        for aid, emp, kind, on, score in rows:
            assert score is not None  # the query keeps scored results only
            if previous is not None and previous[1] == emp and previous[2] == kind and on >= start:
                change = score - previous[4]
                yield Fact(emp, "exam_score_change", kind, on, change, f"assessment:{previous[0]}→{aid}")
            previous = (aid, emp, kind, on, score)


def _error_rate(kind: str, score: float | None, errors: int | None, operations: int | None) -> float | None:
    if errors is not None and operations:
        return errors / operations
    if kind == "error_rate" and score is not None:
        return float(score)  # the kind's score is the ratio itself
    return None


class AttendanceFacts:
    """Attended hours, study hours and participation from the attendance figures of training sessions,
    each with its program; and the trainings attended (participation at least the session's minimum),
    from which a window "since the training" starts.

    Study hours are the hours really attended (not the hours enrolled); online courses add theirs
    through the learning source. Dated by the session's local day. A place in a held session gives a
    fact even when nobody came (0 h): no fact means no session of the program to attend.
    """

    name = "attendance"
    kinds = frozenset({"attended_hours", "study_hours", "participation_rate", TRAINED})

    def __init__(self, zone: str = "Asia/Shanghai"):
        self.zone = ZoneInfo(zone)

    def load(self, db: Session, employee_ids: Sequence[int], *, start: date, end: date, kinds: frozenset[str]) -> Iterator[Fact]:
        r, s, p = AttendanceRecord, TrainingSession, Program
        lo = datetime.combine(start - timedelta(days=1), time.min, UTC)
        hi = datetime.combine(end + timedelta(days=2), time.min, UTC)
        rows = db.execute(
            select(r.id, r.employee_id, r.attended_seconds, r.participation, s.starts_at, s.min_participation, p.code)
            .join(s, s.id == r.session_id)
            .join(p, p.id == s.program_id)
            .where(r.employee_id.in_(employee_ids), s.starts_at >= lo, s.starts_at < hi, s.status != "cancelled")
        )
        for rid, emp, seconds, participation, starts_at, minimum, program in rows:
            on = starts_at.astimezone(self.zone).date()
            if not (start <= on <= end):
                continue
            ref = f"attendance:{rid}"
            for kind in ("attended_hours", "study_hours"):
                if kind in kinds:
                    yield Fact(emp, kind, "", on, seconds / 3600, ref, program)
            if "participation_rate" in kinds:
                yield Fact(emp, "participation_rate", "", on, float(participation), ref, program)
            if TRAINED in kinds and participation >= minimum:
                yield Fact(emp, TRAINED, program, on, float(participation), ref, program)


class LearningFacts:
    """Online study hours from the LRS (learning/service.py): wall time really watching registered
    course videos, per program and local day a play began. They count as study hours too. An online
    program completed (every video watched through) is a training, dated by its completion."""

    name = "learning"
    kinds = frozenset({"online_hours", "study_hours", TRAINED})

    def __init__(self, zone: str = "Asia/Shanghai"):
        self.zone = zone

    def load(self, db: Session, employee_ids: Sequence[int], *, start: date, end: date, kinds: frozenset[str]) -> Iterator[Fact]:
        hours = sorted(kinds - {TRAINED})
        if hours:
            study = daily_program_study_seconds(db, employee_ids, start=start, end=end, zone=self.zone)
            for (emp, on, program), seconds in sorted(study.items()):
                ref = f"online:{emp}:{on.isoformat()}:{program}"
                for kind in hours:
                    yield Fact(emp, kind, "", on, seconds / 3600, ref, program)
        if TRAINED in kinds:
            tz = ZoneInfo(self.zone)
            c = OnlineCompletion
            rows = db.execute(
                select(c.id, c.employee_id, c.completed_at, Program.code).join(Program, Program.id == c.program_id).where(
                    c.employee_id.in_(employee_ids),
                    c.completed_at >= datetime.combine(start, time.min, tz), c.completed_at < datetime.combine(end + timedelta(days=1), time.min, tz),
                )
            )
            for cid, emp, at, program in rows:
                yield Fact(emp, TRAINED, program, at.astimezone(tz).date(), 1.0, f"online-completion:{cid}", program)


SOURCES: tuple[FactSource, ...] = (AssessmentFacts(), AttendanceFacts(), BusinessFacts(), LearningFacts())


def available_kinds(sources: Sequence[FactSource] = SOURCES) -> frozenset[str]:
    return frozenset().union(*(s.kinds for s in sources))


def load_facts(
    db: Session,
    employee_ids: Sequence[int],
    *,
    start: date,
    end: date,
    kinds: frozenset[str],
    sources: Sequence[FactSource] = SOURCES,
) -> list[Fact]:
    facts: list[Fact] = []
    ids = sorted(set(employee_ids))
    for source in sources:
        wanted = kinds & source.kinds
        if not wanted:
            continue
        for i in range(0, len(ids), CHUNK):
            facts.extend(source.load(db, ids[i : i + CHUNK], start=start, end=end, kinds=wanted))
    return facts
