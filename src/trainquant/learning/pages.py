"""The learner's online courses (我的线上课程) and HR's view of one online program (线上学习情况)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.auth.permissions import Principal
from trainquant.deps import ReadSession, require
from trainquant.errors import NotFound
from trainquant.learning.models import CourseVideo, XapiStatement
from trainquant.learning.service import CourseProgress, course_progress
from trainquant.org.models import Employee
from trainquant.training.models import Program
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Learner = Annotated[Principal, require("xapi:statements/write")]
Reader = Annotated[Principal, require("reports:read")]


def _online_programs(db: Session) -> list[Program]:
    with_videos = select(CourseVideo.program_id).distinct()
    return list(db.scalars(select(Program).where(Program.id.in_(with_videos), Program.active.is_(True)).order_by(Program.code)))


@router.get("/my/learning")
def my_learning(request: Request, db: ReadSession, principal: Learner):
    rows: list[tuple[Program, CourseProgress]] = []
    if principal.employee_id is not None:
        for program in _online_programs(db):
            rows.append((program, course_progress(db, program.id, [principal.employee_id])[principal.employee_id]))
    return render(request, "learning/my.html", {"rows": rows, "linked": principal.employee_id is not None})


@router.get("/training/programs/{code}/learning")
def program_learning(request: Request, code: str, db: ReadSession, principal: Reader):
    program = db.scalar(select(Program).where(Program.code == code))
    if program is None:
        raise NotFound(f"no program {code!r}", code="program-not-found")
    activities = select(CourseVideo.activity_id).where(CourseVideo.program_id == program.id)
    learners = [e for e in db.scalars(select(XapiStatement.employee_id).distinct().where(XapiStatement.activity_id.in_(activities))) if e is not None]
    people = {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_(learners)))}
    visible = [e for e in learners if principal.scope.allows(department_id=people[e].department_id, employee_id=e)]
    progress = course_progress(db, program.id, visible) if visible else {}
    rows = sorted(((people[e], progress[e]) for e in visible), key=lambda r: (-r[1].ratio, r[0].employee_no))
    return render(request, "learning/program.html", {"program": program, "rows": rows,
                                                      "complete": sum(1 for _, p in rows if p.complete)})
