"""Write the simulated online year: its programs and videos (one encoded lecture file serves every video,
all being four minutes), and its statements through the LRS's own storing path, as the school's LMS
sync (a client key) would send them. Loading twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.auth.models import ApiKey
from trainquant.auth.service import create_api_key
from trainquant.db import chunks
from trainquant.learning.lrs.statements import Writer, store_statements
from trainquant.learning.media import encode_demo_video, media_folder, probe
from trainquant.learning.models import CourseVideo, XapiStatement
from trainquant.simulate.learning.generate import LENGTH_S, OnlineYear
from trainquant.training.models import Program

LECTURE = "sim-lecture.webm"
KEY_NAME = "simulated-lms"


@dataclass
class OnlineLoad:
    programs: int = 0
    videos: int = 0
    statements: int = 0


def _lecture(instance: Path) -> str:
    path = media_folder(instance) / LECTURE
    if not path.exists():
        encode_demo_video(path, seconds=LENGTH_S)
    length = probe(path).length_s
    if abs(length - LENGTH_S) > 1e-3:
        raise RuntimeError(f"the encoded lecture is {length} s, not {LENGTH_S} s: the ground truth would not hold")
    return LECTURE


def load_online_year(db: Session, year: OnlineYear, *, instance: Path, home: str, now: datetime) -> OnlineLoad:
    loaded = OnlineLoad()
    media = _lecture(instance)
    for course in year.courses:
        program = db.scalar(select(Program).where(Program.code == course.code))
        if program is None:
            program = Program(code=course.code, title=course.title, title_en=course.title_en, kind="online", level="foundation",
                              target_kinds=[course.target_kind], planned_hours=len(course.videos) * LENGTH_S / 3600,
                              requires_approval=False, created_at=now)
            db.add(program)
            db.flush()
            loaded.programs += 1
        known = set(db.scalars(select(CourseVideo.activity_id).where(CourseVideo.program_id == program.id)))
        for v in course.videos:
            if v.activity_id not in known:
                db.add(CourseVideo(program_id=program.id, position=v.position, title=v.title, activity_id=v.activity_id,
                                   length_s=float(LENGTH_S), max_speed=course.max_speed, no_skipping=True, media_file=media,
                                   media_type="video/webm", created_at=now))
                loaded.videos += 1
    db.flush()
    ids = [s["id"] for s in year.statements]
    stored = set()
    for chunk in chunks(ids, 1000):
        stored |= set(db.scalars(select(XapiStatement.statement_id).where(XapiStatement.statement_id.in_(chunk))))
    pending = [s for s in year.statements if s["id"] not in stored]
    if not pending:
        return loaded
    key = db.scalar(select(ApiKey).where(ApiKey.name == KEY_NAME, ApiKey.revoked_at.is_(None)))
    if key is None:
        key, _ = create_api_key(db, name=KEY_NAME, scopes=["xapi:statements/write"], created_by="demo", now=now)
    writer = Writer(stored_by=f"apikey:{key.id}", home_page=home,
                    authority={"objectType": "Agent", "name": f"apikey:{KEY_NAME}", "account": {"homePage": home, "name": f"apikey:{KEY_NAME}"}})
    for batch in chunks(pending, 500):
        store_statements(db, list(batch), writer=writer, json_body=orjson.dumps(list(batch)), parts={}, now=now)
        loaded.statements += len(batch)
    return loaded
