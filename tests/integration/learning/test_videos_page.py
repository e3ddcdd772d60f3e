"""HR adds course videos: an upload measured from the file, a file that is no video refused with the
reason, a third party's video mapped by its activity id; the media served to the learner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import NOW, login, make_user
from trainquant.learning.media import encode_demo_video
from trainquant.learning.models import CourseVideo
from trainquant.training.models import Program


@pytest.fixture
def program(db):
    program = Program(code="ONL2", title="线上课程", kind="online", created_at=NOW)
    db.add(program)
    db.flush()
    return program


@pytest.fixture
def instance(tmp_path, settings):
    settings.instance_dir = tmp_path
    return tmp_path


def test_hr_uploads_a_video_and_its_length_comes_from_the_file(client, db, program, instance, learner, tmp_path):
    make_user(db, username="hr1", role="hr")
    csrf = login(client, "hr1")
    clip = tmp_path / "clip.webm"
    encode_demo_video(clip, seconds=12)
    r = client.post("/training/programs/ONL2/videos", data={"csrf_token": csrf, "title": "第一讲", "max_speed": "1.5", "no_skipping": "on"},
                    files={"file": ("clip.webm", clip.read_bytes(), "video/webm")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    video = db.scalar(select(CourseVideo).where(CourseVideo.program_id == program.id))
    assert video.length_s == pytest.approx(12.0, abs=0.3) and video.max_speed == 1.5 and video.no_skipping
    assert (instance / "media" / video.media_file).read_bytes() == clip.read_bytes()
    served = client.get(f"/learning/media/{video.id}", headers={"Range": "bytes=0-99"})
    assert served.status_code == 206 and served.content == clip.read_bytes()[:100]

    bad = client.post("/training/programs/ONL2/videos", data={"csrf_token": csrf, "title": "坏文件", "max_speed": "2"},
                      files={"file": ("notes.mp4", b"not a video at all", "video/mp4")}, params={"lang": "zh_CN"})
    assert bad.status_code == 422 and "无法读取该视频文件" in bad.text
    assert db.scalar(select(CourseVideo.id).where(CourseVideo.title == "坏文件")) is None


def test_hr_maps_another_systems_video(client, db, program, instance):
    make_user(db, username="hr1", role="hr")
    csrf = login(client, "hr1")
    form = {"csrf_token": csrf, "kind": "external", "title": "外部课件", "activity_id": "https://vendor.example/course/7/video/1",
            "length_min": "10", "max_speed": "2"}
    assert client.post("/training/programs/ONL2/videos", data=form, files={"file": ("", b"", "application/octet-stream")},
                       follow_redirects=False).status_code == 303
    video = db.scalar(select(CourseVideo).where(CourseVideo.program_id == program.id))
    assert video.length_s == 600 and video.media_file is None
    again = client.post("/training/programs/ONL2/videos", data=form, files={"file": ("", b"", "application/octet-stream")})
    assert again.status_code == 409


def test_a_learner_cannot_manage_videos(client, db, program, learner):
    make_user(db, username="huang", role="employee", employee=learner)
    login(client, "huang")
    assert client.get("/training/programs/ONL2/videos").status_code == 403
