"""A department's indicator results as an xlsx workbook, in the reader's language."""

from __future__ import annotations

from openpyxl import Workbook

from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _
from trainquant.sheets import add_sheet, workbook_bytes

RESULT_STATUSES = {"met": N_("Met"), "not_met": N_("Not met"), "no_data": N_("No data")}


def indicator_results_xlsx(stored: list, names: dict, *, english: bool) -> bytes:
    """One row per person and indicator (their latest evaluation): what the department's page counts."""
    wb = Workbook(write_only=True)
    rows = []
    for r in sorted(stored, key=lambda r: (names[r.evaluation.employee_id].employee_no, r.indicator.code)):
        emp = names[r.evaluation.employee_id]
        rows.append([emp.employee_no, emp.name, r.indicator.code, (r.version.name_en or r.version.name) if english else r.version.name,
                     _(RESULT_STATUSES[r.evaluation.status]) if r.evaluation.status in RESULT_STATUSES else r.evaluation.status,
                     r.evaluation.value, r.evaluation.threshold, r.evaluation.period_end])
    add_sheet(wb, N_("Indicator results"), (N_("Employee no."), N_("Name"), N_("Indicator code"), N_("Indicator"), N_("Status"), N_("Value"),
                                            N_("Threshold"), N_("Period end")), rows)
    return workbook_bytes(wb)
