#!/usr/bin/env bash
# Install checkov into its own virtualenv (.venv-checkov) at the repository root.
#
# checkov pins many libraries (boto3, pydantic, ...) at versions that conflict
# with the project's dev environment, so it must not share .venv. Idempotent:
# does nothing when .venv-checkov/bin/checkov already exists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv-checkov"
PYTHON="${PYTHON:-python3}"
CHECKOV_SPEC="${CHECKOV_SPEC:-checkov>=3.2,<4}"

if [[ -x "${VENV}/bin/checkov" ]]; then
    echo "checkov already installed: ${VENV}/bin/checkov"
    exit 0
fi

if [[ ! -x "${VENV}/bin/python" ]]; then
    "${PYTHON}" -m venv "${VENV}"
fi
"${VENV}/bin/python" -m pip install --quiet --upgrade pip
"${VENV}/bin/python" -m pip install --quiet "${CHECKOV_SPEC}"
"${VENV}/bin/checkov" --version
