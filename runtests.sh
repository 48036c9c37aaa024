#!/usr/bin/env bash
# Runs the tests, then the code-style check. Exits non-zero if either fails.
# Extra arguments go to pytest, e.g. ./runtests.sh -m relu_backward
cd "$(dirname "$0")" || exit 1
PYTHON="${PYTHON:-python}"
# The points plugin writes the test that is running to this file, then "table" once the points table is printed:
# a run that a gap ended (os._exit, a crash) can exit 0 without either.
status="$(mktemp "${TMPDIR:-/tmp}/runtests-status.XXXXXX")" || exit 1
trap 'rm -f "$status"' EXIT
POINTS_STATUS_FILE="$status" "$PYTHON" -m pytest "$@"
tests=$?
ended=""
if [ -s "$status" ] && [ "$(cat "$status")" != "table" ]; then
    during="$(sed -n 's/^running //p' "$status")"
    ended="the test run ended${during:+ during $during} before it printed the points table (os._exit, a crash, or a time-out that ended Python)"
fi
echo
# pycodestyle reads its settings (the line length) from setup.cfg.
echo "pycodestyle ."
"$PYTHON" -m pycodestyle . && echo "code style: clean"
style=$?
if [ -n "$ended" ]; then
    echo "runtests: FAILED: $ended"
    exit 1
fi
if [ "$tests" -ne 0 ] || [ "$style" -ne 0 ]; then
    echo "runtests: FAILED (pytest exit $tests, pycodestyle exit $style)"
    exit 1
fi
echo "runtests: all passed"
