"""Every UI string has a Chinese translation: a msgid without one fails here, not in front of a school."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import extract_from_ast

from trainquant.errors import DomainError
from trainquant.web.templating import env

SRC = Path(__file__).resolve().parents[2] / "src" / "trainquant"
TEMPLATES = SRC / "web" / "templates"
# The import page has its own catalogue (imports.po) and its own engineer; it is checked with them.
CHECKED_TEMPLATES = sorted(p for p in TEMPLATES.rglob("*.html") if p.relative_to(TEMPLATES).parts[0] != "imports")
CHECKED_MODULES = [SRC / "org" / "pages.py", SRC / "web" / "pages.py", SRC / "web" / "templating.py"]
# Training pages and their helpers (training.po).
CHECKED_MODULES += [*sorted((SRC / "training").rglob("pages*.py")), SRC / "training" / "forms.py"]
# Every other domain's page routes.
CHECKED_MODULES += sorted(p for d in ("attendance", "alerts", "analytics", "indicators", "imports") for p in (SRC / d).rglob("pages*.py"))
CHECKED_MODULES += [SRC / "analytics" / "case_export.py"]


def _catalogue() -> dict[str, str]:
    out: dict[str, str] = {}
    for po in sorted((SRC / "i18n" / "zh_CN").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="zh_CN"):
                if message.id and isinstance(message.id, str):
                    out[message.id] = message.string
    return out


def template_msgids(path: Path) -> set[str]:
    tree = env.parse(path.read_text(encoding="utf-8"))
    found = set()
    # babel_style=False: a call with keyword arguments (newstyle gettext) still yields its msgid.
    for _lineno, _func, strings in extract_from_ast(tree, gettext_functions=("_", "gettext"), babel_style=False):
        if strings and isinstance(strings[0], str):
            found.add(strings[0])
    return found


def python_msgids(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("_", "gettext_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def _nav_labels() -> set[str]:
    from trainquant.web.templating import NAV_GROUPS

    return {group for group, _items in NAV_GROUPS} | {label for _group, items in NAV_GROUPS for _path, label, _perm in items}


def _error_titles() -> set[str]:
    titles, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        titles.add(cls.title)
        todo.extend(cls.__subclasses__())
    return titles


CATALOGUE = _catalogue()


@pytest.mark.parametrize("path", CHECKED_TEMPLATES + CHECKED_MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_msgid_has_a_chinese_translation(path):
    ids = template_msgids(path) if path.suffix == ".html" else python_msgids(path)
    missing = sorted(m for m in ids if not CATALOGUE.get(m))
    assert not missing, f"{path.name}: add these to i18n/zh_CN/messages.po: {missing}"


def test_dynamic_msgids_have_chinese_translations():
    # Navigation labels and error titles reach _() as variables, so no extractor sees them.
    missing = sorted(m for m in _nav_labels() | _error_titles() if not CATALOGUE.get(m))
    assert not missing, f"add these to i18n/zh_CN/messages.po: {missing}"


def test_the_extractor_sees_strings_in_templates_and_code():
    assert "Employees" in template_msgids(TEMPLATES / "org" / "employees.html")
    assert "%(n)s in total" in template_msgids(TEMPLATES / "org" / "_employee_table.html")
    assert "This field is required." in python_msgids(SRC / "org" / "pages.py")


def test_placeholders_survive_translation():
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    wrong = {m: s for m, s in CATALOGUE.items() if s and set(placeholder.findall(m)) != set(placeholder.findall(s))}
    assert not wrong, f"translations must keep every %(name)s placeholder: {wrong}"


def test_catalogues_agree_on_shared_msgids():
    """The per-domain catalogues are merged into one: the same English text must mean the same Chinese."""
    from babel.messages.pofile import read_po

    seen: dict[str, set[tuple[str, str]]] = {}
    for po in sorted((Path(__file__).resolve().parents[2] / "src" / "trainquant" / "i18n" / "zh_CN").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh):
                if m.id and m.string:
                    seen.setdefault(str(m.id), set()).add((po.name, m.string))
    clashes = {k: sorted(v) for k, v in seen.items() if len({s for _, s in v}) > 1}
    assert not clashes, f"give these msgids distinct English texts or one translation: {clashes}"
