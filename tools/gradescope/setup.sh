#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu); the zip is in /autograder/source.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
# The separate-user fallback, for when the image refuses bubblewrap's namespaces (tools/sandbox.py).
id exercise3-sandbox >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin exercise3-sandbox
