#!/usr/bin/env bash
# The two Quickstart commands:
#   bash scripts/run.sh main [options]   build the corpus, train, evaluate and card the addition model
#   bash scripts/run.sh test [pytest options]   lint and run the test suite
# Each creates or reuses a virtual environment (ARITH_HF_VENV, default .venv) and installs what it needs.
# TORCH_SPEC (default torch==2.13.0, the CPU build) picks the torch release: a GPU user sets their own.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${ARITH_HF_VENV:-.venv}
torch_spec=${TORCH_SPEC:-torch==2.13.0}
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
py="$venv/bin/python"

# install again only when pyproject.toml or the torch spec changed since the last install
want="$("$py" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest()[:16])') $torch_spec"
stamp="$venv/.arith_hf-installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing into $venv ($torch_spec)"
  "$py" -m pip install -q --upgrade pip
  "$py" -m pip install -q "$torch_spec"
  "$py" -m pip install -q -e ".[test]" "$torch_spec"
  echo "$want" > "$stamp"
fi

command=${1:-}
shift || true
case "$command" in
  main)
    exec "$py" scripts/main.py "$@"
    ;;
  test)
    "$venv/bin/ruff" check .
    "$venv/bin/ruff" format --check .
    exec "$py" -m pytest "$@"
    ;;
  *)
    echo "usage: bash scripts/run.sh {main|test} [options]" >&2
    exit 2
    ;;
esac
