"""gettext catalogues compiled in memory from the committed .po files; the current locale is a contextvar."""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
_HERE = Path(__file__).parent
current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """Every ``<locale>/*.po`` (one per domain, e.g. messages.po, imports.po) merged into one catalogue."""
    result: gettext.NullTranslations = gettext.NullTranslations()
    for po in sorted((_HERE / locale).glob("*.po"), reverse=True):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        layer = gettext.GNUTranslations(buf)
        layer.add_fallback(result)
        result = layer
    return result


def gettext_(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


_ = gettext_


def N_(message: str) -> str:
    """gettext's marker: a msgid kept untranslated here (a table of names, a header) and translated
    where it is shown, in the reader's language."""
    return message


def pick_locale(requested: str | None, cookie: str | None, accept_language: str | None, default: str) -> str:
    for candidate in (requested, cookie):
        if candidate in LOCALES:
            return candidate
    if accept_language and not cookie:
        first = accept_language.split(",")[0].strip().lower()
        if first.startswith("en"):
            return "en"
    return default
