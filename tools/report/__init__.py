"""The class report of tools/grade.py --report DIR: a static site that opens from disk, offline.

findings.py: what the grader keeps for the report (the lines counts of the vectorisation rule, the student's
sources that findings name); it imports nothing beyond the grader's own needs. site.py: the pages (Jinja2 with
autoescaping, the histograms by matplotlib as inline PNG); only --report imports it.
"""
