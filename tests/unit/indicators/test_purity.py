"""The registry is as pure as the rules, and every string of the indicator pages has its Chinese."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.test_architecture import ALLOWED_ROOTS, FORBIDDEN_CALLS, _imports
from tests.unit.test_i18n_catalog import (
    CATALOGUE,
    TEMPLATES,
    python_msgids,
    template_msgids,
)

SRC = Path(__file__).resolve().parents[3] / "src" / "trainquant"
PURE = [SRC / "indicators" / "rules.py", SRC / "indicators" / "metrics.py"]


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_pure_modules_import_nothing_with_io(path):
    tree = ast.parse(path.read_text())
    allowed = {"trainquant.indicators.rules"}
    bad = [n for n in _imports(tree) if n.split(".")[0] not in ALLOWED_ROOTS and n not in allowed]
    assert not bad, f"{path.name} imports {bad}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            assert (node.func.value.id, node.func.attr) not in FORBIDDEN_CALLS


PAGES = [*sorted((TEMPLATES / "indicators").glob("*.html")), SRC / "indicators" / "pages.py", SRC / "indicators" / "forms.py"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_indicator_pages_are_translated(path):
    ids = template_msgids(path) if path.suffix == ".html" else python_msgids(path)
    assert ids or path.name == "_labels.html", f"the extractor found nothing in {path.name}"
    missing = sorted(m for m in ids if not CATALOGUE.get(m))
    assert not missing, f"{path.name}: add these to i18n/zh_CN/indicators.po: {missing}"


def test_the_shared_template_check_covers_the_indicator_templates():
    from tests.unit.test_i18n_catalog import CHECKED_TEMPLATES

    assert set((TEMPLATES / "indicators").glob("*.html")) <= set(CHECKED_TEMPLATES)
