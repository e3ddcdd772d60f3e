"""An online program's videos: our own media uploaded by HR, or a third party's content mapped by its
activity id. Use cases only; the pages and the demo call them."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.errors import Conflict, Invalid, NotFound
from trainquant.learning.media import media_folder, new_name, probe
from trainquant.learning.models import CourseVideo, OnlineCourse
from trainquant.learning.xapi.formats import is_iri
from trainquant.training.models import AssessmentKind, Program

MAX_SPEEDS = (1.0, 1.25, 1.5, 2.0)


class VideoIdTaken(Conflict):
    title = "Activity id taken"
    type_slug = "video-activity-taken"


def _checked(title: str, max_speed: float) -> str:
    title = title.strip()
    if not title or len(title) > 120:
        raise Invalid("a video needs a title of at most 120 characters", code="video-title")
    if max_speed not in MAX_SPEEDS:
        raise Invalid(f"the speed limit is one of {', '.join(f'{s:g}' for s in MAX_SPEEDS)}", code="video-speed")
    return title


def _next_position(db: Session, program_id: int) -> int:
    return (db.scalar(select(func.max(CourseVideo.position)).where(CourseVideo.program_id == program_id)) or 0) + 1


def add_uploaded_video(
    db: Session, program: Program, *, title: str, upload: Path, instance: Path, home_page: str,
    max_speed: float = 2.0, no_skipping: bool = True, now: datetime,
) -> CourseVideo:
    """Keep ``upload`` (a temporary file) as the program's next video, its length measured from it."""
    title = _checked(title, max_speed)
    facts = probe(upload)
    name = new_name(facts.kind)
    shutil.copyfile(upload, media_folder(instance) / name)
    video = CourseVideo(
        program_id=program.id, position=_next_position(db, program.id), title=title,
        activity_id=f"{home_page}learning/videos/{name.split('.')[0]}", length_s=facts.length_s,
        max_speed=max_speed, no_skipping=no_skipping, media_file=name, media_type=facts.media_type, created_at=now,
    )
    db.add(video)
    db.flush()
    return video


def add_external_video(
    db: Session, program: Program, *, title: str, activity_id: str, length_s: float,
    max_speed: float = 2.0, now: datetime,
) -> CourseVideo:
    """Map a third-party player's video (its statements carry ``activity_id``) into the program. Its
    length is what HR states from the content itself."""
    title = _checked(title, max_speed)
    if not is_iri(activity_id):
        raise Invalid(f"the activity id is an IRI (what the player's statements carry as object.id), not {activity_id!r}", code="video-activity")
    if not 0 < length_s <= 24 * 3600:
        raise Invalid("the length is between 1 second and 24 hours", code="video-length")
    if db.scalar(select(CourseVideo.id).where(CourseVideo.activity_id == activity_id)) is not None:
        raise VideoIdTaken(f"{activity_id} is already a course video")
    video = CourseVideo(program_id=program.id, position=_next_position(db, program.id), title=title, activity_id=activity_id,
                        length_s=length_s, max_speed=max_speed, no_skipping=False, created_at=now)
    db.add(video)
    db.flush()
    return video


def video_in(db: Session, program: Program, position: int) -> CourseVideo:
    video = db.scalar(select(CourseVideo).where(CourseVideo.program_id == program.id, CourseVideo.position == position))
    if video is None:
        raise NotFound(f"program {program.code} has no video {position}", code="video-not-found")
    return video


def set_quiz(db: Session, program: Program, *, kind: str | None, activity_id: str | None) -> OnlineCourse:
    """The program's quiz: an assessment kind scored in points (its pass mark decides), and optionally
    the activity id of an external quiz whose scored statements become assessments of that kind."""
    if kind is not None:
        found = db.get(AssessmentKind, kind)
        if found is None or found.scale != "score":
            raise Invalid(f"{kind!r} is not an assessment kind scored in points", code="quiz-kind")
    if activity_id is not None and (kind is None or not is_iri(activity_id)):
        raise Invalid("an external quiz needs a kind and an activity id (an IRI)", code="quiz-activity")
    course = db.get(OnlineCourse, program.id) or OnlineCourse(program_id=program.id)
    course.quiz_kind, course.quiz_activity_id = kind, activity_id
    db.add(course)
    db.flush()
    return course
