"""Display names of tags (a program's subjects, a growth note's need or weakness, an employee's tags).
Tags stay lowercase English slugs in the database, the API and imports; pages show their name in the
reader's language, and a tag the catalogue does not know as it was written."""

from __future__ import annotations

from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _

NAMES = {
    # people
    "new-teacher": N_("New teacher"), "team-lead": N_("Team lead"), "native-speaker": N_("Native speaker"),
    # teaching
    "classroom-interaction": N_("Classroom interaction"), "classroom-management": N_("Classroom management"),
    "grammar-teaching": N_("Grammar teaching"), "ielts-speaking": N_("IELTS speaking"), "ielts-writing": N_("IELTS writing"),
    "toefl-speaking": N_("TOEFL speaking"), "toefl-writing": N_("TOEFL writing"), "pronunciation": N_("Pronunciation"),
    "curriculum-design": N_("Curriculum design"), "online-teaching": N_("Online teaching"), "child-psychology": N_("Child psychology"),
    "learner-needs": N_("Learner needs"), "teacher-mentoring": N_("Mentoring teachers"), "communication": N_("Communication"),
    "onboarding": N_("Onboarding"),
    # marketing
    "sales-script": N_("Sales scripts"), "objection-handling": N_("Handling objections"), "case-analysis": N_("Case analysis"),
    # administration
    "process-optimisation": N_("Process optimisation"), "process-compliance": N_("Process compliance"), "office-systems": N_("Office systems"),
    "spreadsheet-skills": N_("Spreadsheet skills"), "time-management": N_("Time management"),
}


def tag_name(slug: str) -> str:
    return _(NAMES[slug]) if slug in NAMES else slug
