"""What really is in the simulated school, kept beside the data it emits.

The platform never reads this: it sees only what the school's systems would record. Tests and the
demo compare the platform's figures with this truth (does the participation report find the people
who really skip? does the effect estimate recover the real uplift?). Later issues extend it with
attendance behaviour and business metrics; new fields get defaults so earlier code keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from trainquant.simulate.institution.structure import PeakPeriod

# The case school's "before" figures (MISSION R4) the latent attributes are calibrated to.
CASE_BEFORE: dict[str, dict[str, float]] = {
    "teaching": {"participation": 0.75, "rating": 4.3, "retention": 0.80},
    "marketing": {"conversion": 0.10, "training_roi": 2.0},
    "admin": {"error_rate": 0.05},
}
CASE_AFTER: dict[str, dict[str, float]] = {
    "teaching": {"participation": 0.92, "rating": 4.8, "retention": 0.88},
    "marketing": {"conversion": 0.18, "training_roi": 4.5, "new_orders_yoy": 0.25},
    "admin": {"error_rate": 0.0, "process_time_change": -0.20, "operating_cost_change": -0.10},
}


@dataclass(frozen=True)
class EmployeeTruth:
    employee_no: str
    kind: str  # teaching | marketing | admin
    skill: float  # latent competence in the job, 0..1
    attendance_propensity: float  # chance of turning up to a scheduled training, 0..1
    early_leave_propensity: float  # chance of leaving a session early once there, 0..1
    proxy_propensity: float  # chance of asking a colleague to sign in for them, 0..1
    training_response: float  # how much a relevant training really improves their outcomes, 0..1
    weaknesses: tuple[str, ...] = ()  # the real ones; growth notes record only some of them
    # teachers
    weekly_class_hours: float = 0.0
    student_rating: float | None = None  # 1..5, students' average rating
    retention_rate: float | None = None  # share of students who renew
    # marketing
    conversion_rate: float | None = None  # leads -> paying students
    monthly_leads: int | None = None
    # admin
    process_minutes: float | None = None  # minutes for one standard process (enrolment, refund ...)
    error_rate: float | None = None  # share of processes with an error


@dataclass(frozen=True)
class SchoolTruth:
    seed: int
    today: date
    term_start: date
    employees: dict[str, EmployeeTruth]
    peaks: tuple[PeakPeriod, ...]
    # Marketing has no timetable; its busiest days are weekends, when families visit and sit trial classes.
    marketing_peak_weekdays: tuple[int, ...] = (5, 6)
    case_before: dict[str, dict[str, float]] = field(default_factory=lambda: CASE_BEFORE)
    case_after: dict[str, dict[str, float]] = field(default_factory=lambda: CASE_AFTER)

    def of_kind(self, kind: str) -> list[EmployeeTruth]:
        return [t for t in self.employees.values() if t.kind == kind]
