"""xAPI 1.0.3 statements, pure: ``validate`` (every MUST rule, read as ADL's conformance suite reads it),
``compare`` (the canonical form for a repeated id) and ``formats`` (the error and the value checks)."""

from trainquant.learning.xapi.compare import IGNORED_IN_COMPARISON, statement_key
from trainquant.learning.xapi.formats import StatementError
from trainquant.learning.xapi.validate import validate_statement

__all__ = ["IGNORED_IN_COMPARISON", "StatementError", "statement_key", "validate_statement"]
