"""Program and trainer searches match ``%`` and ``_`` literally."""

from __future__ import annotations

from tests.integration.training.conftest import make_program, make_session
from trainquant.pagination import PageParams
from trainquant.training.programs.service import ProgramFilter, list_programs
from trainquant.training.sessions.service import SessionFilter, session_query


def test_program_and_trainer_search_escape_like_wildcards(db):
    plain = make_program(db, code="IELTS", title="雅思写作")
    make_program(db, code="TOP_10", title="十佳课堂")
    make_session(db, program=plain, trainer="张老师")
    make_session(db, program=plain, trainer="50% 王老师", sequence=2)

    programs, _ = list_programs(db, ProgramFilter(q="_"), PageParams())
    assert [p.code for p in programs] == ["TOP_10"]
    programs, _ = list_programs(db, ProgramFilter(q="%"), PageParams())
    assert programs == []
    sessions = db.scalars(session_query(db, SessionFilter(trainer="%"))).unique().all()
    assert [s.trainer for s in sessions] == ["50% 王老师"]
