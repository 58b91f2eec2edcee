#!/usr/bin/env bash
# The course's main job (README, "The two commands"): set up .venv, then run every
# notebook in a profile and print a table of status, wall time, dataset and headline
# figures. Arguments go to tools/run_notebooks.py, e.g. --profile smoke, --only 03.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
if [ -z "${COURSE_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  COURSE_DATA_DIR="$(cd ../shared/data && pwd)"
  export COURSE_DATA_DIR
fi
bash tools/setup-venv.sh .venv dev
exec .venv/bin/python tools/run_notebooks.py "$@"
