"""``trainquant indicators evaluate`` against its own database file."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import NOW
from trainquant.cli.main import app
from trainquant.db import make_sessionmaker, unit_of_work
from trainquant.indicators.models import Evaluation, EvaluationRun
from trainquant.org.models import Department, Employee
from trainquant.training.models import Assessment, AssessmentKind


@pytest.fixture
def cli_db(cli_engine):
    with unit_of_work(make_sessionmaker(cli_engine)) as db:
        dep = Department(code="TEACH", name="教学部", kind="teaching")
        db.add(dep)
        db.flush()
        emp = Employee(employee_no="T1", name="李雷", department_id=dep.id, status="active", created_at=NOW, updated_at=NOW)
        db.add(emp)
        if db.get(AssessmentKind, "trial_lecture") is None:  # seeded by the training migration
            db.add(AssessmentKind(code="trial_lecture", name="试讲", name_en="Trial lecture", scale="score", multiple_raters=True))
        db.flush()
        db.add(Assessment(employee_id=emp.id, kind_code="trial_lecture", assessed_on=date(2026, 9, 1), score=90, ratings=[], created_by="t", created_at=NOW))
    return cli_engine


def test_evaluate_stores_a_run(cli_db):
    result = CliRunner().invoke(app, ["indicators", "evaluate", "--period-end", "2026-09-30", "--kind", "teaching"])
    assert result.exit_code == 0, result.output
    assert "run 1 at 2026-09-30: 1 employees, 6 results" in result.output and "1 met" in result.output
    with make_sessionmaker(cli_db)() as db:
        assert db.scalar(select(func.count()).select_from(EvaluationRun)) == 1
        assert db.scalar(select(func.count()).select_from(Evaluation)) == 6


@pytest.mark.parametrize("args", [["--period-end", "2026-13-01"], ["--period-end", "2026-09-30", "--kind", "sales"]])
def test_bad_options_are_refused(cli_db, args):
    result = CliRunner().invoke(app, ["indicators", "evaluate", *args])
    assert result.exit_code == 2
