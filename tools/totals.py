"""A grading result's totals, the one place they are computed (the terminal, the CSV, results.json, the pages and
the LMS files all read these):
- earned: the autograded points (code tasks and bonus) plus the tutor's, where --tutor-points merged them;
- of record: earned less the late penalty of the course's late policy (tools/course.py), where one applies.
"""
from grading import points
from tools.result import Result
from tools.tutor_points import number, tutor_total


def earned(result: Result):
    autograded = 0
    if result.rows:
        total = points.totals(result.rows)
        autograded = total["code"][0] + total["bonus"][0]
    return number(autograded + tutor_total(result))


def of_record(result: Result):
    late = result.late
    return number(late.of_record) if late is not None else earned(result)
