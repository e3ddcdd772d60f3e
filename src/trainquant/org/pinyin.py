"""Finding a person by the pinyin of their name: ``huang`` or ``huangqing`` or ``hq`` finds 黄清.

A Chinese name's keys are its syllables without tones run together (``huangqing``) and their initials
(``hq``); a query of ASCII letters matches a key's start (spaces and case ignored). Names in Latin
letters match as written. Pure but for pypinyin's dictionary; keys are cached per name.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=50_000)
def keys(name: str) -> tuple[str, str]:
    # Chinese characters become syllables; anything else (a Latin name, a digit) comes back as written,
    # split into its words.
    words = [w.lower() for chunk in lazy_pinyin(name, style=Style.NORMAL) for w in chunk.split() if w.isalnum()]
    return "".join(words), "".join(w[0] for w in words)


def is_pinyin_query(q: str) -> bool:
    text = q.replace(" ", "")
    return bool(text) and text.isascii() and text.isalpha()


def matches(name: str, q: str) -> bool:
    """Whether ``q`` (ASCII letters) starts the name's pinyin or its initials."""
    wanted = q.replace(" ", "").lower()
    full, initials = keys(name)
    return full.startswith(wanted) or initials.startswith(wanted)
