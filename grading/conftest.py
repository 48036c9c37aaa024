"""The value checks' failures (grading/value_checks.py) read like the tests': one line that names the gap."""
from tests.conftest import pytest_runtest_makereport  # noqa: F401  (a hook: pytest finds it by its name)
