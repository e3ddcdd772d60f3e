from tests.integration.training.conftest import School, make_program, make_session, school  # noqa: F401
