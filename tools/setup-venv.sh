#!/usr/bin/env bash
# Create a virtual environment (or reuse one) and install the course into it, editable.
#   bash tools/setup-venv.sh [VENV_DIR] [EXTRA] [CONSTRAINTS_FILE]
# EXTRA is an optional-dependency group of pyproject.toml ("dev" or "test");
# CONSTRAINTS_FILE pins versions (tools/colab-constraints.txt mirrors Colab).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
extra=${2:-dev}
constraints=${3:-}
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi
args=(-e ".[$extra]")
if [ -n "$constraints" ]; then
  args+=(-c "$constraints")
fi
"$venv/bin/python" -m pip install -q "${args[@]}"
"$venv/bin/python" -m pip check
