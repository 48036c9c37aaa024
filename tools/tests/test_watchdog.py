"""The grader's time limits, kept in the grader's process (tools/testrun.py): a per-test limit from the events it
reads, and a limit for all of a submission's runs. A gap can turn off whatever runs in its own process (SIGALRM, its
timers, pytest-timeout), write to the log, or forge its events: none of that buys time, and the class run goes on
with one row per submission. GRADE_TEST_SANDBOX=bwrap|user picks the sandbox (.ci/run runs this file in both).
"""
import json
import os
import time

import pytest

from tools import grade, testrun
from tools.tests.test_grade import ALL, make_handout

SANDBOX = os.environ.get("GRADE_TEST_SANDBOX", "auto")
LIMIT = 3
LIMITS = testrun.DEFAULT_LIMITS._replace(per_test_seconds=LIMIT, run_seconds=60)
pytestmark = pytest.mark.timeout(600)

# The log's descriptor, from the arguments the grader gave pytest.
LOG_FD = "import sys\nfd = int(sys.argv[sys.argv.index('--points-log-fd') + 1])\n"
STALLS = {
    "ignores SIGALRM": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                       "signal.setitimer(signal.ITIMER_REAL, 0)\nwhile True:\n    pass",
    "swallows every exception": "while True:\n    try:\n        while True:\n            pass\n"
                                "    except BaseException:\n        pass",
    "sleeps in C": "import time\ntime.sleep(10 ** 6)",
    "loops in NumPy": "a = np.ones((300, 300))\nwhile True:\n    a = np.dot(a, a) / 300.0",
    "keeps the log growing": (LOG_FD + "import os, json, time\nwhile True:\n    os.write(fd, b'\\n\\n')\n"
                              "    os.write(fd, json.dumps({'event': 'start', 'nodeid': 'tests/x.py::y'}).encode()"
                              " + b'\\n')\n    os.write(fd, b'{\"event\": \"result\"')\n    time.sleep(0.2)"),
}


def event(kind, nodeid):
    return {"event": kind, "nodeid": nodeid}


def test_a_test_gets_one_limit_from_its_start_and_forged_events_extend_nothing():
    watchdog = testrun.Watchdog(LIMIT, ["a", "b"], now=0.0)
    assert not watchdog.over(testrun.STARTUP_SECONDS) and watchdog.over(testrun.STARTUP_SECONDS + 2)
    watchdog.see(event("start", "a"), 1.0)
    assert watchdog.running == "a" and watchdog.over(1.0 + LIMIT + testrun.MARGIN_SECONDS + 0.1)
    for forged in (event("start", "a"), event("start", "unknown"), event("result", "unknown"),
                   event("result", "b"), {"event": "start"}, {"event": "start", "nodeid": 3}):
        watchdog.see(forged, 3.0)  # a repeated start, tests not asked for, a result without a start, no node id
    assert watchdog.running == "a" and watchdog.over(1.0 + LIMIT + testrun.MARGIN_SECONDS + 0.1)
    watchdog.see(event("result", "a"), 2.0)
    watchdog.see(event("result", "a"), 4.0)  # ends once
    assert watchdog.running is None and watchdog.over(2.0 + LIMIT + testrun.MARGIN_SECONDS + 0.1)


def test_the_log_is_read_in_complete_well_formed_lines_only(tmp_path):
    path = str(tmp_path / "log.jsonl")
    tail = testrun.LogTail(path)
    assert tail.new_events() == []
    with open(path, "wb") as file:
        file.write(b'\n\nnot json\n[1, 2]\n{"no": "event"}\n' + json.dumps(event("start", "a")).encode() +
                   b'\n{"event": "result", "nodeid": "a"')
    assert tail.new_events() == [event("start", "a")]
    with open(path, "ab") as file:
        file.write(b'}\n')
    assert tail.new_events() == [event("result", "a")]


@pytest.fixture(scope="module")
def stalled(tmp_path_factory):
    """Every gap filled with the solution but ReLU.backward's, which stalls in its own way; graded as a class."""
    root = tmp_path_factory.mktemp("stalls")
    os.chmod(str(root), 0o700)
    paths = []
    for index, body in enumerate(STALLS.values()):
        paths.append(str(make_handout(root / "stall-{}".format(index), fill=ALL, bodies={"relu_backward": body})))
    started = time.time()
    results = grade.grade_folders(paths, jobs=2, sandbox=SANDBOX, limits=LIMITS)
    return results, time.time() - started


@pytest.mark.parametrize("index, name", list(enumerate(STALLS)), ids=list(STALLS))
def test_a_stalling_gap_is_stopped_at_the_per_test_limit_and_costs_its_task_only(stalled, index, name):
    results, _ = stalled
    result = results[index]
    assert result.error is None, result.error
    rows = {row.task.key: row for row in result.rows}
    assert rows["relu_backward"].points == 0, rows["relu_backward"]
    assert "ran past its time limit of {:g} s".format(LIMIT) in rows["relu_backward"].detail, rows["relu_backward"]
    kept = {key: row.points for key, row in rows.items() if key in ALL and key != "relu_backward"}
    assert all(points == row.task.points for key, points in kept.items() for row in [rows[key]]), kept
    # One timed-out test (with the start-up of the next process), not the run limit.
    assert result.seconds < LIMITS.run_seconds / 2, result.seconds


def test_the_class_run_finishes_in_the_stated_bound(stalled):
    results, seconds = stalled
    assert len(results) == len(STALLS)
    # Each submission holds a worker for about one per-test limit more than a complete one (a few seconds).
    assert seconds < len(STALLS) * (LIMIT + 20), seconds


def test_forged_events_cannot_loop_the_grader_and_the_run_limit_holds(tmp_path):
    # Results for tests that were not asked for, starts for every test asked for (each one buys a limit at most),
    # then an exit: each process must settle a test asked for, or a test fails.
    forge = (LOG_FD + "import os, json, time\nfor nodeid in [a for a in sys.argv if '::' in a]:\n"
             "    os.write(fd, (json.dumps({'event': 'result', 'nodeid': nodeid + 'x', 'outcome': 'passed'})"
             " + '\\n').encode())\n"
             "    os.write(fd, (json.dumps({'event': 'start', 'nodeid': nodeid}) + '\\n').encode())\n"
             "    time.sleep(" + str(LIMIT - 1) + ")\nos._exit(0)")
    path = make_handout(tmp_path / "forger", fill=ALL, bodies={"relu_backward": forge})
    limits = LIMITS._replace(run_seconds=25)
    started = time.time()
    result = grade.grade_folders([str(path)], jobs=1, sandbox=SANDBOX, limits=limits)[0]
    seconds = time.time() - started
    assert result.error is None, result.error
    rows = {row.task.key: row for row in result.rows}
    assert rows["relu_backward"].points == 0, rows["relu_backward"]
    # The run limit ended it, and the grader (start-up, collection, the reference's outputs) adds some seconds.
    assert seconds < limits.run_seconds + 30, seconds
    assert any("used up their time limit of 25 s" in row.detail for row in rows.values()), rows


def test_what_a_log_can_make_the_grader_keep_is_small(tmp_path):
    # A forged result whose properties are 16 MB of JSON became about 420 MB of Python objects in the grader, kept
    # for every test of the submission (the red team's run grew past 6 GB). Now a line over EVENT_BYTES is passed
    # over unparsed, and of a result only what the grader reads is kept: a value check's values, a lines item's
    # lines, a message of at most 4,000 characters.
    check = testrun.VALUE_CHECK_ITEM + "relu_backward]"
    lines = [json.dumps({"event": "result", "nodeid": "tests/a.py::huge", "outcome": "passed",
                         "properties": {"p": [{}] * 500000}}),
             json.dumps({"event": "result", "nodeid": "tests/a.py::many", "outcome": "failed", "message": "m" * 10 ** 5,
                         "properties": {"p": [{}] * 100000, "values": [1]}}),
             json.dumps({"event": "result", "nodeid": check, "outcome": "passed",
                         "properties": {"values": {"dL/dz": [1.0]}, "p": [{}] * 1000}})]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert len(lines[0]) > testrun.EVENT_BYTES > len(lines[1])
    started = time.time()
    log = testrun.read_log(str(path))
    assert time.time() - started < 10
    assert "tests/a.py::huge" not in log.outcomes
    many = log.outcomes["tests/a.py::many"]
    assert many["properties"] == {} and len(many["message"]) == testrun.MESSAGE_CHARACTERS
    assert log.outcomes[check]["properties"] == {"values": {"dL/dz": [1.0]}}
    assert [event["nodeid"] for event in testrun.LogTail(str(path)).new_events()] == ["tests/a.py::many", check]
