"""Online programs completed: the training record, the quiz's assessments, and the outbox event.

A program is complete for a person when every one of its videos is (learning/rules.py: 100% with at
most a second missing at the ends) and, when it has a quiz, an assessment of the quiz's kind reached
that kind's pass mark. An external quiz (an authoring tool posting to the LRS) has its ``passed`` /
``failed`` / ``completed`` statements with a score turned into assessments of that kind, once each.
The sweep (jobs: every minute) looks at the people with statements stored lately; a completion is
recorded once and published once (``training.completed``, the same event attended sessions give).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.integrations.outbox.service import publish
from trainquant.learning.models import CourseVideo, OnlineCompletion, OnlineCourse, XapiStatement
from trainquant.learning.service import complete_by_blocks, course_progress, load_events
from trainquant.learning.video import plays_and_seeks
from trainquant.org.models import Employee
from trainquant.training.models import Assessment, AssessmentKind, Program

ADL = "http://adlnet.gov/expapi/verbs/"
SCORED_VERBS = (ADL + "passed", ADL + "failed", ADL + "completed")
EVIDENCE = "xapi:"  # an assessment made from a statement names it: "xapi:<statement id>"


@dataclass(frozen=True)
class SweepResult:
    assessments: int
    completions: int


def _score(result: dict, kind: AssessmentKind) -> float | None:
    """A statement's score on the kind's scale: ``scaled`` (0..1) stretched over the kind's range, else
    ``raw`` placed by its own min and max, else ``raw`` as it is."""
    score: dict = result["score"] if isinstance(result.get("score"), dict) else {}
    lo, hi = kind.min_value if kind.min_value is not None else 0.0, kind.max_value
    if isinstance(score.get("scaled"), int | float) and hi is not None:
        return lo + max(0.0, float(score["scaled"])) * (hi - lo)
    raw = score.get("raw")
    if not isinstance(raw, int | float):
        return None
    if isinstance(score.get("min"), int | float) and isinstance(score.get("max"), int | float) and score["max"] > score["min"] and hi is not None:
        return lo + (float(raw) - score["min"]) / (score["max"] - score["min"]) * (hi - lo)
    return float(raw)


def quiz_statements_to_assessments(db: Session, *, now: datetime, tz: ZoneInfo) -> int:
    made = 0
    for course, kind in db.execute(select(OnlineCourse, AssessmentKind).join(AssessmentKind, AssessmentKind.code == OnlineCourse.quiz_kind)
                                   .where(OnlineCourse.quiz_activity_id.is_not(None))).all():
        s = XapiStatement
        rows = db.execute(select(s.statement_id, s.employee_id, s.stored, s.document).where(
            s.activity_id == course.quiz_activity_id, s.verb_id.in_(SCORED_VERBS), s.employee_id.is_not(None), s.voided.is_(False))).all()
        done = set(db.scalars(select(Assessment.evidence).where(Assessment.evidence.in_([EVIDENCE + r[0] for r in rows])))) if rows else set()
        for sid, employee_id, stored, document in rows:
            if EVIDENCE + sid in done:
                continue
            result = orjson.loads(document).get("result") or {}
            score = _score(result, kind)
            if score is None:
                continue
            passed = result.get("success") if isinstance(result.get("success"), bool) else (
                score >= kind.pass_mark if kind.pass_mark is not None else None)
            db.add(Assessment(employee_id=employee_id, kind_code=kind.code, program_id=course.program_id, assessed_on=stored.astimezone(tz).date(),
                              score=round(score, 2), passed=passed, evidence=EVIDENCE + sid, created_by="lrs", created_at=now))
            made += 1
    db.flush()
    return made


def _quiz_scores(db: Session, course: OnlineCourse | None, program_id: int, employee_ids: Sequence[int]) -> dict[int, float]:
    """The best passing score of each person on the program's quiz (a quiz may be retaken)."""
    if course is None or course.quiz_kind is None:
        return {}
    kind = db.get(AssessmentKind, course.quiz_kind)
    if kind is None:
        return {}
    best: dict[int, float] = {}
    q = select(Assessment.employee_id, Assessment.score, Assessment.passed).where(
        Assessment.kind_code == kind.code, Assessment.employee_id.in_(employee_ids), Assessment.score.is_not(None))
    for employee_id, score, passed in db.execute(q):
        if score is None:
            continue
        ok = passed if passed is not None else (kind.pass_mark is not None and score >= kind.pass_mark)
        if ok and score > best.get(employee_id, float("-inf")):
            best[employee_id] = score
    return best


def record_completions(db: Session, *, now: datetime, since: datetime | None = None) -> int:
    """Completions of the people with video statements stored since ``since`` (everyone when None)."""
    made = 0
    for program in db.scalars(select(Program).where(Program.id.in_(select(CourseVideo.program_id).distinct()))):
        videos = list(db.scalars(select(CourseVideo).where(CourseVideo.program_id == program.id)))
        activities = [v.activity_id for v in videos]
        course = db.get(OnlineCourse, program.id)
        # Whoever watched lately, or whose quiz result came lately (an external quiz's statement, HR's record).
        watched = [*activities, *([course.quiz_activity_id] if course is not None and course.quiz_activity_id else [])]
        q = select(XapiStatement.employee_id).distinct().where(XapiStatement.activity_id.in_(watched), XapiStatement.employee_id.is_not(None))
        if since is not None:
            q = q.where(XapiStatement.stored >= since)
        candidates = {e for e in db.scalars(q) if e is not None}
        if course is not None and course.quiz_kind is not None and since is not None:
            candidates |= set(db.scalars(select(Assessment.employee_id).where(Assessment.kind_code == course.quiz_kind, Assessment.created_at >= since)))
        known = set(db.scalars(select(OnlineCompletion.employee_id).where(OnlineCompletion.program_id == program.id)))
        # Only those whose every video the blocks show complete are looked at one by one: the minute
        # sweep's candidates are mostly people halfway through.
        people = sorted(complete_by_blocks(db, videos, [e for e in candidates if e not in known]))
        if not people:
            continue
        scores = _quiz_scores(db, course, program.id, people)
        progress = course_progress(db, program.id, people)
        events = load_events(db, people, activities)
        numbers = dict(db.execute(select(Employee.id, Employee.employee_no).where(Employee.id.in_(people))).all())
        for employee_id in people:
            p = progress[employee_id]
            if not p.complete or (course is not None and course.quiz_kind is not None and employee_id not in scores):
                continue
            plays, _ = plays_and_seeks(events.get(employee_id, []))
            completed_at = max((pl.wall_end for pl in plays), default=now)
            seconds = sum(v.coverage.watched for v in p.videos)
            db.add(OnlineCompletion(program_id=program.id, employee_id=employee_id, completed_at=completed_at, watched_seconds=seconds,
                                    study_seconds=p.study_seconds, quiz_score=scores.get(employee_id), recorded_at=now))
            publish(db, "training.completed", f"training.completed:online:{program.id}:{employee_id}", {
                "employee_no": numbers[employee_id], "program_code": program.code, "program_title": program.title, "session_code": None,
                "online": True, "study_minutes": round(p.study_seconds / 60, 1), "quiz_score": scores.get(employee_id),
                "completed_at": completed_at.isoformat(),
            }, occurred_at=completed_at, now=now)
            made += 1
    db.flush()
    return made


def sweep(db: Session, *, now: datetime, tz: ZoneInfo, lookback: timedelta = timedelta(days=2)) -> SweepResult:
    """The minute sweep's part: external quiz results first (a completion may wait for them)."""
    assessments = quiz_statements_to_assessments(db, now=now, tz=tz)
    return SweepResult(assessments, record_completions(db, now=now, since=now - lookback))
