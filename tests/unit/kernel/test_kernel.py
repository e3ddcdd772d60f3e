from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from trainquant.config import Settings
from trainquant.db import Money, UTCDateTime
from trainquant.errors import Conflict, Invalid


def test_production_refuses_to_start_without_configured_secrets():
    with pytest.raises(ValueError, match="TQ_SECRET_KEY, TQ_ENCRYPTION_KEY must be configured"):
        Settings(env="production")
    with pytest.raises(ValueError, match="TQ_ENCRYPTION_KEY must be configured"):
        Settings(env="production", secret_key="s" * 40)
    ok = Settings(env="production", secret_key="s" * 40, encryption_key="ZmVybmV0LWtleS0zMi1ieXRlcy1sb25nLXh4eHh4eHg=")
    assert ok.env == "production"


def test_sqlite_path():
    assert str(Settings(database_url="sqlite:///./var/x.db").sqlite_path()) == "var/x.db"
    assert Settings(database_url="postgresql+psycopg://u@h/db").sqlite_path() is None


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False, allow_infinity=False))
def test_money_round_trips_exactly(value):
    t = Money()
    stored = t.process_bind_param(value, sqlite.dialect())
    assert isinstance(stored, int)
    assert t.process_result_value(stored, sqlite.dialect()) == value


def test_money_refuses_fractions_of_a_fen():
    with pytest.raises(ValueError):
        Money().process_bind_param(Decimal("1.005"), sqlite.dialect())


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)), st.integers(-14 * 60, 14 * 60))
def test_utc_datetime_round_trips_any_offset(naive, offset_min):
    aware = naive.replace(tzinfo=timezone(timedelta(minutes=offset_min)))
    t = UTCDateTime()
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        back = t.process_result_value(t.process_bind_param(aware, dialect), dialect)
        assert back == aware and back.tzinfo == UTC


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())


def test_problem_body():
    body = Invalid("bad date", errors=[{"row": 3, "column": "hire_date", "message": "x"}]).problem("/api/v1/x")
    assert body["status"] == 422 and body["errors"][0]["row"] == 3 and body["instance"] == "/api/v1/x"
    assert Conflict("dup", existing_id=4).problem()["existing_id"] == 4
