"""The case table as an xlsx workbook and as a PDF, in the reader's language.

The PDF is WeasyPrint's layout of a print template: Pango shapes the Chinese text with the system's
CJK fonts (Debian's ``fonts-noto-cjk``, installed by the setup step). It never fetches anything: the
template's one stylesheet comes from the package's static folder, and any other URL is refused
rather than downloaded.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from openpyxl import Workbook

from trainquant.analytics.case import COHORTS, PERIODS, YEAR, CaseTable, Line
from trainquant.analytics.impact.service import EffectReport
from trainquant.i18n import current_locale
from trainquant.i18n import gettext_ as _
from trainquant.sheets import add_sheet, workbook_bytes


def _kind(kind: str) -> str:
    return {"teaching": _("Teachers"), "marketing": _("Marketing"), "admin": _("Administration")}.get(kind, kind)


def _number(d, v: float | None) -> float | None:
    """A metric's value as its unit reads: a rate in percent, everything else as it is."""
    if v is None:
        return None
    return round(v * 100, 2) if d.unit == "ratio" else round(v, 4)


def _bcr(rep) -> Decimal | None:
    return None if rep is None else rep.roi.conservative.bcr


def _english() -> bool:
    return current_locale.get() == "en"


def _label(d) -> str:
    return d.label_en if _english() else d.label


def _title(p) -> str:
    if p is None:
        return ""
    return p.title_en if _english() and p.title_en else p.title


def _status(e: EffectReport) -> str:
    status = {"credible": _("Credible"), "inconclusive": _("Not distinguishable from zero"), "pre-trend": _("Trends differed before training"),
              "insufficient": _("Not enough data")}.get(e.finding.status, e.finding.status)
    shared = [_("%(people)s of %(trained)s also took %(program)s meanwhile") % {"people": o.people, "trained": e.sample.trained, "program": o.program}
              for o in e.overlaps]
    return "; ".join([status, *shared])


def _line(line: Line) -> list[Any]:
    if line.basis == PERIODS:
        change = None if line.before is None or line.after is None else round((line.after - line.before) * 100, 2)
        return [_kind(line.kind), _("Training participation"), "", "%",
                None if line.before is None else round(line.before * 100, 2), None if line.after is None else round(line.after * 100, 2),
                change, None, None, None, _("a period's figure, not a training's effect")]
    if line.basis == YEAR:
        change = None if not line.before or line.after is None else round((line.after / line.before - 1) * 100, 2)
        return [_kind(line.kind), _("New orders year on year"), "", "CNY", None if line.before is None else round(line.before, 2),
                None if line.after is None else round(line.after, 2), change, None, None, None,
                _("no records for the same weeks a year before") if line.before is None else _("the later period against the same weeks a year before (change in percent)")]
    if line.basis == COHORTS:
        return [_kind(line.kind), _("Training ROI (conservative)"), _title(line.program), ": 1", _bcr(line.roi_before), _bcr(line.roi_after),
                None, None, None, None, _("Cohorts trained before and after the first day measured")]
    e = line.effect
    if e is None:
        why = _("No program has trained these people yet.") if line.program else _("No program sets out to move this figure yet (a program's aims).")
        return [_kind(line.kind), line.key, "", "", None, None, None, None, None, None, why]
    d = e.metric
    n, est = e.naive, e.estimate
    return [_kind(line.kind), _label(d), _title(line.program), "%" if d.unit == "ratio" else d.unit,
            _number(d, n.before if n else None), _number(d, n.after if n else None), _number(d, n.change if n else None),
            _number(d, est.effect if est else None), _number(d, est.low if est else None), _number(d, est.high if est else None), _status(e)]


def xlsx(table: CaseTable, sections: list[dict]) -> bytes:
    wb = Workbook(write_only=True)
    heads = (_("Staff kind"), _("Figure"), _("Program"), _("Unit"), _("Before"), _("After"), _("Change"), _("Isolated effect"),
             _("Interval, low"), _("Interval, high"), _("Credibility"))
    add_sheet(wb, _("Case"), heads, [_line(line) for line in table.lines])
    rows = []
    for section in sections:
        for row in section["rows"]:
            for e in row["effects"]:
                rows.append(_line(Line(section["kind"], e.metric.key, "training", row["program"], e.metric, effect=e)))
    add_sheet(wb, _("Programs"), heads, rows)
    p = table.periods
    add_sheet(wb, _("Periods"), (_("Period"), _("From"), _("To")),
           [[_("Before"), p.days[0], p.days[1]], [_("After"), p.days[2], p.days[3]],
            [_("Days before and after training"), table.design.pre_days, table.design.post_days]])
    return workbook_bytes(wb)


STATIC = Path(__file__).resolve().parents[1] / "web" / "static"


def pdf(html: str) -> bytes:
    # Imported on use: WeasyPrint loads Pango, which only this export needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class StaticOnly(URLFetcher):
        """Files of the package's static folder; anything else (a network address above all) is refused."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme != "file" or not Path(unquote(parsed.path)).resolve().is_relative_to(STATIC):
                raise ValueError(f"the case PDF reads only its own static files, not {url}")
            return super().fetch(url, headers)

    out = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=StaticOnly(allowed_protocols={"file"})).write_pdf()
    assert out is not None
    return out
