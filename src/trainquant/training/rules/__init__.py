"""Pure training rules: who may enrol (eligibility), how an enrolment moves between states (places:
seats and a FIFO waiting list), trainer and venue clashes (bookings), mandatory enrolment and
assessment scales. Standard library only; the time is a parameter. Callers use ``rules.<name>``;
each name lives in the module of its capability."""

from __future__ import annotations

from trainquant.training.rules.assessments import (
    OffScale,
    Rating,
    Result,
    Scale,
    Scored,
    scale_error,
    score_assessment,
)
from trainquant.training.rules.base import (
    Refused,
    name_key,
)
from trainquant.training.rules.bookings import (
    Booking,
    same_trainer,
    trainer_clash,
    venue_clash,
)
from trainquant.training.rules.eligibility import (
    Candidate,
    Eligibility,
    Failure,
    eligibility_failures,
)
from trainquant.training.rules.mandatory import (
    Opening,
    ProgramEnrolment,
    free_of,
    mandatory_due_date,
    mandatory_need,
    pick_session,
)
from trainquant.training.rules.places import (
    ACTIONS,
    ACTIVE,
    APPROVED,
    CANCELLED,
    CLAIMS_A_PLACE,
    NEEDS_REASON,
    REJECTED,
    REQUESTED,
    SEAT,
    SYSTEM,
    TRANSITIONS,
    WAITLISTED,
    Actor,
    Change,
    Place,
    SessionState,
    act,
    apply_changes,
    cancel_session,
    promotions,
    resize,
    waiting_list,
)

__all__ = [
    "ACTIONS",
    "ACTIVE",
    "APPROVED",
    "CANCELLED",
    "CLAIMS_A_PLACE",
    "NEEDS_REASON",
    "REJECTED",
    "REQUESTED",
    "SEAT",
    "SYSTEM",
    "TRANSITIONS",
    "WAITLISTED",
    "Actor",
    "Booking",
    "Candidate",
    "Change",
    "Eligibility",
    "Failure",
    "OffScale",
    "Opening",
    "Place",
    "ProgramEnrolment",
    "Rating",
    "Refused",
    "Result",
    "Scale",
    "Scored",
    "SessionState",
    "act",
    "apply_changes",
    "cancel_session",
    "eligibility_failures",
    "free_of",
    "mandatory_due_date",
    "mandatory_need",
    "name_key",
    "pick_session",
    "promotions",
    "resize",
    "same_trainer",
    "scale_error",
    "score_assessment",
    "trainer_clash",
    "venue_clash",
    "waiting_list",
]
