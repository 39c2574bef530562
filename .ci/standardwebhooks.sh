#!/usr/bin/env bash
# Verifies the real service's webhook signatures with the official Standard Webhooks library for Python
# (standardwebhooks from PyPI, pinned): see .ci/webhook_signatures.py.
# Usage: .ci/standardwebhooks.sh PATH/TO/dedup-vitals
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:?usage: .ci/standardwebhooks.sh PATH/TO/dedup-vitals}"
[ -x "$bin" ] || { echo "standardwebhooks: no executable at $bin" >&2; exit 1; }
venv="$(bash .ci/python-venv.sh standardwebhooks==1.1.0)"
"$venv/bin/python" .ci/webhook_signatures.py "$bin"
