"""The marker of the kit's own tests (the root conftest.py loads the points plugin for them, as for every run)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "one_sandbox: what the test checks is the grader's own logic, the same whichever sandbox runs the "
        "students' code, so .ci/run's step with the separate-user fallback leaves it out (-m 'not one_sandbox')")
