"""Pure aggregation of the training effect report: enrolment outcomes, attendance, assessment results and
indicator shares. Plain facts in, frozen figures out; "now" is already folded into each fact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

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


def share_met(shares: Iterable[IndicatorShare]) -> float | None:
    """指标达标率: of the indicator results with a verdict, the share met (results without data are left out)."""
    shares = list(shares)
    judged = sum(s.met + s.not_met for s in shares)
    return sum(s.met for s in shares) / judged if judged else None


def histogram(values: Iterable[float], *, low: float, high: float, bins: int) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over [low, high]; the top edge belongs to the last bin."""
    counts = [0] * bins
    width = (high - low) / bins
    for v in values:
        if low <= v <= high:
            counts[min(int((v - low) / width), bins - 1)] += 1
    return counts


@dataclass(frozen=True)
class Allocation:
    by_program: dict[int, Decimal]  # program id -> the cost the chosen places carry, to the cent
    unallocated: Decimal  # of the costs in play, what no approved place carries (cancelled or empty sessions)


CENT = Decimal("0.01")


def allocate_costs(session_costs: Mapping[int, Decimal], program_costs: Mapping[int, Decimal], held: Mapping[int, int],
                   places: Mapping[int, int], chosen: Mapping[int, int], in_play: Iterable[int]) -> Allocation:
    """The part of the training costs a filtered report's places carry (a department's, a term's).

    A program-wide cost (design, a licence: no session of its own) is spread evenly over the program's
    held sessions, as the ROI report prorates it; each held session's cost, its own and its part of the
    program's, over the session's approved places, everyone's. The chosen places (``chosen``: session
    id -> approved places in the filter) carry their share. ``held``: held session id -> program id;
    ``places``: held session id -> approved places; ``in_play``: the sessions the filter covers, held
    or not, whose cost nobody may carry. Exact fractions until the end, so the departments of a school
    carry the whole cost between them, to the cent of each.
    """
    sessions_of: dict[int, int] = defaultdict(int)
    for program in held.values():
        sessions_of[program] += 1
    carried: dict[int, Fraction] = defaultdict(Fraction)
    lost = Fraction(0)
    for sid in set(in_play):
        own = Fraction(session_costs.get(sid, ZERO_MONEY))
        if sid not in held:  # cancelled: nobody was trained on what it cost
            lost += own
            continue
        program = held[sid]
        total = own + Fraction(program_costs.get(program, ZERO_MONEY)) / sessions_of[program]
        if not places.get(sid):
            lost += total
            continue
        carried[program] += total * chosen.get(sid, 0) / places[sid]
    return Allocation({p: _cents(v) for p, v in carried.items()}, _cents(lost))


ZERO_MONEY = Decimal("0.00")


def _cents(v: Fraction) -> Decimal:
    return (Decimal(v.numerator) / Decimal(v.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)
