"""What the indicator pages show and read: rule sentences, labels, and the add/edit form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from trainquant.errors import Invalid
from trainquant.i18n import gettext_ as _
from trainquant.indicators.metrics import CHOICE_NAMES, METRICS

OPERATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}
FIELDS = (
    "code", "module_code", "name", "name_en", "metric", "param", "aggregation", "window_days", "operator",
    "threshold", "unit", "weight", "effective_from", "note",
)


class RuleLike(Protocol):
    name: str
    name_en: str
    aggregation: str
    window_days: int
    operator: str
    threshold: float
    unit: str


def fmt(value: float | None, digits: int = 2) -> str:
    """85.0 -> "85", 0.5 -> "0.5", 14.2857 -> "14.29"; None -> "—"."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def localized(name: str, name_en: str | None, locale: str) -> str:
    return name_en if locale == "en" and name_en else name


def unit_label(unit: str) -> str:
    labels = {
        "h": _("hours"), "score": _("points"), "%": "%", "pp": _("percentage points"), "band": _("band"),
        "count": _("times"), "min": _("minutes"), "CNY": _("CNY"),
    }
    return labels.get(unit, unit)


def window_phrase(aggregation: str, days: int) -> str:
    phrases = {
        "sum": _("total over the last %(days)s days"),
        "avg": _("average over the last %(days)s days"),
        "max": _("highest in the last %(days)s days"),
        "min": _("lowest in the last %(days)s days"),
        "last": _("latest in the last %(days)s days"),
        "count": _("number in the last %(days)s days"),
        "change": _("change over the last %(days)s days"),
    }
    return phrases[aggregation] % {"days": days}


def aggregation_label(aggregation: str) -> str:
    labels = {
        "sum": _("Total"), "avg": _("Average"), "max": _("Highest"), "min": _("Lowest"), "last": _("Latest"),
        "count": _("Count"), "change": _("Change"),
    }
    return labels[aggregation]


def rule_sentence(v: RuleLike, locale: str) -> str:
    """E.g. "试讲评分 ≥ 85 分 (近 90 天最高)" / "Trial-lecture score ≥ 85 points (highest in the last 90 days)"."""
    return (
        f"{localized(v.name, v.name_en, locale)} {OPERATOR_SIGNS[v.operator]} {fmt(v.threshold)} {unit_label(v.unit)}"
        f" ({window_phrase(v.aggregation, v.window_days)})"
    )


def metric_name(code: str, locale: str) -> str:
    spec = METRICS.get(code)
    return localized(spec.name, spec.name_en, locale) if spec else code


def choice_name(code: str, locale: str, extra: Mapping[str, tuple[str, str]] | None = None) -> str:
    names = (extra or {}).get(code) or CHOICE_NAMES.get(code)
    return localized(names[0], names[1], locale) if names else code


def status_label(status: str) -> str:
    return {"met": _("Met"), "not_met": _("Not met"), "no_data": _("No data yet")}.get(status, status)


# ---------------------------------------------------------------- the add / edit form


def form_from_version(v: Any) -> dict[str, str]:
    spec = METRICS.get(v.metric)
    param = (v.params or {}).get(spec.param, "") if spec and spec.param else ""
    return {
        "name": v.name, "name_en": v.name_en, "metric": v.metric, "param": param, "aggregation": v.aggregation,
        "window_days": str(v.window_days), "operator": v.operator, "threshold": fmt(v.threshold, 6), "unit": v.unit,
        "weight": fmt(v.weight, 6), "effective_from": "", "note": "",
    }


def body_from_form(form: Mapping[str, str], *, create: bool) -> dict[str, Any]:
    """The form's filled fields as an API body; the one parameter goes under the metric's own name."""
    data: dict[str, Any] = {k: v.strip() for k, v in form.items() if k in FIELDS and v and v.strip()}
    param = data.pop("param", None)
    spec = METRICS.get(data.get("metric", ""))
    data["params"] = {spec.param: param} if spec and spec.param and param else {}
    if not create:
        data.pop("code", None)
        data.pop("module_code", None)
    return data


def field_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc") or ()]
        field = "param" if loc[:1] == ["params"] else (loc[0] if loc else "_form")
        kind = error.get("type", "")
        if kind in ("missing", "string_too_short"):
            text = _("This field is required.")
        elif kind == "string_too_long":
            text = _("This text is too long.")
        elif kind == "string_pattern_mismatch":
            text = _("Use lower-case letters, digits and _ only.")
        elif kind == "literal_error":
            text = _("Choose one of the options.")
        elif kind.startswith("date"):
            text = _("Enter a date as YYYY-MM-DD.")
        elif field == "window_days":
            text = _("Enter a whole number of days, at least 1.")
        elif kind.startswith(("float", "int", "greater", "less", "finite")):
            text = _("Enter a number in the allowed range.")
        elif field == "metric":
            text = _("Unknown metric.")
        else:
            text = _("This value is not valid.")
        out.setdefault(field if field in FIELDS else "_form", text)
    return out


def problem_errors(exc: Invalid) -> dict[str, str]:
    """The service's field problems as form messages."""
    out: dict[str, str] = {}
    for e in exc.errors:
        field, code = e.get("field") or "_form", e.get("code") or ""
        if field.startswith("params."):
            field = "param"
            text = {"required": _("This metric needs a parameter."), "unknown-param": _("This metric takes no parameter.")}.get(
                code, _("Choose one of the options.")
            )
        elif code == "not-allowed":
            text = _("This aggregation does not fit the metric.")
        elif code == "too-early":
            text = _("A new version cannot apply before the current one.")
        elif code == "unchanged":
            text = _("Nothing changed: change at least one part of the rule.")
        elif field == "module_code":
            text = _("Unknown module.")
        else:
            text = _("This value is not valid.")
        out.setdefault(field if field in FIELDS else "_form", text)
    return out
