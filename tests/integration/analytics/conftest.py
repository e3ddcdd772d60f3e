from tests.integration.training.conftest import (  # noqa: F401
    School,
    make_program,
    make_session,
    school,
)
