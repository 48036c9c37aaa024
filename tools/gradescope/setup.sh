#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu); the zip is in /autograder/source.
# The grader runs on the image's Python; the students' code runs on the sheet's Python 3.8 where it can be had
# (deadsnakes' python3.8), else on the image's Python, and every report then names that Python.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y python3 python3-pip python3-venv bubblewrap util-linux software-properties-common
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
if add-apt-repository -y ppa:deadsnakes/ppa && apt-get update && apt-get install -y python3.8 python3.8-venv; then
    python3.8 -m venv /autograder/venv38
    /autograder/venv38/bin/pip install --upgrade pip
    /autograder/venv38/bin/pip install -r /autograder/source/requirements.txt
else
    echo "setup.sh: no Python 3.8 on this image: the students' code will run on $(python3 --version)" >&2
fi
