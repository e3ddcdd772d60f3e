"""Pure rules stay pure: every ``rules.py`` imports only the standard library, NumPy and other rules."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "trainquant"
RULES = sorted(SRC.rglob("*rules.py"))
ALLOWED_ROOTS = {
    "__future__", "abc", "bisect", "collections", "dataclasses", "datetime", "decimal", "enum", "fractions",
    "functools", "hashlib", "hmac", "heapq", "itertools", "math", "operator", "re", "statistics", "string",
    "typing", "unicodedata", "zoneinfo", "numpy", "random", "struct", "base64", "uuid", "json",
}
FORBIDDEN_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_there_are_rules_modules():
    assert RULES, "expected at least one rules.py"


@pytest.mark.parametrize("path", RULES, ids=lambda p: str(p.relative_to(SRC)))
def test_rules_import_nothing_with_io(path):
    tree = ast.parse(path.read_text())
    bad = [n for n in _imports(tree) if n.split(".")[0] not in ALLOWED_ROOTS and not (n.startswith("trainquant.") and n.endswith("rules"))]
    assert not bad, f"{path.name} imports {bad}; rules must be pure (stdlib, NumPy, other rules)"


@pytest.mark.parametrize("path", RULES, ids=lambda p: str(p.relative_to(SRC)))
def test_rules_never_read_the_clock(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            assert (node.func.value.id, node.func.attr) not in FORBIDDEN_CALLS, f"{path.name} reads the clock"
