#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu); the zip is in /autograder/source.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
