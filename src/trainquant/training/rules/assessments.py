"""Assessment scales and scoring: a result on its kind's scale, or why not. Pure: standard library only; the time is a parameter."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from trainquant.training.rules.base import Refused, name_key


@dataclass(frozen=True)
class Scale:
    code: str
    scale: str  # score | pass_fail | ratio
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    step: Decimal | None = None
    pass_mark: Decimal | None = None
    higher_is_better: bool = True
    multiple_raters: bool = False


@dataclass(frozen=True)
class Rating:
    rater: str
    score: Decimal


@dataclass(frozen=True)
class Result:
    score: Decimal | None = None
    ratings: tuple[Rating, ...] = ()
    passed: bool | None = None
    errors: int | None = None
    operations: int | None = None


@dataclass(frozen=True)
class Scored:
    score: Decimal | None
    passed: bool | None


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class OffScale:
    code: str  # score-not-a-number | score-out-of-range | score-below-minimum | score-off-step
    message: str
    params: dict


def scale_error(kind: Scale, value: Decimal) -> OffScale | None:
    """Why ``value`` is not on the kind's scale, or None when it is."""
    try:
        if not value.is_finite():
            return OffScale("score-not-a-number", "must be a number", {})
        low, high = kind.min_value, kind.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            if high is not None:
                bounds = {"low": _plain(low or Decimal(0)), "high": _plain(high)}
                return OffScale("score-out-of-range", "must be between {low} and {high}".format(**bounds), bounds)
            minimum = _plain(low or Decimal(0))
            return OffScale("score-below-minimum", f"must be at least {minimum}", {"low": minimum})
        if kind.step is not None and (value - (low or Decimal(0))) % kind.step != 0:
            return OffScale("score-off-step", f"must be in steps of {_plain(kind.step)}", {"step": _plain(kind.step)})
    except InvalidOperation:
        return OffScale("score-not-a-number", "must be a number on the scale", {})
    return None


def _bad(message: str, field: str, code: str, params: dict | None = None) -> Refused:
    return Refused("invalid", message, field=field, code=code, params=params)


def score_assessment(kind: Scale, result: Result) -> Scored:
    """Validate a result against its kind's scale; the score (raters averaged) and whether it passed."""
    has_counts = result.errors is not None or result.operations is not None
    if kind.scale == "pass_fail":
        if result.score is not None or result.ratings or has_counts:
            raise _bad(f"{kind.code} is pass/fail: give passed true or false, not a score", "score", "pass-fail-no-score")
        if result.passed is None:
            raise _bad(f"{kind.code} needs passed: true or false", "passed", "needs-passed")
        return Scored(None, result.passed)
    if kind.scale == "ratio":
        if result.score is not None or result.ratings:
            raise _bad(f"{kind.code} is computed from errors and operations; give those, not a score", "score", "ratio-no-score")
        if result.errors is None or result.operations is None:
            raise _bad(f"{kind.code} needs errors and operations", "errors" if result.errors is None else "operations", "needs-errors-operations")
        if result.operations < 1:
            raise _bad("operations must be at least 1", "operations", "operations-min")
        if not 0 <= result.errors <= result.operations:
            raise _bad("errors must be between 0 and the number of operations", "errors", "errors-exceed-operations")
        score = (Decimal(result.errors) / Decimal(result.operations)).quantize(Decimal("0.000001"))
    else:
        if has_counts:
            raise _bad("only an error rate takes errors and operations", "errors", "counts-not-taken")
        if result.ratings:
            if not kind.multiple_raters:
                raise _bad(f"{kind.code} has one rater: give score, not ratings", "ratings", "one-rater")
            if result.score is not None:
                raise _bad("give either score or ratings, not both", "score", "score-or-ratings")
            names = [name_key(r.rater) for r in result.ratings]
            if len(set(names)) != len(names):
                raise _bad("each rater may rate once", "ratings", "rater-once")
            for i, r in enumerate(result.ratings):
                if (error := scale_error(kind, r.score)) is not None:
                    raise _bad(f"{kind.code} rating {error.message}", f"ratings.{i}.score", error.code, error.params)
            score = (sum((r.score for r in result.ratings), Decimal(0)) / len(result.ratings)).quantize(Decimal("0.01"))
        else:
            if result.score is None:
                raise _bad(f"{kind.code} needs a score", "score", "needs-score")
            if (error := scale_error(kind, result.score)) is not None:
                raise _bad(f"{kind.code} score {error.message}", "score", error.code, error.params)
            score = result.score
    passed = result.passed
    if passed is None and kind.pass_mark is not None:
        passed = score >= kind.pass_mark if kind.higher_is_better else score <= kind.pass_mark
    return Scored(score, passed)
