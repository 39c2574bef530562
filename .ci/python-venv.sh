#!/usr/bin/env bash
# Prints the path of a Python virtual environment holding the pinned PyPI packages given as arguments
# (e.g. schemathesis==4.32.5), creating it or adding to it as needed. Shared by the CI scripts that drive the service
# with Python clients; kept outside the repository ($DEDUP_VITALS_CI_VENV, default under $TMPDIR).
set -euo pipefail
venv="${DEDUP_VITALS_CI_VENV:-${TMPDIR:-/tmp}/dedup-vitals-ci-venv}"
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
  fi
fi
missing=()
for requirement in "$@"; do
  "$venv/bin/python" -m pip show -q "${requirement%%==*}" >/dev/null 2>&1 &&
    [ "$("$venv/bin/python" -m pip show "${requirement%%==*}" | sed -n 's/^Version: //p')" = "${requirement#*==}" ] ||
    missing+=("$requirement")
done
if [ ${#missing[@]} -gt 0 ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}" >&2
fi
echo "$venv"
