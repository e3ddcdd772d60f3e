"""The learner's online courses (我的线上课程) and HR's view of one online program (线上学习情况)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.db import unit_of_work
from trainquant.deps import FORM_OVERHEAD, AppClock, AppSettings, CurrentPrincipal, DbSession, ReadSession, SubmittedForm, require
from trainquant.errors import DomainError, Forbidden, Invalid, NotFound, PayloadTooLarge
from trainquant.i18n import gettext_ as _
from trainquant.learning import courses
from trainquant.learning.media import media_folder
from trainquant.learning.models import CourseVideo, OnlineCompletion, OnlineCourse, XapiStatement
from trainquant.learning.service import BUCKETS, CourseProgress, course_progress, daily_study_seconds, dropoff, videos_of
from trainquant.org.models import Department, Employee
from trainquant.params import PathId
from trainquant.training.lookups import get_program
from trainquant.training.models import AssessmentKind, Program
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Learner = Annotated[Principal, require("xapi:statements/write")]
Reader = Annotated[Principal, require("reports:read")]
Manage = Annotated[Principal, require("training:manage")]


def _error_text(err: DomainError) -> str:
    texts = {
        "media-no-video": _("The file has no video in it."),
        "media-unreadable": _("The file is not a video that can be read."),
        "media-kind": _("Only mp4 and webm videos can be uploaded."),
        "media-no-length": _("The video's length cannot be read from the file."),
        "media-missing-file": _("Choose a video file (mp4 or webm)."),
        "video-title": _("Give the video a title of at most 120 characters."),
        "video-speed": _("Choose a speed limit from the list."),
        "video-activity": _("The activity id is the address the other player's statements carry as their object."),
        "video-length": _("The length is between 1 second and 24 hours."),
        "video-activity-taken": _("That activity is already a course video."),
        "quiz-kind": _("Choose an assessment kind scored in points for the quiz."),
        "quiz-activity": _("The quiz's activity id is the address its statements carry as their object."),
    }
    return texts.get(err.code, err.message)


def _online_programs(db: Session) -> list[Program]:
    with_videos = select(CourseVideo.program_id).distinct()
    return list(db.scalars(select(Program).where(Program.id.in_(with_videos), Program.active.is_(True)).order_by(Program.code)))


@router.get("/my/learning")
def my_learning(request: Request, db: ReadSession, principal: Learner):
    rows: list[tuple[Program, CourseProgress]] = []
    employee = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
    if employee is not None:
        kind = db.scalar(select(Department.kind).where(Department.id == employee.department_id))
        for program in _online_programs(db):
            progress = course_progress(db, program.id, [employee.id])[employee.id]
            # The programs meant for the learner's kind of department, and any other they started.
            if not program.target_kinds or kind in program.target_kinds or progress.course_seconds > 0:
                rows.append((program, progress))
    records = {r.program_id: r for r in db.scalars(select(OnlineCompletion).where(OnlineCompletion.employee_id == employee.id))} if employee else {}
    quizzes = {c.program_id: c for c in db.scalars(select(OnlineCourse).where(OnlineCourse.quiz_kind.is_not(None)))}
    return render(request, "learning/my.html", {"rows": rows, "linked": employee is not None, "records": records, "quizzes": quizzes})


@router.get("/training/programs/{code}/learning")
def program_learning(request: Request, code: str, db: ReadSession, principal: Reader):
    program = get_program(db, code)
    activities = select(CourseVideo.activity_id).where(CourseVideo.program_id == program.id)
    learners = [e for e in db.scalars(select(XapiStatement.employee_id).distinct().where(XapiStatement.activity_id.in_(activities))) if e is not None]
    people = {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_(learners)))}
    visible = [e for e in learners if principal.scope.allows(department_id=people[e].department_id, employee_id=e)]
    progress = course_progress(db, program.id, visible) if visible else {}
    rows = sorted(((people[e], progress[e]) for e in visible), key=lambda r: (-r[1].ratio, r[0].employee_no))
    records = dict(db.execute(select(OnlineCompletion.employee_id, OnlineCompletion.completed_at).where(
        OnlineCompletion.program_id == program.id)).all())
    curves = dropoff(db, program.id, visible) if visible else {}
    chart = {"labels": [f"{(b + 1) * 100 // BUCKETS}%" for b in range(BUCKETS)], "axis": _("position in the video"),
             "series": [{"name": v.title, "values": curves.get(v.id, [])} for v in videos_of(db, program.id)]}
    return render(request, "learning/program.html", {"program": program, "rows": rows, "records": records, "chart": chart,
                                                      "complete": sum(1 for _, p in rows if p.complete)})


@router.get("/learning/people/{employee_no}")
def person_learning(request: Request, employee_no: str, db: ReadSession, principal: CurrentPrincipal, settings: AppSettings):
    """A person's online learning history: every online program they watched, its record, and their
    study minutes day by day. Their own, or within the reader's data scope."""
    employee = db.scalar(select(Employee).where(Employee.employee_no == employee_no))
    if employee is None:
        raise NotFound(f"no employee {employee_no!r}", code="employee-not-found")
    own = principal.employee_id == employee.id
    if not own and not (principal.can("reports:read") and principal.scope.allows(department_id=employee.department_id, employee_id=employee.id)):
        raise Forbidden("this history is outside what you may see", code="learning-history-forbidden")
    started = set(db.scalars(select(CourseVideo.program_id).distinct().where(CourseVideo.activity_id.in_(
        select(XapiStatement.activity_id).where(XapiStatement.employee_id == employee.id)))))
    programs = [p for p in _online_programs(db) if p.id in started]
    records = {r.program_id: r for r in db.scalars(select(OnlineCompletion).where(OnlineCompletion.employee_id == employee.id))}
    today = datetime.now(ZoneInfo(settings.default_timezone)).date()
    days = daily_study_seconds(db, [employee.id], start=today - timedelta(days=365), end=today, zone=settings.default_timezone)
    return render(request, "learning/person.html", {
        "employee": employee, "records": records,
        "rows": [(p, course_progress(db, p.id, [employee.id])[employee.id]) for p in programs],
        "days": sorted(((day, seconds) for (_, day), seconds in days.items()), reverse=True),
    })


# ---------------------------------------------------------------- the player


@router.get("/my/learning/{code}/{position}")
def player(request: Request, code: str, position: PathId, db: ReadSession, principal: Learner, settings: AppSettings):
    """Our course player (static/js/player.js): it posts video-profile statements to the LRS as they happen."""
    program = get_program(db, code)
    video = courses.video_in(db, program, position)
    employee = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
    if employee is None:
        raise Forbidden("the player records an employee's own watching; this account is not linked to one", code="player-no-employee")
    if video.media_file is None:
        raise NotFound("this video is played by another system's player; open it there", code="video-external")
    videos = videos_of(db, program.id)
    return render(request, "learning/player.html", {
        "program": program, "video": video, "videos": videos, "employee": employee, "home": settings.home_page(),
        "session_id": str(uuid.uuid4()), "idle_ms": int(settings.learning_idle_minutes * 60_000),
    })


@router.get("/learning/media/{video_id}")
def media(video_id: PathId, db: ReadSession, principal: CurrentPrincipal, settings: AppSettings) -> FileResponse:
    if not (principal.can("xapi:statements/write") or principal.can("reports:read")):
        raise Forbidden("only learners and HR open course media", code="media-forbidden")
    video = db.get(CourseVideo, video_id)
    if video is None or video.media_file is None:
        raise NotFound(f"no video {video_id}", code="video-not-found")
    path = media_folder(settings.instance_folder()) / video.media_file
    if not path.is_file():
        raise NotFound("the video's file is missing from the media folder", code="media-missing")
    # FileResponse answers Range requests, so the browser can seek without loading the whole file.
    return FileResponse(path, media_type=video.media_type or "application/octet-stream")


# ---------------------------------------------------------------- HR: a program's videos


def _videos_page(request: Request, db: Session, program: Program, *, error: str | None = None, status_code: int = 200):
    return render(request, "learning/videos.html", {
        "program": program, "videos": videos_of(db, program.id), "speeds": courses.MAX_SPEEDS,
        "error": error, "done": request.query_params.get("done"), "course": db.get(OnlineCourse, program.id),
        "kinds": list(db.scalars(select(AssessmentKind).where(AssessmentKind.scale == "score").order_by(AssessmentKind.code))),
    }, status_code=status_code)


@router.post("/training/programs/{code}/quiz")
def set_quiz(request: Request, code: str, db: DbSession, principal: Manage, form: SubmittedForm):
    program = get_program(db, code)
    try:
        courses.set_quiz(db, program, kind=str(form.get("quiz_kind") or "") or None, activity_id=str(form.get("quiz_activity_id") or "").strip() or None)
    except DomainError as err:
        db.rollback()
        return _videos_page(request, db, program, error=_error_text(err), status_code=err.status)
    return RedirectResponse(f"/training/programs/{code}/videos?done=quiz", status_code=303)


@router.get("/training/programs/{code}/videos")
def program_videos(request: Request, code: str, db: ReadSession, principal: Manage):
    return _videos_page(request, db, get_program(db, code))


def _speed(raw: object) -> float:
    try:
        return float(str(raw))
    except ValueError:
        return 0.0


@router.post("/training/programs/{code}/videos")
async def upload_video(request: Request, code: str, principal: Manage, settings: AppSettings, clock: AppClock):
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.media_max_bytes + FORM_OVERHEAD:
        raise PayloadTooLarge(f"the upload is over {settings.media_max_bytes // (1024 * 1024)} MB")
    form = await request.form()
    return await run_in_threadpool(_store_upload, request, code, form, settings, clock.now())


def _store_upload(request: Request, code: str, form: FormData, settings: Settings, now: datetime):
    upload = form.get("file")
    with unit_of_work(request.app.state.sessionmaker) as db:
        program = get_program(db, code)
        try:
            if form.get("kind") == "external":
                length = _speed(form.get("length_min")) * 60
                courses.add_external_video(db, program, title=str(form.get("title", "")), activity_id=str(form.get("activity_id", "")).strip(),
                                           length_s=length, max_speed=_speed(form.get("max_speed")), now=now)
            elif isinstance(upload, UploadFile) and upload.filename:
                with tempfile.NamedTemporaryFile(suffix=Path(upload.filename).suffix) as temp:
                    shutil.copyfileobj(upload.file, temp)
                    temp.flush()
                    courses.add_uploaded_video(db, program, title=str(form.get("title", "")), upload=Path(temp.name),
                                               instance=settings.instance_folder(), home_page=settings.home_page(),
                                               max_speed=_speed(form.get("max_speed")), no_skipping=form.get("no_skipping") == "on", now=now)
            else:
                raise Invalid("choose a video file (mp4 or webm)", code="media-missing-file")
        except DomainError as err:
            db.rollback()
            return _videos_page(request, db, program, error=_error_text(err), status_code=err.status)
    return RedirectResponse(f"/training/programs/{code}/videos?done=added", status_code=303)
