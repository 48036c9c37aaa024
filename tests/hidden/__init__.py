"""Hidden tests: run by tools/grade.py and in this repository, never shipped in the handout."""
