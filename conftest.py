"""Loads the points plugin (grading/plugin.py): every `python -m pytest` ends with the points table."""
pytest_plugins = ("grading.plugin",)
