"""The graded tests of exercise 3. Run one file with `python -m tests.test_<name>`."""
