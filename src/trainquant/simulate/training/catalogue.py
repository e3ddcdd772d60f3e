"""The simulated school's training catalogue: each program, how its runs are laid out over the year
(sessions, weekdays, hours, who attends, how it is checked in and paid), and the onboarding rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from trainquant.simulate.training.spec import MandatoryRuleSpec, ProgramSpec


@dataclass(frozen=True)
class Plan:
    """How a program runs: its sessions' pattern and who attends."""

    program: ProgramSpec
    sessions: int
    weekdays: tuple[int, ...]  # one per run, cycled: the weekday its sessions fall on
    start: time
    hours: int
    run_offsets: tuple[int, ...]  # days from today of each run's first week
    departments: tuple[str, ...] | None  # None: every department of the target kinds
    venue_use: str | None  # training_room | meeting_room; None: online
    checkin: tuple[str, ...]
    fee: tuple[int, int]
    assessment: str | None
    # A cost per completed session of the runs since the school measures (category, low, high, note):
    # the sales training became scored role-play, with paid actors as customers.
    measured_extra: tuple[str, int, int, str] | None = None


def _p(code, title, title_en, kind, level, target, tags, trainer, hours, **kw) -> ProgramSpec:
    eligibility = kw.pop("eligibility", {"department_kinds": list(target)})
    return ProgramSpec(code, title, title_en, kind, level, tuple(target), tuple(tags), trainer, hours, eligibility, **kw)


PLANS: tuple[Plan, ...] = (
    Plan(_p("SIM-ONB", "新教师入职培训", "New-teacher onboarding", "offline", "onboarding", ["teaching"], ["onboarding"],
             "教学部教研中心", 6.0, requires_approval=False,
             eligibility={"department_kinds": ["teaching"], "tags_any": ["new-teacher"]},
             description="新教师入职必修：教学规范、课堂流程与试讲。"),
          3, (1, 2), time(14), 2, (), None, "training_room", ("face",), (800, 1200), "trial_lecture"),
    Plan(_p("SIM-CI", "课堂互动技巧", "Classroom interaction", "offline", "foundation", ["teaching"], ["classroom-interaction"],
             "王静（外聘讲师）", 6.0,
             aims=("teaching.rating.overall", "teaching.rating.interaction", "teaching.retention")),
          3, (2, 1, 2), time(14), 2, (-300, -130, 20), None, "training_room", ("face",),
          (1800, 3000), "trial_lecture"),
    Plan(_p("SIM-GT", "语法教学技巧", "Grammar teaching", "offline", "foundation", ["teaching"], ["grammar-teaching"],
             "陈立（教研组长）", 4.0), 2, (1, 2), time(14), 2, (-250, -60), ("TEACH-IELTS", "TEACH-TOEFL", "TEACH-NATIVE"),
          "training_room", ("face",), (800, 1500), "online_test"),
    Plan(_p("SIM-IS", "雅思口语教学", "IELTS speaking teaching", "offline", "advanced", ["teaching"], ["ielts-speaking"],
             "Daniel Hughes（外聘考官）", 6.0), 3, (2, 1, 2), time(14), 2, (-200, -45, 30), ("TEACH-IELTS", "TEACH-NATIVE"),
          "training_room", ("face",), (2000, 3000), "ielts"),
    Plan(_p("SIM-FC", "外教沟通", "Working with foreign teachers", "blended", "foundation", ["teaching"], ["communication"],
             "刘洋（外教主管）", 4.0), 2, (1, 2), time(14), 2, (-170, 25), None, "training_room", ("face",),
          (800, 1500), "communication"),
    Plan(_p("SIM-SS", "话术模拟训练", "Sales-script simulation", "offline", "foundation", ["marketing"], ["sales-script"],
             "赵敏（销售培训师）", 6.0, aims=("crm.conversion_rate", "crm.order_amount")), 3, (5, 2, 6, 2), time(10), 2, (-320, -150, -70, 15), None, "meeting_room", ("geo",),
          (1500, 2500), "script_simulation", ("trainer_fee", 4000, 6000, "情景陪练（角色扮演）")),
    Plan(_p("SIM-CA", "案例分析", "Case analysis", "offline", "advanced", ["marketing"], ["case-analysis"],
             "孙浩（市场总监）", 4.0, aims=("crm.order_amount",)), 2, (6, 1, 5), time(10), 2, (-280, -95, 35), None, "meeting_room", ("geo",),
          (800, 1800), "case_analysis"),
    Plan(_p("SIM-PO", "流程优化", "Process optimisation", "online", "foundation", ["admin"], ["process-optimisation"],
             "周倩（运营顾问）", 4.0, aims=("oa.minutes_per_operation", "oa.error_rate", "oa.operating_cost")), 2, (3, 1, 3), time(10), 2, (-230, -75, 10), None, None, ("qr",),
          (800, 1600), "error_rate"),
    Plan(_p("SIM-OA", "办公系统操作", "Office systems", "offline", "foundation", ["admin"], ["office-systems"],
             "行政部信息化小组", 4.0), 2, (3, 4), time(10), 2, (-190, 40), None, "training_room", ("fingerprint", "qr"),
          (800, 1200), "error_rate"),
)

ONBOARDING_RULE = MandatoryRuleSpec("SIM-ONB-NEW", "SIM-ONB", "新教师30天内完成入职培训",
                                    {"department_kinds": ["teaching"], "tags_any": ["new-teacher"]}, 30)
