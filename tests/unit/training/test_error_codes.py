"""Refusals carry stable codes, and the pages translate codes, never message text."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from trainquant.errors import Conflict, DomainError, Forbidden, Invalid
from trainquant.i18n import current_locale
from trainquant.training import forms

TRAINING = Path(__file__).resolve().parents[3] / "src" / "trainquant" / "training"
# Codes that name a kind of error rather than a reason: the pages fall back to the message for them.
GENERIC = {"invalid", "conflict", "forbidden", "not-found"}
SAID_WITH_CONDITIONS = {"not-eligible"}  # forms._eligibility_text lists the conditions that failed


def _raised_codes(paths) -> set[str]:
    """Every literal code these modules can refuse with."""
    codes: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            for kw in node.keywords:
                if kw.arg == "code" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    codes.add(kw.value.value)
            positional = {"invalid": 2, "_bad": 2, "PydanticCustomError": 0, "OffScale": 0}.get(name)
            if positional is not None and len(node.args) > positional and isinstance(node.args[positional], ast.Constant):
                codes.add(node.args[positional].value)
    return codes


def test_every_code_the_training_domain_raises_has_words_in_the_catalogue():
    raised = _raised_codes(p for p in TRAINING.rglob("*.py") if "scheduling" not in p.parts)
    assert len(raised) > 40
    missing = sorted(raised - set(forms.CODE_TEXTS) - GENERIC - SAID_WITH_CONDITIONS)
    assert not missing, f"add these codes to training/forms.CODE_TEXTS: {missing}"


def test_every_code_the_slot_finder_raises_has_words_on_its_page():
    from trainquant.training.scheduling.pages import ERROR_TEXTS

    raised = _raised_codes((TRAINING / "scheduling").glob("*.py"))
    assert len(raised) >= 8
    assert not sorted(raised - set(ERROR_TEXTS) - GENERIC)


@pytest.fixture
def chinese():
    token = current_locale.set("zh_CN")
    yield
    current_locale.reset(token)


@pytest.mark.parametrize("err, field, expected", [
    (Invalid("whatever the wording", code="venue-not-in-site", errors=[{"field": "venue", "code": "venue-not-in-site", "message": "x"}]), "venue", "This venue is not in the chosen campus."),
    (Invalid("whatever the wording", code="offline-needs-site", errors=[{"field": "site_code", "code": "offline-needs-site", "message": "x"}]), "site_code", "An offline session needs a campus."),
    (Invalid("no employee here", code="unknown-employee", errors=[{"field": "trainer_employee_no", "code": "unknown-employee", "message": "x"}]), "trainer_employee_no", "Unknown employee no."),
])
def test_form_errors_follow_the_code_not_the_message(err, field, expected):
    assert forms.refusal_errors(err)[field] == forms._(expected)


@pytest.mark.parametrize("err, expected", [
    (Invalid("reworded: it began already", code="session-started"), "The session has already started."),
    (Conflict("reworded", code="already-enrolled"), "Already enrolled in this session."),
    (Forbidden("reworded", code="own-request"), "Nobody decides on their own request."),
    (Conflict("reworded", code="already-decided"), "This request has already been decided."),
])
def test_enrolment_refusals_follow_the_code(err, expected, chinese):
    text = forms.enrolment_refusal(err)
    assert text == forms._(expected) and text != expected  # translated, and not the English message


def test_score_off_the_scale_is_said_with_its_bounds(chinese):
    err = Invalid("x", code="score-out-of-range", errors=[{"field": "score", "code": "score-out-of-range", "message": "x", "params": {"low": "0", "high": "9"}}])
    assert forms.assessment_errors(err)["score"] == forms._("Must be between %(low)s and %(high)s.") % {"low": "0", "high": "9"}


def test_the_problem_body_carries_the_code():
    assert Invalid("x", code="session-started").problem()["code"] == "session-started"
    assert Conflict("x").problem()["code"] == "conflict"
    assert DomainError("x").code == "bad-request"
