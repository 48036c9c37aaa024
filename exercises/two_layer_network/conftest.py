"""Makes this folder the root of its imports: `lib`, `tests` and `grading` are this exercise's, also when pytest
is started from elsewhere. (With setup.cfg here, pytest loads no conftest.py of the folders above.)"""
