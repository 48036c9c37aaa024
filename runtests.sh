#!/usr/bin/env bash
# Runs the tests, then the code-style check. Exits non-zero if either fails.
# Extra arguments go to pytest, e.g. ./runtests.sh -m relu_backward
cd "$(dirname "$0")" || exit 1
PYTHON="${PYTHON:-python}"
"$PYTHON" -m pytest "$@"
tests=$?
echo
# pycodestyle reads its settings (the line length) from setup.cfg.
echo "pycodestyle ."
"$PYTHON" -m pycodestyle . && echo "code style: clean"
style=$?
if [ "$tests" -ne 0 ] || [ "$style" -ne 0 ]; then
    echo "runtests: FAILED (pytest exit $tests, pycodestyle exit $style)"
    exit 1
fi
echo "runtests: all passed"
