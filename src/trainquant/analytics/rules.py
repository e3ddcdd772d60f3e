"""Pure aggregation of the training effect report: enrolment outcomes, attendance, assessment results and
indicator shares. Plain facts in, frozen figures out; "now" is already folded into each fact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

APPROVED, REJECTED, WAITLISTED, REQUESTED, CANCELLED = "approved", "rejected", "waitlisted", "requested", "cancelled"
MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"


@dataclass(frozen=True)
class EnrolmentFact:
    employee_id: int
    session_id: int
    program_id: int
    status: str
    session_over: bool  # the session has ended and was not cancelled
    min_participation: float
    participation: float | None = None  # from an attendance record, when there is one


@dataclass(frozen=True)
class AssessmentFact:
    employee_id: int
    kind: str
    score: float | None
    passed: bool | None


@dataclass(frozen=True)
class IndicatorFact:
    employee_id: int
    indicator: str
    status: str


@dataclass(frozen=True)
class Participation:
    enrolled: int  # every enrolment record, whatever became of it
    approved: int
    rejected: int
    waitlisted: int
    requested: int
    cancelled: int
    completed: int  # approved places in sessions that are over
    attended: int
    measured: int  # of the completed, those with an attendance record
    participation: float | None  # mean participation of the measured, 0..1

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.completed if self.completed else None


@dataclass(frozen=True)
class KindStats:
    kind: str
    count: int
    mean: float | None
    min: float | None
    max: float | None
    judged: int  # results with a pass/fail verdict
    passed: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.judged if self.judged else None


@dataclass(frozen=True)
class IndicatorShare:
    indicator: str
    met: int
    not_met: int
    no_data: int

    @property
    def share_met(self) -> float | None:
        judged = self.met + self.not_met
        return self.met / judged if judged else None


def attended(f: EnrolmentFact) -> bool:
    """An approved place in a session that is over; with an attendance record, only at the session's minimum."""
    if f.status != APPROVED or not f.session_over:
        return False
    return f.participation is None or f.participation >= f.min_participation


def participation(facts: Iterable[EnrolmentFact]) -> Participation:
    facts = list(facts)
    count: defaultdict[str, int] = defaultdict(int)
    for f in facts:
        count[f.status] += 1
    completed = [f for f in facts if f.status == APPROVED and f.session_over]
    measured = [f.participation for f in completed if f.participation is not None]
    return Participation(
        enrolled=len(facts), approved=count[APPROVED], rejected=count[REJECTED], waitlisted=count[WAITLISTED],
        requested=count[REQUESTED], cancelled=count[CANCELLED], completed=len(completed),
        attended=sum(1 for f in completed if attended(f)), measured=len(measured),
        participation=sum(measured) / len(measured) if measured else None,
    )


def assessment_stats(facts: Iterable[AssessmentFact]) -> tuple[KindStats, ...]:
    by_kind: dict[str, list[AssessmentFact]] = defaultdict(list)
    for f in facts:
        by_kind[f.kind].append(f)
    out = []
    for kind in sorted(by_kind):
        rows = by_kind[kind]
        scores = [r.score for r in rows if r.score is not None]
        verdicts = [r.passed for r in rows if r.passed is not None]
        out.append(KindStats(
            kind=kind, count=len(rows), mean=sum(scores) / len(scores) if scores else None,
            min=min(scores) if scores else None, max=max(scores) if scores else None,
            judged=len(verdicts), passed=sum(1 for v in verdicts if v),
        ))
    return tuple(out)


def pass_rate(stats: Iterable[KindStats]) -> float | None:
    stats = list(stats)
    judged = sum(s.judged for s in stats)
    return sum(s.passed for s in stats) / judged if judged else None


def indicator_shares(facts: Iterable[IndicatorFact]) -> tuple[IndicatorShare, ...]:
    count: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in facts:
        count[f.indicator][f.status] += 1
    return tuple(IndicatorShare(i, c[MET], c[NOT_MET], c[NO_DATA]) for i, c in count.items())


def histogram(values: Iterable[float], *, low: float, high: float, bins: int) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over [low, high]; the top edge belongs to the last bin."""
    counts = [0] * bins
    width = (high - low) / bins
    for v in values:
        if low <= v <= high:
            counts[min(int((v - low) / width), bins - 1)] += 1
    return counts
