"""A full statement and its parts, shared by the tests of the GET formats."""

from __future__ import annotations

from typing import Any

ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
MEETING = "http://www.example.com/meetings/occurances/34534"
COURSE = "http://www.example.com/meetings/series/267"
GROUPING = "http://www.example.com/meetings/categories/teammeeting"
SHA1 = "cd9b00a5611f94eaa7b1661edab976068e364975"
TEAM_ACCOUNT = {"homePage": "http://www.example.com", "name": "team-1"}
LRS_ACCOUNT = {"homePage": "http://lrs.example/", "name": "apikey:7"}
SIGNATURE = {
    "usageType": "http://adlnet.gov/expapi/attachments/signature",
    "display": {"en-US": "Signature", "zh-CN": "签名"},
    "description": {"en-US": "A test signature"},
    "contentType": "application/octet-stream",
    "length": 4235,
    "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
}


def full_statement() -> dict[str, Any]:
    return {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
        "verb": {"id": ATTENDED, "display": {"en-GB": "attended", "zh-CN": "参加了"}},
        "object": {
            "objectType": "Activity",
            "id": MEETING,
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "name": {"en-US": "Meeting", "zh-CN": "会议"},
                "description": {"en-US": "Weekly", "zh-CN": "每周"},
                "interactionType": "choice",
                "correctResponsesPattern": ["golf"],
                "choices": [{"id": "golf", "description": {"en-US": "Golf", "zh-CN": "高尔夫"}}, {"id": "tetris", "description": {"en-US": "Tetris"}}],
            },
        },
        "result": {"success": True, "response": "golf", "extensions": {"http://e.example/r": "x"}},
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"name": "Bob", "mbox_sha1sum": SHA1},
            "team": {"objectType": "Group", "name": "Team", "account": TEAM_ACCOUNT, "member": [{"mbox": "mailto:dan@example.com"}]},
            "contextActivities": {
                "parent": {"id": COURSE, "definition": {"name": {"en-US": "Course", "zh-CN": "课程"}}},
                "grouping": [{"objectType": "Activity", "id": GROUPING, "definition": {"description": {"en-US": "Team meeting", "fr": "Réunion"}}}],
            },
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "language": "en-US",
            "extensions": {"http://e.example/c": 1},
        },
        "timestamp": "2026-09-08T06:00:00.000Z",
        "authority": {"objectType": "Agent", "name": "LRS", "account": LRS_ACCOUNT},
        "attachments": [dict(SIGNATURE)],
    }
