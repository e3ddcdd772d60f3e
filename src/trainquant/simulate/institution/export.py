"""The simulated school as the xlsx files an HR office would keep, to try the import pages with."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from trainquant.simulate.institution.school import SimulatedSchool

EMPLOYEE_HEADERS = (
    "工号", "姓名", "部门", "岗位", "入职日期", "状态", "时薪", "上级工号", "校区", "标签",
    "考勤机编号", "企业微信ID", "钉钉ID", "飞书ID", "教学平台ID", "CRM编号", "OA编号",
)
EXTERNAL_COLUMNS = ("device_pin", "wecom", "dingtalk", "feishu", "teaching_platform", "crm", "oa")
TIMETABLE_HEADERS = ("工号", "星期", "开始时间", "结束时间", "课程", "校区", "生效日期", "失效日期", "日期")
STATUS_LABELS = {"active": "在职", "probation": "试用", "on_leave": "休假", "left": "离职"}
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
TAG_SEPARATOR = ","


def _sheet(wb: Workbook, title: str, headers: tuple[str, ...], widths: dict[int, int]) -> Worksheet:
    ws = wb.active  # each file holds one sheet
    ws.title = title
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for col, width in widths.items():
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    return ws


def write_employees(school: SimulatedSchool, path: Path) -> int:
    departments = {d.code: d.name for d in school.departments}
    sites = {s.code: s.name for s in school.sites}
    wb = Workbook()
    ws = _sheet(wb, "员工", EMPLOYEE_HEADERS, {2: 16, 3: 12, 4: 12, 5: 12, 9: 14, 10: 22, 12: 16, 13: 18})
    for row, e in enumerate(school.employees, start=2):
        ext = dict(e.external_ids)
        ws.append([
            e.employee_no, e.name, departments.get(e.department or "", e.department), e.position, e.hire_date,
            STATUS_LABELS[e.status], e.hourly_cost, e.manager_no, sites.get(e.site or "", e.site),
            TAG_SEPARATOR.join(e.tags), *(ext.get(system) for system in EXTERNAL_COLUMNS),
        ])
        ws.cell(row=row, column=5).number_format = "yyyy-mm-dd"
        ws.cell(row=row, column=7).number_format = "0.00"
    wb.save(path)
    return len(school.employees)


def write_timetable(school: SimulatedSchool, path: Path) -> int:
    sites = {s.code: s.name for s in school.sites}
    wb = Workbook()
    ws = _sheet(wb, "课表", TIMETABLE_HEADERS, {5: 22, 6: 14, 7: 12, 8: 12, 9: 12})
    rows = 0
    for s in school.slots:
        ws.append([s.employee_no, WEEKDAY_LABELS[s.weekday], s.start_time, s.end_time, s.course,
                   sites.get(s.site or "", s.site), s.valid_from, s.valid_to, None])
        rows += 1
        _formats(ws, rows + 1)
    for c in school.classes:
        ws.append([c.employee_no, None, c.start_time, c.end_time, c.course, sites.get(c.site or "", c.site), None, None, c.day])
        rows += 1
        _formats(ws, rows + 1)
    wb.save(path)
    return rows


def _formats(ws: Worksheet, row: int) -> None:
    for col in (3, 4):
        ws.cell(row=row, column=col).number_format = "hh:mm"
    for col in (7, 8, 9):
        ws.cell(row=row, column=col).number_format = "yyyy-mm-dd"


def write_files(school: SimulatedSchool, out: Path) -> dict[str, tuple[Path, int]]:
    out.mkdir(parents=True, exist_ok=True)
    employees = out / f"employees-seed{school.seed}.xlsx"
    timetable = out / f"timetable-seed{school.seed}.xlsx"
    return {
        "employees": (employees, write_employees(school, employees)),
        "timetable": (timetable, write_timetable(school, timetable)),
    }
