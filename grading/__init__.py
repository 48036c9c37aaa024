"""The points of exercise 3 and what computes them, shipped with the handout (students see their points locally)
and used by the instructor's grader on a fresh copy of it:
- tasks.py: the task registry, the one list of the tasks and their points;
- points.py: test outcomes and the bonus checks into points, the tables students and the grader print;
- plugin.py and conftest.py: the pytest plugin that counts the points after every test run;
- gaps.py: finding, cutting and splicing the TODO gaps;
- checks.py, value_checks.py, values.py, stand_ins.py: the value checks (a gap's outputs on inputs drawn from a
  seed), how their values are compared, and the stand-ins that other tasks' checks use in place of a gap;
- style.py and bounded.py: pycodestyle's driver and the bounded child process it runs in.
"""
