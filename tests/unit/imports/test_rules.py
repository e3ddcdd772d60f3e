"""Pure import rules: header mapping and cell parsing, table-driven, plus properties that must always hold."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.imports import rules
from trainquant.imports.rules import CellError
from trainquant.org.rules import (
    DatedClassRecord,
    EmployeeRecord,
    RowError,
    WeeklySlotRecord,
)

# ---------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "header,field",
    [
        ("工号", "employee_no"), ("员工编号", "employee_no"), ("employee_no", "employee_no"), (" Employee No ", "employee_no"),
        ("EMPLOYEE-NO", "employee_no"), ("工号*", "employee_no"), ("姓名", "name"), ("Name", "name"), ("部门", "department"),
        ("岗位", "position"), ("职位", "position"), ("入职日期", "hire_date"), ("hire date", "hire_date"), ("状态", "status"),
        ("时薪", "hourly_cost"), ("小时成本", "hourly_cost"), ("时薪（元）", "hourly_cost"), ("hourly_cost (CNY)", "hourly_cost"),
        ("上级工号", "manager_no"), ("校区", "site"), ("邮箱", "email"), ("E-mail", "email"), ("手机", "phone"), ("电话", "phone"),
        ("标签", "tags"), ("考勤机编号", "ext:device_pin"), ("设备PIN", "ext:device_pin"), ("ｄｅｖｉｃｅ＿ｐｉｎ", "ext:device_pin"),
        ("企业微信ID", "ext:wecom"), ("钉钉ID", "ext:dingtalk"), ("飞书ID", "ext:feishu"), ("教学平台ID", "ext:teaching_platform"),
        ("CRM编号", "ext:crm"), ("ｃｒｍ编号", "ext:crm"), ("OA编号", "ext:oa"), ("oa", "ext:oa"),
    ],
)
def test_employee_headers_in_chinese_and_english(header, field):
    columns, errors = rules.map_columns("employees", ["工号" if field != "employee_no" else header] + ([header] if field != "employee_no" else []))
    assert errors == []
    assert columns.fields[-1] == field


@pytest.mark.parametrize(
    "header,field",
    [("星期", "weekday"), ("weekday", "weekday"), ("开始时间", "start_time"), ("结束时间", "end_time"), ("课程", "course"),
     ("校区", "site"), ("生效日期", "valid_from"), ("失效日期", "valid_to"), ("日期", "date"), ("Start Time", "start_time")],
)
def test_timetable_headers(header, field):
    base = ["工号", "开始时间", "结束时间", "日期"]
    columns, _ = rules.map_columns("timetables", [*base, header] if header not in base else base)
    assert field in columns.fields


@pytest.mark.parametrize("kind", rules.KINDS)
def test_no_alias_names_two_fields(kind):
    seen: dict[str, str] = {}
    for field, aliases in rules.COLUMNS[kind].items():
        for alias in aliases:
            key = rules.normalise_header(alias)
            assert seen.setdefault(key, field) == field, f"{alias!r} names both {seen[key]} and {field}"


def test_unknown_duplicate_and_missing_columns_are_all_reported_on_the_header_row():
    columns, errors = rules.map_columns("employees", ["姓名", "入职日起", "name", None, "部门"], row=3)
    assert {(e.row, e.column, e.code) for e in errors} == {
        (3, "入职日起", "unknown-column"), (3, "name", "duplicate-column"), (3, None, "missing-column"),
    }
    assert "unknown column '入职日起'" in next(e.message for e in errors if e.code == "unknown-column")
    assert "工号" in next(e.message for e in errors if e.code == "missing-column")
    assert columns.fields == ("name", None, None, None, "department")


@pytest.mark.parametrize(
    "header,missing",
    [
        (["工号", "开始时间", "结束时间"], "星期"),  # neither weekday nor date
        (["工号", "星期", "开始时间", "结束时间"], "生效日期"),  # weekly classes need valid_from
        (["星期", "开始时间", "结束时间", "生效日期"], "工号"),
        (["工号", "日期", "开始时间"], "结束时间"),
    ],
)
def test_missing_timetable_columns_are_named(header, missing):
    _, errors = rules.map_columns("timetables", header)
    assert [e.code for e in errors] == ["missing-column"]
    assert missing in errors[0].message


def test_template_headers_are_the_first_aliases_and_map_back():
    for kind in rules.KINDS:
        headers = rules.template_headers(kind)
        columns, errors = rules.map_columns(kind, headers)
        assert errors == [] and None not in columns.fields
    assert rules.template_headers("employees")[:3] == ["工号", "姓名", "部门"]


# ---------------------------------------------------------------- cells


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, None), ("", None), ("  ", None), (date(2023, 9, 1), date(2023, 9, 1)), (datetime(2023, 9, 1, 0, 0), date(2023, 9, 1)),
        (45170, date(2023, 9, 1)), (45170.0, date(2023, 9, 1)), (45170.75, date(2023, 9, 1)), (20230901, date(2023, 9, 1)),
        ("2023-09-01", date(2023, 9, 1)), ("2023/9/1", date(2023, 9, 1)), ("2023.9.1", date(2023, 9, 1)),
        ("2023年9月1日", date(2023, 9, 1)), ("2023年9月1", date(2023, 9, 1)), ("２０２３－０９－０１", date(2023, 9, 1)),
        ("2023-09-01 00:00:00", date(2023, 9, 1)), ("20230901", date(2023, 9, 1)), (" 2024-02-29 ", date(2024, 2, 29)),
    ],
)
def test_dates(value, expected):
    assert rules.parse_date(value) == expected


@pytest.mark.parametrize(
    "value", ["2023-02-30", "2023-13-01", "2023-00-10", "2023/9-1", "9/1/2023", "01.09.2023", "2023-09-01 08:30", "yesterday",
              "1023-01-01", "2300-01-01", -5, 0, 3_000_000, True, "2023-9-31", "2023年2月29日"],
)
def test_impossible_or_unreadable_dates_are_errors(value):
    with pytest.raises(CellError) as exc:
        rules.parse_date(value)
    assert exc.value.code == "invalid-date"


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, None), ("09:00", time(9)), ("9:00", time(9)), ("18:30:00", time(18, 30)), ("18：30", time(18, 30)),
        (time(8, 15), time(8, 15)), (datetime(1899, 12, 30, 14, 45), time(14, 45)), (0.375, time(9)), (0.5625, time(13, 30)),
        (timedelta(hours=19, minutes=5), time(19, 5)), ("2:30 PM", time(14, 30)), ("12:00 am", time(0)), ("下午2:30", time(14, 30)),
        ("上午9:00", time(9)), ("晚上8:00", time(20)), (0, time(0)),
    ],
)
def test_times(value, expected):
    assert rules.parse_time(value) == expected


@pytest.mark.parametrize("value", ["0900", "9", "25:00", "24:00", "9:60", "13:00 PM", "nine", 1.5, -0.1, 1, "9.30"])
def test_unreadable_times_are_errors(value):
    with pytest.raises(CellError) as exc:
        rules.parse_time(value)
    assert exc.value.code == "invalid-time"


@pytest.mark.parametrize(
    "value,expected",
    [(None, None), ("", None), (80, Decimal("80.00")), (80.5, Decimal("80.50")), (80.3, Decimal("80.30")), ("120.55", Decimal("120.55")),
     ("¥1,200.50", Decimal("1200.50")), ("１２０元", Decimal("120.00")), ("0", Decimal("0.00")), (Decimal("99.9"), Decimal("99.90"))],
)
def test_money(value, expected):
    assert rules.parse_money(value) == expected


@pytest.mark.parametrize("value", ["-1", -0.01, "12.345", 33.333333, "abc", "NaN", "Infinity", "100000.01", "80,5", True, date(2023, 1, 1)])
def test_bad_money_is_an_error(value):
    with pytest.raises(CellError) as exc:
        rules.parse_money(value)
    assert exc.value.code == "invalid-money"


@pytest.mark.parametrize(
    "value,expected",
    [(1, 0), (7, 6), (3.0, 2), ("1", 0), ("周一", 0), ("星期三", 2), ("周日", 6), ("星期天", 6), ("礼拜五", 4), ("Mon", 0),
     ("monday", 0), ("Thurs", 3), ("SUN", 6), ("Sat.", 5), (None, None)],
)
def test_weekdays(value, expected):
    assert rules.parse_weekday(value) == expected


@pytest.mark.parametrize("value", [0, 8, "8", "周八", "Funday", 2.5])
def test_bad_weekdays(value):
    with pytest.raises(CellError):
        rules.parse_weekday(value)


@pytest.mark.parametrize(
    "value,expected",
    [("在职", "active"), ("试用", "probation"), ("休假", "on_leave"), ("离职", "left"), ("Active", "active"), ("On Leave", "on_leave"),
     ("on_leave", "on_leave"), ("LEFT", "left"), ("", None)],
)
def test_statuses(value, expected):
    assert rules.parse_status(value) == expected


def test_unknown_status():
    with pytest.raises(CellError, match="在职"):
        rules.parse_status("退休")


@pytest.mark.parametrize(
    "value,expected",
    [("新教师,雅思", ("新教师", "雅思")), ("a，b；c;d、e|f", ("a", "b", "c", "d", "e", "f")), (" a , a ,b ", ("a", "b")), (None, ()), ("", ())],
)
def test_tags(value, expected):
    assert rules.parse_tags(value) == expected


@pytest.mark.parametrize("value,code", [("new teacher", "invalid-tag"), ("x" * 49, "too-long"), (",".join(f"t{i}" for i in range(51)), "too-many-tags")])
def test_bad_tags(value, code):
    with pytest.raises(CellError) as exc:
        rules.parse_tags(value)
    assert exc.value.code == code


@pytest.mark.parametrize("value,expected", [("T-001", "T-001"), (1001, "1001"), (1001.0, "1001"), (" E.7_x ", "E.7_x")])
def test_codes(value, expected):
    assert rules.parse_code(value) == expected


@pytest.mark.parametrize("value,code", [("T 001", "invalid-code"), ("工号1", "invalid-code"), (1001.5, "invalid-code"), ("x" * 33, "too-long")])
def test_bad_codes(value, code):
    with pytest.raises(CellError) as exc:
        rules.parse_code(value)
    assert exc.value.code == code


# ---------------------------------------------------------------- rows

HEADER = ["工号", "姓名", "部门", "岗位", "入职日期", "状态", "时薪", "上级工号", "校区", "邮箱", "手机", "标签", "考勤机编号", "企业微信ID"]
GOOD = ["T001", "李雷", "IELTS", "讲师", "2024/9/1", "试用", "120.5", "M001", "BJ", "li@school.cn", "138 0013 8000", "新教师、雅思", 1001, "lilei"]


def _columns(header=HEADER, kind="employees"):
    columns, errors = rules.map_columns(kind, header)
    assert errors == []
    return columns


def test_a_good_employee_row():
    rec = rules.employee_record(_columns(), GOOD, 2)
    assert rec == EmployeeRecord(
        employee_no="T001", row=2, name="李雷", department="IELTS", site="BJ", position="讲师", hire_date=date(2024, 9, 1),
        status="probation", hourly_cost=Decimal("120.50"), manager_no="M001", email="li@school.cn", phone="138 0013 8000",
        tags=("新教师", "雅思"), external_ids=(("device_pin", "1001"), ("wecom", "lilei")),
        present=frozenset({"name", "department", "position", "hire_date", "status", "hourly_cost", "manager_no", "site", "email",
                           "phone", "tags", "external_ids"}),
    )


def test_every_error_of_a_row_is_reported():
    bad = ["T 001", "", "IELTS", "x" * 65, "2023-02-30", "退休", "-3", "M 1", "BJ", "not-an-email", "call me", "a b", "1" * 65, "ok"]
    errors = rules.employee_record(_columns(), bad, 7)
    assert isinstance(errors, list)
    assert {(e.column, e.code) for e in errors} == {
        ("工号", "invalid-code"), ("姓名", "required"), ("岗位", "too-long"), ("入职日期", "invalid-date"), ("状态", "invalid-status"),
        ("时薪", "invalid-money"), ("上级工号", "invalid-code"), ("邮箱", "invalid-email"), ("手机", "invalid-phone"),
        ("标签", "invalid-tag"), ("考勤机编号", "too-long"),
    }
    assert all(e.row == 7 for e in errors)


def test_only_the_columns_in_the_file_are_present_and_a_blank_status_keeps_the_current_one():
    rec = rules.employee_record(_columns(["工号", "时薪", "状态"]), ["T001", 99, None], 2)
    assert rec.present == frozenset({"hourly_cost"})
    assert rec.status == "active"


def test_a_blank_external_id_removes_it():
    rec = rules.employee_record(_columns(["工号", "企业微信ID", "钉钉ID"]), ["T001", None, "dd1"], 2)
    assert rec.external_ids == (("dingtalk", "dd1"), ("wecom", ""))


def test_excel_errors_and_values_beyond_the_header():
    errors = rules.employee_record(_columns(["工号", "时薪"]), ["T001", "#DIV/0!", "stray"], 4)
    assert [(e.column, e.code) for e in errors] == [("时薪", "formula-error"), (None, "value-without-header")]


TT = ["工号", "星期", "日期", "开始时间", "结束时间", "课程", "校区", "生效日期", "失效日期"]


@pytest.mark.parametrize(
    "cells,expected",
    [
        (["T1", "周二", None, "18:30", "20:00", "雅思写作", "BJ", "2026-09-01", None],
         WeeklySlotRecord("T1", 1, time(18, 30), time(20), date(2026, 9, 1), None, "雅思写作", "BJ", row=2)),
        (["T1", None, "2026/9/5", 0.375, 0.4375, None, None, None, None],
         DatedClassRecord("T1", date(2026, 9, 5), time(9), time(10, 30), None, None, row=2)),
    ],
)
def test_timetable_rows(cells, expected):
    assert rules.timetable_record(_columns(TT, "timetables"), cells, 2) == expected


@pytest.mark.parametrize(
    "cells,codes",
    [
        (["T1", "周二", "2026-09-05", "18:30", "20:00", None, None, "2026-09-01", None], {"weekday-and-date"}),
        (["T1", None, None, "18:30", "20:00", None, None, None, None], {"required"}),
        (["T1", "周二", None, "18:30", "18:00", None, None, None, None], {"time-order", "required"}),
        (["T1", "周二", None, "18:30", "20:00", None, None, "2026-09-01", "2026-08-01"], {"date-order"}),
        (["T1", "周八", None, "", "25:00", None, None, "2026-09-01", None], {"invalid-weekday", "required", "invalid-time"}),
    ],
)
def test_bad_timetable_rows(cells, codes):
    errors = rules.timetable_record(_columns(TT, "timetables"), cells, 5)
    assert isinstance(errors, list) and {e.code for e in errors} == codes


def test_raw_values_keep_the_row_as_received():
    columns = _columns(["工号", "姓名"])
    assert rules.raw_values(columns, ["T1", None, "x"]) == {"工号": "T1", "姓名": None, "#3": "x"}


# ---------------------------------------------------------------- properties

dates = st.dates(min_value=date(rules.MIN_YEAR, 1, 1), max_value=date(rules.MAX_YEAR, 12, 31))


@given(dates, st.sampled_from(["iso", "slash", "dot", "cn", "compact", "serial", "datetime", "date", "padded"]))
def test_every_date_format_round_trips(day, fmt):
    written = {
        "iso": day.isoformat(), "slash": f"{day.year}/{day.month}/{day.day}", "dot": f"{day.year}.{day.month}.{day.day}",
        "cn": f"{day.year}年{day.month}月{day.day}日", "compact": day.strftime("%Y%m%d"), "serial": (day - rules.EXCEL_EPOCH).days,
        "datetime": datetime.combine(day, time()), "date": day, "padded": f"{day.year}/{day.month:02d}/{day.day:02d}",
    }[fmt]
    assert rules.parse_date(written) == day


@given(st.times().map(lambda t: t.replace(microsecond=0)), st.sampled_from(["hm", "hms", "fraction", "time", "pm"]))
def test_every_time_format_round_trips(t, fmt):
    if fmt == "hm":
        t, written = t.replace(second=0), f"{t.hour}:{t.minute:02d}"
    elif fmt == "hms":
        written = t.strftime("%H:%M:%S")
    elif fmt == "fraction":
        written = (t.hour * 3600 + t.minute * 60 + t.second) / 86400
    elif fmt == "pm":
        t = t.replace(second=0)
        written = f"{(t.hour % 12) or 12}:{t.minute:02d} {'PM' if t.hour >= 12 else 'AM'}"
    else:
        written = t
    assert rules.parse_time(written) == t


@given(st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False))
def test_money_round_trips_as_text_and_float(amount):
    assert rules.parse_money(str(amount)) == amount
    assert rules.parse_money(float(amount)) == amount


PARSERS = [rules.parse_date, rules.parse_time, rules.parse_money, rules.parse_weekday, rules.parse_status, rules.parse_tags,
           rules.parse_code, *rules.PARSERS.values()]


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.booleans(), st.none(), st.datetimes(), st.times()), st.sampled_from(PARSERS))
def test_parsers_answer_any_cell_with_a_value_or_a_cell_error(value, parse):
    try:
        parse(value)
    except CellError as exc:
        assert exc.code and exc.message


optional_employee_columns = [h for h in HEADER if h != "工号"]


@given(st.permutations(range(len(HEADER))), st.data())
def test_any_order_of_columns_gives_the_same_record(order, data):
    keep = [i for i in order if i == 0 or data.draw(st.booleans(), label=f"keep {HEADER[i]}")]
    header = [HEADER[i] for i in keep]
    cells = [GOOD[i] for i in keep]
    canonical = sorted(keep)
    expected = rules.employee_record(_columns([HEADER[i] for i in canonical]), [GOOD[i] for i in canonical], 2)
    assert rules.employee_record(_columns(header), cells, 2) == expected


@given(st.lists(st.sampled_from(HEADER), min_size=1, max_size=6, unique=True))
def test_header_case_width_and_spaces_do_not_matter(headers):
    messy = [f"  {h.upper()}  ".replace("工", "工 ") if h.isascii() else f" {h} " for h in headers]
    assert rules.map_columns("employees", messy)[0].fields == rules.map_columns("employees", headers)[0].fields


def test_row_errors_are_the_org_row_error_type():
    errors = rules.employee_record(_columns(["工号"]), [""], 2)
    assert errors and all(isinstance(e, RowError) for e in errors)
