"""Pure rules stay pure: every ``rules.py``, every module of a ``rules/`` package (and the few pure
modules named below) imports only the standard library, NumPy and other pure modules, and never reads
the clock."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "trainquant"
# Pure modules whose name says what they compute rather than "rules".
PURE_MODULES = {
    "ids.py", "attendance/geo.py", "attendance/batch.py", "attendance/checkin/qr.py", "attendance/devices/zkteco.py", "attendance/platforms/placing.py",
    "integrations/metrics/sheet.py", "integrations/metrics/quick.py", "analytics/impact/fast.py",
    "learning/segments.py", "learning/xapi/formats.py", "learning/xapi/validate.py", "learning/xapi/compare.py",
    "learning/xapi/facts.py", "learning/xapi/output.py", "learning/xapi/multipart.py", "learning/video.py", "learning/fast.py", "learning/packed.py",
    "analytics/terms.py", "web/weekgrid.py",
}
RULES = sorted([*SRC.rglob("rules.py"), *SRC.rglob("rules/*.py"), *(SRC / m for m in PURE_MODULES)])


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(("trainquant", *(parts[:-1] if parts[-1] == "__init__" else parts)))


PURE_NAMES = {_module_name(p) for p in RULES}
ALLOWED_ROOTS = {
    "__future__", "abc", "bisect", "collections", "dataclasses", "datetime", "decimal", "enum", "fractions",
    "functools", "hashlib", "hmac", "heapq", "itertools", "math", "operator", "re", "statistics", "string",
    "typing", "unicodedata", "zoneinfo", "numpy", "random", "struct", "base64", "uuid", "json",
}
ALLOWED_MODULES = {"urllib.parse", "email.utils"}  # string parsing only; the rest of urllib and email does I/O
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
    bad = [n for n in _imports(tree) if n.split(".")[0] not in ALLOWED_ROOTS and n not in ALLOWED_MODULES | PURE_NAMES]
    assert not bad, f"{path.name} imports {bad}; rules must be pure (stdlib, NumPy, other pure modules)"


@pytest.mark.parametrize("path", RULES, ids=lambda p: str(p.relative_to(SRC)))
def test_rules_never_read_the_clock(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            assert (node.func.value.id, node.func.attr) not in FORBIDDEN_CALLS, f"{path.name} reads the clock"
