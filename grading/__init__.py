"""The points of exercise 3: the points table (tasks.py), how test outcomes and the bonus checks become points
(points.py), and the pytest plugin that prints them after every test run (plugin.py).

It ships with the handout, so students see their points locally; the instructor's grader uses the same code
on a fresh copy of it.
"""
