#!/usr/bin/env bash
# The course's test command (README, "The two commands"); CI runs exactly this.
#
# 1. the main environment (.venv, newest releases, the "dev" extra):
#    lint and format checks, unit tests, every notebook in the smoke profile with
#    papermill, then nbval on the executed copies, then the course's website built
#    from those copies and read in headless Chromium, and the live widgets in
#    JupyterLab (both skipped, saying why, without /usr/bin/chromium or playwright);
# 2. the Colab environment (.venv-colab, Colab's pinned TensorFlow/Keras/NumPy/
#    ipywidgets/matplotlib, the "test" extra): unit tests and every notebook's smoke
#    profile with papermill.
#
# Data: COURSE_DATA_DIR if set, else ../shared/data when it exists, else data/ or a download.
# Run one part only with: bash tools/test.sh main   |   bash tools/test.sh colab
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
workers=${TEST_WORKERS:-2}
export TF_CPP_MIN_LOG_LEVEL=2
if [ -z "${COURSE_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  COURSE_DATA_DIR="$(cd ../shared/data && pwd)"
  export COURSE_DATA_DIR
fi
echo "data: ${COURSE_DATA_DIR:-data/ or a download}"

if [ "$part" = all ] || [ "$part" = main ]; then
  echo "== main environment: .venv =="
  bash tools/setup-venv.sh .venv dev
  export PATH="$PWD/.venv/bin:$PATH"  # nbgrader calls `alembic` from PATH
  ruff check .
  ruff format --check .
  rm -rf outputs/smoke outputs/nbval outputs/site outputs/site-screenshots
  python -m pytest -n "$workers" --durations=15 -m "not browser"
  # nbval re-executes the executed copies (smoke parameters injected) and compares the
  # cells marked `# NBVAL_CHECK_OUTPUT`: a reproducibility check of those cells. Each
  # notebook stays on one worker (--dist loadfile): its cells share one kernel.
  COURSE_OUTPUT_DIR="$PWD/outputs/nbval" python -m pytest -n "$workers" --dist loadfile -p no:cacheprovider \
    --nbval-lax --nbval-sanitize-with tools/nbval-sanitize.cfg outputs/smoke/executed/*.ipynb
  # The course as a website, from the smoke run's executed copies, then every page in a
  # browser: formulas typeset, figures loaded, links resolved, nothing from the network;
  # and the live explorers and progress bar in JupyterLab, driven by the same browser.
  python tools/build_site.py --from outputs/smoke/executed --out outputs/site
  COURSE_SITE_DIR="$PWD/outputs/site" python -m pytest -p no:cacheprovider --durations=5 \
    -m browser tests/test_site.py tests/test_browser_jupyterlab.py
fi

if [ "$part" = all ] || [ "$part" = colab ]; then
  echo "== Colab environment: .venv-colab =="
  bash tools/setup-venv.sh .venv-colab test tools/colab-constraints.txt
  .venv-colab/bin/python tools/check_versions.py tools/colab-constraints.txt
  rm -rf outputs/smoke
  # The student versions already ran in the main environment; here only the notebooks.
  .venv-colab/bin/python -m pytest -n "$workers" --durations=10 -m "not browser" \
    -k "not test_student_version_of_each_notebook_runs"
fi
