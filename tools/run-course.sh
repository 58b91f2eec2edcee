#!/usr/bin/env bash
# The course's main job (README, "The two commands"): set up .venv, then run every
# notebook in a profile and print a table of status, wall time, dataset and headline
# figures; then write the course report (<output root>/report.md, tools/course_report.py).
# Arguments go to tools/run_notebooks.py, e.g. --profile smoke, --only 03.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
if [ -z "${COURSE_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  COURSE_DATA_DIR="$(cd ../shared/data && pwd)"
  export COURSE_DATA_DIR
fi
bash tools/setup-venv.sh .venv dev
# Run the notebooks without stopping at a failure, so that the report below is written
# either way; the script still exits with the notebooks' status.
status=0
.venv/bin/python tools/run_notebooks.py "$@" || status=$?
# The report reads the same output root as the run (--output-dir DIR or --output-dir=DIR).
report_args=()
previous=""
for arg in "$@"; do
  case "$arg" in
    --output-dir=*) report_args=(--output-dir "${arg#--output-dir=}") ;;
  esac
  if [ "$previous" = "--output-dir" ]; then report_args=(--output-dir "$arg"); fi
  previous="$arg"
done
.venv/bin/python tools/course_report.py "${report_args[@]}" || status=$((status == 0 ? 1 : status))
exit "$status"
