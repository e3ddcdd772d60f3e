"""Growth-profile material: the weaknesses a teacher can really have, and the notes that record some of them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class GrowthNoteSpec:
    employee_no: str
    kind: str  # need | weakness
    tag: str
    source: str
    noted_on: date
    note: str


# tag -> (Chinese label, what a weakness note says, what a need note says)
TOPICS: dict[str, tuple[str, str, str]] = {
    "classroom-interaction": ("课堂互动", "课堂互动不够，提问和讨论少，学生开口时间不足", "希望参加课堂互动技巧培训"),
    "grammar-teaching": ("语法教学", "语法讲解不够清楚，例句少，学生反复出错", "需要加强语法教学方法"),
    "time-management": ("课堂节奏", "课堂时间把控不好，常拖堂或内容讲不完", "需要课堂节奏与教案设计训练"),
    "pronunciation": ("发音示范", "发音示范不够标准，学生模仿有偏差", "希望参加语音语调提升课程"),
    "online-teaching": ("线上授课", "线上课工具不熟，互动和课堂纪律难以保持", "需要线上授课工具与技巧培训"),
    "ielts-speaking": ("雅思口语", "雅思口语评分标准把握不准，给分偏松", "希望系统学习雅思口语评分标准"),
    "ielts-writing": ("雅思写作", "作文批改反馈笼统，缺少针对性", "需要雅思写作批改方法培训"),
    "toefl-speaking": ("托福口语", "托福口语综合题讲解不够透彻", "希望提升托福口语教学"),
    "toefl-writing": ("托福写作", "托福写作评分要点讲解不足", "需要托福写作教学培训"),
    "classroom-management": ("课堂管理", "低龄学员课堂秩序难以维持", "需要少儿课堂管理培训"),
    "child-psychology": ("儿童心理", "对不同年龄段孩子的注意力特点了解不够", "希望学习儿童心理与学习特点"),
    "learner-needs": ("学员需求", "对中国学员的难点把握不够，讲解偏快", "希望了解中国学员的常见难点"),
    "curriculum-design": ("课程研发", "", "希望参与课程研发与教研"),
    "teacher-mentoring": ("带教", "", "希望承担新教师带教"),
    "sales-script": ("话术", "电话邀约话术生硬，邀约到访率低", "需要话术模拟训练"),
    "objection-handling": ("异议处理", "面对价格异议时容易让步", "希望参加异议处理培训"),
    "process-compliance": ("流程规范", "办理退费、转班时漏填单据", "需要熟悉最新办事流程"),
    "spreadsheet-skills": ("表格处理", "排课、报表依赖手工，耗时较长", "希望学习Excel数据处理"),
}
WEAKNESSES_BY_LINE: dict[str, tuple[str, ...]] = {
    "ielts": ("classroom-interaction", "grammar-teaching", "time-management", "pronunciation", "online-teaching",
              "ielts-speaking", "ielts-writing"),
    "toefl": ("classroom-interaction", "grammar-teaching", "time-management", "pronunciation", "online-teaching",
              "toefl-speaking", "toefl-writing"),
    "kids": ("classroom-interaction", "classroom-management", "child-psychology", "pronunciation", "time-management"),
    "native": ("learner-needs", "classroom-management", "grammar-teaching", "time-management"),
}
WEAKNESSES_BY_KIND: dict[str, tuple[str, ...]] = {
    "marketing": ("sales-script", "objection-handling"),
    "admin": ("process-compliance", "spreadsheet-skills"),
}
SOURCE_LABELS = {
    "student-feedback": "学生反馈", "manager": "组长听课", "trial-lecture": "试讲评议", "peer-review": "同行评课",
    "self": "本人自评",
}
NEED_LABELS = {"manager": "组长建议", "self": "本人申请"}
WEAKNESS_SOURCES = ("student-feedback", "student-feedback", "manager", "trial-lecture", "peer-review")


def latent_weaknesses(rng: random.Random, pool: tuple[str, ...], skill: float) -> tuple[str, ...]:
    """0-3 real weaknesses; the less skilled, the more."""
    count = sum(rng.random() < (1 - skill) * 0.8 for _ in range(3))
    return tuple(sorted(rng.sample(pool, min(count, len(pool)))))


def notes_for(
    rng: random.Random, employee_no: str, weaknesses: tuple[str, ...], *, skill: float, since: date, today: date,
    ambitious: bool = True,
) -> list[GrowthNoteSpec]:
    """Evidence of some of the real weaknesses (and the need that follows), plus a senior's ambitions."""
    first = max(since, today - timedelta(days=365))
    span = max((today - first).days, 0)
    out: list[GrowthNoteSpec] = []
    for tag in weaknesses:
        if rng.random() > 0.7:
            continue  # not yet noticed by anyone: later issues find it from other evidence
        _label, weak_text, need_text = TOPICS[tag]
        source = rng.choice(WEAKNESS_SOURCES)
        noted = first + timedelta(days=rng.randint(0, span))
        out.append(GrowthNoteSpec(employee_no, "weakness", tag, source, noted, f"{SOURCE_LABELS[source]}：{weak_text}"))
        if rng.random() < 0.6:
            need_source = rng.choice(("manager", "self"))
            need_on = min(noted + timedelta(days=rng.randint(0, 20)), today)
            out.append(GrowthNoteSpec(employee_no, "need", tag, need_source, need_on, f"{NEED_LABELS[need_source]}：{need_text}"))
    if ambitious and skill > 0.75 and rng.random() < 0.5:
        tag = rng.choice(("curriculum-design", "teacher-mentoring"))
        noted = first + timedelta(days=rng.randint(0, span))
        out.append(GrowthNoteSpec(employee_no, "need", tag, "self", noted, f"{NEED_LABELS['self']}：{TOPICS[tag][2]}"))
    return out
