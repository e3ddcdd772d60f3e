"""What the indicator pages show and read: rule sentences, labels, and the add/edit form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from trainquant.errors import Invalid
from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _
from trainquant.indicators.metrics import CHOICE_NAMES, METRICS
from trainquant.org.tags import tag_name

OPERATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}
FIELDS = (
    "code", "module_code", "name", "name_en", "metric", "param", "aggregation", "window_days", "window_kind", "program_kinds",
    "program_codes", "operator", "threshold", "unit", "weight", "effective_from", "note",
)


class RuleLike(Protocol):
    name: str
    name_en: str
    metric: str
    aggregation: str
    window_days: int
    window_kind: str
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


def what_phrase(aggregation: str, metric: str = "") -> str:
    """Which value of the window counts: for assessments the attempt rule (latest, best, mean)."""
    spec = METRICS.get(metric)
    if spec is not None and spec.attempts:
        rules = {"last": _("latest attempt"), "max": _("best attempt"), "min": _("worst attempt"), "avg": _("mean of the attempts")}
        if aggregation in rules:
            return rules[aggregation]
    phrases = {
        "sum": _("total"), "avg": _("average"), "max": _("highest"), "min": _("lowest"), "last": _("latest"),
        "count": _("number"), "change": _("change"),
    }
    return phrases[aggregation]


def when_phrase(window_kind: str, days: int) -> str:
    phrases = {
        "days": _("in the last %(days)s days"),
        "term": _("in this term"),
        "year": _("in this calendar year"),
        "since_training": _("in the %(days)s days after the latest training"),
    }
    return phrases[window_kind] % {"days": days}


def window_phrase(aggregation: str, days: int, window_kind: str = "days", metric: str = "") -> str:
    """E.g. "近 365 天最近一次" / "latest attempt in the last 365 days"; a change compares with the period
    before (the previous term, year, or the days before the training)."""
    return _("%(what)s %(when)s") % {"what": what_phrase(aggregation, metric), "when": when_phrase(window_kind, days)}


def window_label(window_kind: str) -> str:
    labels = {
        "days": _("The last n days"), "term": _("This term"), "year": _("This calendar year"),
        "since_training": _("n days after the latest training"),
    }
    return labels[window_kind]


def window_detail(v: RuleLike) -> str:
    """The window as the detail page states it, with what a change is compared with."""
    base = {
        "days": _("The %(n)s days up to the period end"),
        "term": _("The school term the period end is in, from its first day"),
        "year": _("The calendar year of the period end, from 1 January"),
        "since_training": _("The %(n)s days from the person's latest training of the counted programs whose %(n)s days have passed (in the year before the period end)"),
    }[v.window_kind] % {"n": v.window_days}
    if v.aggregation != "change":
        return base
    before = {
        "days": _("against the %(n)s days before"), "term": _("against the term before"), "year": _("against the year before"),
        "since_training": _("against the %(n)s days before the training"),
    }[v.window_kind] % {"n": v.window_days}
    return f"{base}, {before}"


def programs_phrase(programs: Mapping[str, Any] | None, kind_name: Any = None) -> str:
    """The counted programs in words; ``kind_name`` names a department kind in the reader's language."""
    if not programs:
        return _("Every program")
    parts = []
    if programs.get("target_kinds"):
        names = [kind_name(k) if kind_name else k for k in programs["target_kinds"]]
        parts.append(_("programs for %(kinds)s") % {"kinds": " / ".join(names)})
    if programs.get("tags_any"):
        parts.append(_("tagged %(tags)s") % {"tags": " / ".join(tag_name(t) for t in programs["tags_any"])})
    if programs.get("codes"):
        parts.append(_("the programs %(codes)s") % {"codes": ", ".join(programs["codes"])})
    return "; ".join(parts)


def aggregation_label(aggregation: str) -> str:
    labels = {
        "sum": _("Total"), "avg": _("Average"), "max": _("Highest"), "min": _("Lowest"), "last": _("Latest"),
        "count": _("Count"), "change": _("Change"),
    }
    return labels[aggregation]


def rule_sentence(v: RuleLike, locale: str) -> str:
    """E.g. "试讲评分 ≥ 85 分 (近 365 天最近一次)" / "Trial-lecture score ≥ 85 points (latest attempt in the last 365 days)"."""
    return (
        f"{localized(v.name, v.name_en, locale)} {OPERATOR_SIGNS[v.operator]} {fmt(v.threshold)} {unit_label(v.unit)}"
        f" ({window_phrase(v.aggregation, v.window_days, v.window_kind, v.metric)})"
    )


REASON_TEXTS = {
    "no-source": N_("No source feeds this metric yet."),
    "incomplete": N_("The definition is incomplete (no exam chosen): save a new version that names one."),
    "no-facts": N_("Nothing to count in the window: no session of the counted programs, no assessment of this kind, no figure."),
    "no-baseline": N_("No value before to measure a change from."),
    "zero-baseline": N_("The value before was 0: no change in percent can be formed."),
    "no-training": N_("No training of the counted programs in the year before the period end."),
    "window-open": N_("The days after the latest training have not all passed yet."),
}


def reason_text(reason: str | None) -> str:
    return _(REASON_TEXTS[reason]) if reason in REASON_TEXTS else ""


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
    programs = v.programs or {}
    return {
        "name": v.name, "name_en": v.name_en, "metric": v.metric, "param": param, "aggregation": v.aggregation,
        "window_days": str(v.window_days), "window_kind": v.window_kind, "program_kinds": list(programs.get("target_kinds") or ()),
        "program_codes": ", ".join(programs.get("codes") or ()), "program_tags": list(programs.get("tags_any") or ()),
        "operator": v.operator, "threshold": fmt(v.threshold, 6), "unit": v.unit, "weight": fmt(v.weight, 6), "effective_from": "", "note": "",
    }


def body_from_form(form: Mapping[str, Any], *, create: bool, kinds: list[str] | None = None, tags: list[str] | None = None) -> dict[str, Any]:
    """The form's filled fields as an API body; the one parameter goes under the metric's own name, and
    the counted programs (``kinds``: the ticked department kinds; codes typed, comma-separated; ``tags``:
    kept as they were, the page does not edit them) under ``programs``."""
    data: dict[str, Any] = {k: v.strip() for k, v in form.items() if k in FIELDS and isinstance(v, str) and v and v.strip()}
    param = data.pop("param", None)
    spec = METRICS.get(data.get("metric", ""))
    data["params"] = {spec.param: param} if spec and spec.param and param else {}
    data.pop("program_kinds", None)
    codes = [c.strip() for c in data.pop("program_codes", "").replace("，", ",").split(",") if c.strip()]
    data["programs"] = {k: v for k, v in (("target_kinds", kinds or []), ("codes", codes), ("tags_any", tags or [])) if v}
    if not create:
        data.pop("code", None)
        data.pop("module_code", None)
    return data


def field_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc") or ()]
        field = "param" if loc[:1] == ["params"] else "program_codes" if loc[:1] == ["programs"] else (loc[0] if loc else "_form")
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
        elif field.startswith("programs."):
            field = "program_codes" if field == "programs.codes" else "program_kinds"
            text = _("No program has this code.") if code == "unknown" and field == "program_codes" else _("Choose one of the options.")
        elif code == "not-allowed":
            text = _("This aggregation does not fit the metric.")
        elif code == "exam-scale":
            text = _("An IELTS change is in bands, a TOEFL change in points.")
        elif code == "business-window":
            text = _("Business changes are already read around the latest training: use the last n days.")
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
