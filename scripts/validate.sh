#!/usr/bin/env bash
# Quick static checks, run by .ci/run before the build and by developers before a commit (a few seconds):
# - formatting: swift-format (from the toolchain) with the repository's .swift-format, in strict lint mode;
#   `swift format format -i -r Sources Tests Benchmarks Fuzz` fixes what it reports;
# - docs: every relative link and anchor in README.md and docs/ resolves;
# - metrics: dashboards and rule files query only exported families (alerts/prometheus/exported-metrics.txt).
# Exits non-zero with one line per problem.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
echo "== swift-format lint"
swift format lint --strict --recursive --parallel Sources Tests Benchmarks Fuzz || status=1

echo "== doc links"
python3 .ci/check-doc-links.py || status=1

echo "== dashboards and rules against the exported metrics"
python3 .ci/check-dashboards.py || status=1

if [ "$status" -ne 0 ]; then
  echo "validate: problems found (see above)" >&2
fi
exit "$status"
