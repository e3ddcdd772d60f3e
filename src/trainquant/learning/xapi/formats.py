"""xAPI 1.0.3 statements: the error, the formats (IRIs, UUIDs, language tags, timestamps, durations) and the
checks of JSON values every part of a statement is made of. Pure: standard library only."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any


class StatementError(ValueError):
    """A statement that breaks a MUST rule of xAPI 1.0.3.

    ``path`` is where: dot-separated property names and ``[i]`` array indices from the statement's root,
    e.g. ``"actor.mbox"`` or ``"context.contextActivities.parent[0].id"`` (``""`` for the statement
    itself). ``message`` says what is wrong; ``str(error)`` is ``"path: message"``.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '(statement)'}: {message}")
        self.path = path
        self.message = message


# --- formats -------------------------------------------------------------------------------------------

# Standard string form of RFC 4122 (8-4-4-4-12 hex, either case). Neither version nor variant is checked:
# Data 2.4.1 accepts all versions, and the specification's own example id 12345678-1234-5678-1234-567812345678
# has no RFC 4122 variant bits, so checking them would refuse the spec's example.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# An absolute IRI: an RFC 3986 scheme, a colon, and at least one character, none of them whitespace or the
# characters RFC 3987 excludes. Non-ASCII is allowed (it is an IRI, not a URI). The suite's bad IRIs are
# "ab=c://should.fail.com" (no valid scheme) and "should error" (no scheme, a space).
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")

# mbox is "mailto:" + an address: one "@" with something on both sides ("mailto:should.fail.com" is refused).
_MBOX = re.compile(r"mailto:[^\s@<>\"]+@[^\s@<>\"]+")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")

# "1.0" or "1.0.x" (version.js, XAPI-00101: "1.0" and "1.0.9" pass, "0.9.9" and "1.1.0" fail).
_VERSION = re.compile(r"1\.0(?:\.[0-9]+)?")

# RFC 5646 Language-Tag, syntax only (well-formed, not checked against the IANA registry).
_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language ["-" extlang]
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
)
_GRANDFATHERED = (
    r"en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao|i-tay|i-tsu"
    r"|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE = re.compile(rf"(?:{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+|{_GRANDFATHERED})", re.IGNORECASE)

# ISO 8601 date-time, extended (2015-11-18T12:17:00.123+08:00) or basic (20151118T121700Z) format, not
# mixed. The zone is optional: Data 4.5 only says a Timestamp SHOULD include one and the suite never refuses
# a timestamp without it. The unknown-local-offset forms -00, -0000 and -00:00 are refused (timestamps.js,
# XAPI-00123).
_FRACTION = r"(?:[.,](?P<frac>[0-9]+))?"
_ZONE = r"(?P<zone>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
_TIMESTAMP_EXTENDED = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})T(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})" + _FRACTION + r")?" + _ZONE
)
_TIMESTAMP_BASIC = re.compile(r"(?P<y>[0-9]{4})(?P<mo>[0-9]{2})(?P<d>[0-9]{2})T(?P<h>[0-9]{2})(?P<mi>[0-9]{2})(?:(?P<s>[0-9]{2})" + _FRACTION + r")?" + _ZONE)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# ISO 8601:2004 4.4.3.2 durations: PnW, or PnYnMnDTnHnMnS with at least one component (and at least one
# after a "T"); only the last component written may have a decimal fraction.
_NUM = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(
    rf"P(?:(?P<W>{_NUM})W|(?:(?P<Y>{_NUM})Y)?(?:(?P<Mo>{_NUM})M)?(?:(?P<D>{_NUM})D)?"
    rf"(?:(?P<T>T)(?:(?P<H>{_NUM})H)?(?:(?P<Mi>{_NUM})M)?(?:(?P<S>{_NUM})S)?)?)"
)

# A MIME type: type "/" subtype, optional parameters (attachments' contentType, XAPI-00105).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"[^\"]*\"))*")

INTERACTION_TYPES = ("true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric", "other")
# Which interaction-component lists each interactionType uses (Data 2.4.4.1, Interaction Components). A list
# under a type that does not use it is refused: the spec lets an LRS return 400 for properties that are not
# valid for the interaction (Data 2.4.4.1.s8, "MAY validate the remaining properties").
COMPONENTS = ("choices", "scale", "source", "target", "steps")
_COMPONENTS_OF = {
    "choice": {"choices"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "matching": {"source", "target"},
    "performance": {"steps"},
}
CONTEXT_ACTIVITY_KINDS = ("parent", "grouping", "category", "other")

_STATEMENT_KEYS = frozenset({"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments"})
# Data 2.4.4.3: a SubStatement MUST NOT have id, stored, version or authority (and has objectType).
_FORBIDDEN_IN_SUBSTATEMENT = ("id", "stored", "version", "authority")
_SUBSTATEMENT_KEYS = (_STATEMENT_KEYS - set(_FORBIDDEN_IN_SUBSTATEMENT)) | {"objectType"}
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = frozenset({"objectType", "name", *_IFIS})
_GROUP_KEYS = _AGENT_KEYS | {"member"}
_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_DEFINITION_KEYS = frozenset({"name", "description", "type", "moreInfo", "extensions", "interactionType", "correctResponsesPattern", *COMPONENTS})
_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
_CONTEXT_KEYS = frozenset({"registration", "instructor", "team", "contextActivities", "revision", "platform", "language", "statement", "extensions"})
_ATTACHMENT_KEYS = frozenset({"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"})


# --- primitives ----------------------------------------------------------------------------------------


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _object(value: object, path: str, allowed: frozenset[str], required: Iterable[str] = ()) -> dict[str, Any]:
    """``value`` as a JSON object with only ``allowed`` keys, all ``required`` ones, and no null value."""
    if not isinstance(value, dict):
        raise StatementError(path, f"must be an object, not {_kind(value)}")
    for key in value:
        if key not in allowed:
            # Keys are case-sensitive (XAPI-00008): "Actor" is an unknown key, not the actor.
            raise StatementError(_at(path, str(key)), "is not a property defined here")
        if value[key] is None:
            raise StatementError(_at(path, key), "must not be null")  # XAPI-00001
    for key in required:
        if key not in value:
            raise StatementError(_at(path, key), "is required")
    return value


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise StatementError(path, f"must be a string, not {_kind(value)}")
    return value


def _boolean(value: object, path: str) -> None:
    if not isinstance(value, bool):
        raise StatementError(path, f"must be a boolean, not {_kind(value)}")


def _number(value: object, path: str) -> float:
    # bool is an int in Python, but true is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StatementError(path, f"must be a number, not {_kind(value)}")
    if not math.isfinite(value):
        raise StatementError(path, "must be a finite number")
    return float(value)


def _array(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise StatementError(path, f"must be an array, not {_kind(value)}")
    return value


# Statements repeat the same few IRIs and language tags (verbs, activity types, extension keys, en-US):
# each is matched once, then remembered (bounded; the verdict is a pure function of the text).
@lru_cache(maxsize=8192)
def _iri_ok(text: str) -> bool:
    return _IRI.fullmatch(text) is not None


@lru_cache(maxsize=1024)
def _language_ok(text: str) -> bool:
    return _LANGUAGE.fullmatch(text) is not None


def _iri(value: object, path: str, what: str = "an absolute IRI") -> str:
    text = _string(value, path)
    if not _iri_ok(text):
        raise StatementError(path, f"{text!r} is not {what} (scheme:...)")
    return text


def is_iri(text: str) -> bool:
    """An absolute IRI, as statements' ids are checked (for the LRS's IRI parameters)."""
    return _iri_ok(text)


def _uuid(value: object, path: str) -> str:
    text = _string(value, path)
    if not _UUID.fullmatch(text):
        raise StatementError(path, f"{text!r} is not a UUID in standard string form")
    return text


def _language_tag(value: object, path: str) -> str:
    text = _string(value, path)
    if not _language_ok(text):
        raise StatementError(path, f"{text!r} is not an RFC 5646 language tag")
    return text


def _language_map(value: object, path: str) -> None:
    if not isinstance(value, dict):
        raise StatementError(path, f"must be a language map (an object), not {_kind(value)}")
    for key, text in value.items():
        if not _language_ok(key):
            raise StatementError(path, f"key {key!r} is not an RFC 5646 language tag")  # XAPI-00013, XAPI-00121
        if text is None:
            raise StatementError(_at(path, key), "must not be null")
        if type(text) is not str:
            _string(text, _at(path, key))


def _extensions(value: object, path: str) -> None:
    if not isinstance(value, dict):
        raise StatementError(path, f"must be an object, not {_kind(value)}")  # XAPI-00120
    for key in value:
        if not _iri_ok(key):
            raise StatementError(path, f"key {key!r} is not an IRI")  # XAPI-00118
    # The values are anything at all, null, "" and {} included (XAPI-00119).


def _timestamp(value: object, path: str) -> None:
    text = _string(value, path)
    match = _TIMESTAMP_EXTENDED.fullmatch(text) or _TIMESTAMP_BASIC.fullmatch(text)
    if match is None:
        raise StatementError(path, f"{text!r} is not an ISO 8601 date-time")
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"] or 0)
    leap_year = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1] or (month == 2 and day == 29 and not leap_year):
        raise StatementError(path, f"{text!r} has no such date")
    # 60 is a leap second, which ISO 8601 and RFC 3339 allow.
    if hour > 23 or minute > 59 or second > 60:
        raise StatementError(path, f"{text!r} has no such time of day")
    zone = match["zone"]
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        if int(digits[:2]) > 23 or int(digits[2:] or 0) > 59:
            raise StatementError(path, f"{text!r} has no such zone offset")
        if zone[0] == "-" and int(digits) == 0:
            raise StatementError(path, f"{text!r}: an offset of -00 (unknown local offset) is not a time zone; use Z or +00:00")


def _duration(value: object, path: str) -> None:
    text = _string(value, path)
    match = _DURATION.fullmatch(text)
    present = [name for name in ("W", "Y", "Mo", "D", "H", "Mi", "S") if match is not None and match[name] is not None]
    if match is None or not present or (match["T"] and not any(match[n] for n in ("H", "Mi", "S"))):
        raise StatementError(path, f"{text!r} is not an ISO 8601 duration (e.g. PT1H0M0.1S)")
    if any(("." in match[name] or "," in match[name]) for name in present[:-1]):
        raise StatementError(path, f"{text!r}: only the smallest component of a duration may have a fraction")
