#!/usr/bin/env python3
"""Checks every PromQL expression of the Grafana dashboards and the Prometheus rule files.

For every expression in dashboards/*.json (panel targets, template variable queries, annotation queries) and in
alerts/prometheus/*.yml (`expr:` of recording and alerting rules):
  (a) it must be valid PromQL: Grafana variables are replaced by valid values and all expressions are written as
      recording rules into a temporary file that `promtool check rules` parses;
  (b) every metric it reads must be one the service exports: the families of docs/reference/metrics.md (histograms as
      _bucket, _sum, _count), the recording rules defined in alerts/prometheus/*.yml, and `up`.
The exported metric families come from ONE place: a running service's /metrics (--metrics-url URL), else the file
alerts/prometheus/exported-metrics.txt ("NAME TYPE" lines).
The dashboards must also be valid JSON with a uid and a `datasource` variable of type prometheus; every alert's
runbook_url must name a section of docs/runbooks.md; every alert needs a firing and a not-firing promtool test case.

With --prometheus-url it also runs every expression on a live Prometheus (variables from --var NAME=VALUE), where
evaluation errors such as many-to-many matching show up.

Usage: .ci/check-dashboards.py [--metrics-url http://127.0.0.1:9470/metrics] [--root DIR]
                               [--prometheus-url http://127.0.0.1:9090 --var service=payments ...]
       .ci/check-dashboards.py --self-test
Exit status 0 when everything is fine, 1 with one line per problem otherwise. Python standard library only.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
# Words that are PromQL syntax, not metric names, wherever they appear outside of {...} and [...].
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
    "inf", "nan", "atan2", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}
# Keywords followed by a parenthesized list of label names.
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
ALWAYS_ALLOWED = {"up"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Grafana's built-in variables, replaced by a value of the right kind.
GRAFANA_BUILTINS = [
    (re.compile(r"\$\{?__(rate_interval|interval|range)\}?|\[\[__(rate_interval|interval|range)\]\]"), "5m"),
    (re.compile(r"\$\{?__(range_s|range_ms|interval_ms)\}?"), "300"),
]
GRAFANA_VARIABLE = re.compile(r"\$\{[A-Za-z0-9_]+(?::[A-Za-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z0-9_]+\]\]")


class Expression:
    """One PromQL expression and where it was found."""

    def __init__(self, where, text):
        self.where = where
        self.text = text


def substitute_grafana_variables(text, values=None):
    """Replaces Grafana's variables by valid values: built-in intervals by 5m, others by `values[name]` or "x"."""
    for pattern, value in GRAFANA_BUILTINS:
        text = pattern.sub(value, text)
    values = values or {}
    return GRAFANA_VARIABLE.sub(lambda m: values.get(re.sub(r"[^A-Za-z0-9_].*", "", m.group(0).lstrip("$[{")), "x"), text)


def query_problems(prometheus_url, expressions, values, require_data=None):
    """Runs every expression as an instant query on a live Prometheus; evaluation errors (e.g. many-to-many
    matching) only show up there. An expression whose text matches the regular expression `require_data` must also
    have a non-empty result. Returns (problems, number of expressions with a non-empty result)."""
    problems, non_empty = [], 0
    for expression in expressions:
        query = urllib.parse.urlencode({"query": substitute_grafana_variables(expression.text, values)})
        try:
            with urllib.request.urlopen(f"{prometheus_url}/api/v1/query?{query}", timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            answer = json.load(error)
        except OSError as error:
            return [f"cannot query {prometheus_url}: {error}"], 0
        if answer.get("status") != "success":
            problems.append(f"{expression.where}: Prometheus cannot evaluate it: {answer.get('error')}")
        elif answer["data"]["result"] not in ([], None):
            non_empty += 1
        elif require_data and re.search(require_data, expression.text):
            problems.append(f"{expression.where}: no data on {prometheus_url}: {expression.text}")
    return problems, non_empty


def metric_names(expr):
    """The metric names an expression reads (identifiers outside label matchers, ranges, strings and function calls)."""
    names = set()
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            i = skip_string(expr, i)
        elif c == "#":
            newline = expr.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif c in "{[":
            i = skip_group(expr, i, c, "}" if c == "{" else "]")
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            while i < n and (expr[i].isalnum() or expr[i] in "._"):
                i += 1
        elif IDENTIFIER.match(c):
            word = IDENTIFIER.match(expr, i).group(0)
            i += len(word)
            rest = i
            while rest < n and expr[rest].isspace():
                rest += 1
            followed_by_paren = rest < n and expr[rest] == "("
            if word in LABEL_LIST_KEYWORDS and followed_by_paren:
                i = skip_group(expr, rest, "(", ")")
            elif followed_by_paren or word in KEYWORDS:
                continue
            else:
                names.add(word)
        else:
            i += 1
    return names


def skip_string(expr, start):
    """Index after the quoted string that starts at `start` (backslash escapes, none in `raw` strings)."""
    quote, i = expr[start], start + 1
    while i < len(expr) and expr[i] != quote:
        i += 2 if expr[i] == "\\" and quote != "`" else 1
    return i + 1


def skip_group(expr, start, opening, closing):
    """Index after the `closing` that matches the `opening` at `start`, skipping quoted strings."""
    depth, i = 0, start
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            i = skip_string(expr, i)
            continue
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(expr)


def variable_query_expression(query):
    """The PromQL inside a Grafana Prometheus variable query, or None when it reads no metric."""
    query = query.strip()
    match = re.fullmatch(r"label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)", query, re.S)
    if match:
        return match.group(1)
    match = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if match:
        return match.group(1)
    if re.fullmatch(r"(label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)|label_names\(\s*\)|metrics\(.*\))", query, re.S):
        return None
    return query


def dashboard_expressions(path, problems):
    try:
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
    except (OSError, ValueError) as error:
        problems.append(f"{path}: not valid JSON: {error}")
        return []
    name = os.path.basename(path)
    if not dashboard.get("uid"):
        problems.append(f"{name}: the dashboard has no uid")
    variables = dashboard.get("templating", {}).get("list", [])
    if not any(v.get("name") == "datasource" and v.get("type") == "datasource" and v.get("query") == "prometheus"
               for v in variables):
        problems.append(f"{name}: no `datasource` variable of type datasource with query prometheus")
    found = []
    for variable in variables:
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        expr = variable_query_expression(query or "")
        if expr is not None:
            found.append(Expression(f"{name}: variable ${variable.get('name')}", expr))

    def walk(panels):
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                if target.get("expr"):
                    where = f"{name}: panel \"{panel.get('title')}\" target {target.get('refId')}"
                    found.append(Expression(where, target["expr"]))
                    problems.extend(exemplar_problems(where, panel.get("type"), target))
    walk(dashboard.get("panels", []))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            found.append(Expression(f"{name}: annotation \"{annotation.get('name')}\"", annotation["expr"]))
    return found


# Families whose OpenMetrics samples carry exemplars (docs/reference/metrics.md#exemplars).
EXEMPLAR_FAMILIES = ("dedup_double_executions_total", "dedup_retry_delay_seconds_bucket")


def exemplar_problems(where, panel_type, target):
    """A time-series or heatmap target over a family with exemplars must ask Grafana to show them."""
    if panel_type not in ("timeseries", "heatmap") or target.get("exemplar") is True:
        return []
    names = metric_names(target.get("expr", ""))
    if any(family in names for family in EXEMPLAR_FAMILIES):
        return [f"{where}: queries a family with exemplars but does not set \"exemplar\": true"]
    return []


def rule_file_entries(path, problems):
    """(expressions, recording rule names) of a Prometheus rule file, read with a parser for the block layout of
    rule files (`expr:` with a plain, quoted or block scalar); other layouts are reported, never skipped."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    name = os.path.basename(path)
    expressions, records = [], []
    key = re.compile(r"^(\s*)(-\s+)?(expr|record):\s*(.*?)\s*$")
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.split(" #")[0] if not line.lstrip().startswith("#") else ""
        match = key.match(line)
        if not match:
            if re.search(r"\b(expr|record)\s*:", stripped):
                problems.append(f"{name}:{i + 1}: unsupported layout for a rule (write `expr:`/`record:` one per line)")
            i += 1
            continue
        indent = len(match.group(1)) + len(match.group(2) or "")
        field, value = match.group(3), match.group(4)
        start = i
        i += 1
        if value[:1] in ("|", ">"):
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            text = "\n".join(block).strip()
        elif value[:1] == '"':
            try:
                text = json.loads(value)
            except ValueError:
                problems.append(f"{name}:{start + 1}: cannot read the double-quoted {field}")
                continue
        elif value[:1] == "'":
            if len(value) < 2 or not value.endswith("'"):
                problems.append(f"{name}:{start + 1}: cannot read the single-quoted {field}")
                continue
            text = value[1:-1].replace("''", "'")
        else:
            text = re.sub(r"\s+#.*$", "", value)
            while i < len(lines) and lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) > indent \
                    and not key.match(lines[i]):
                text += " " + lines[i].strip()
                i += 1
        if field == "record":
            records.append(text)
        else:
            expressions.append(Expression(f"{name}:{start + 1}", text))
    return expressions, records


def runbook_problems(root, rule_files):
    """Every `runbook_url: docs/runbooks.md#anchor` must name a heading of docs/runbooks.md."""
    runbooks = os.path.join(root, "docs", "runbooks.md")
    anchors = set()
    if os.path.exists(runbooks):
        with open(runbooks, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    heading = line.lstrip("#").strip().lower()
                    anchors.add(re.sub(r"[^a-z0-9 _-]", "", heading).replace(" ", "-"))
    problems = []
    for path in rule_files:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                match = re.match(r"\s*runbook_url:\s*['\"]?(\S*?)['\"]?\s*$", line)
                if not match:
                    continue
                url = match.group(1)
                anchor = url.split("#", 1)[1] if "docs/runbooks.md#" in url else None
                if anchor is None or anchor not in anchors:
                    problems.append(f"{os.path.basename(path)}:{number}: runbook_url {url} names no section of docs/runbooks.md")
    return problems


def alert_test_problems(root, rule_files):
    """Every alert needs a firing and a not-firing case in alerts/prometheus/tests/*.test.yml."""
    alerts = []
    for path in rule_files:
        with open(path, encoding="utf-8") as f:
            alerts += re.findall(r"^\s*-\s+alert:\s*(\S+)\s*$", f.read(), re.M)
    cases = {}
    for path in sorted(glob.glob(os.path.join(root, "alerts", "prometheus", "tests", "*.test.yml"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for match in re.finditer(r"^\s*-\s+alertname:\s*(\S+)\s*\n(?:.*\n)*?\s*exp_alerts:\s*(\S*)", text, re.M):
            kind = "not firing" if match.group(2) == "[]" else "firing"
            cases.setdefault(match.group(1), set()).add(kind)
    return [f"alert {alert} has no {kind} case in alerts/prometheus/tests"
            for alert in alerts for kind in ("firing", "not firing") if kind not in cases.get(alert, set())]


def exported_from_file(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#")[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or not IDENTIFIER.fullmatch(parts[0]):
                raise SystemExit(f"check-dashboards: {path}:{number}: expected \"NAME TYPE\", got {line!r}")
            names |= family_names(parts[0], parts[1])
    return names


def exported_from_metrics(text):
    names = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "#" and parts[1] == "TYPE":
            names |= family_names(parts[2], parts[3])
        elif line and not line.startswith("#"):
            match = IDENTIFIER.match(line)
            if match:
                names.add(match.group(0))
    return names


def family_names(name, kind):
    if kind == "histogram":
        # The bare name is the series of a native histogram (the protobuf format, docs/reference/metrics.md).
        return {name} | {name + suffix for suffix in HISTOGRAM_SUFFIXES}
    if kind == "summary":
        return {name, name + "_sum", name + "_count"}
    return {name}


def check(expressions, allowed, promtool="promtool"):
    """Problems of the expressions: promtool parse errors and unknown metric names."""
    problems = []
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "expressions.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("groups:\n  - name: check-dashboards\n    rules:\n")
            for index, expression in enumerate(expressions):
                text = substitute_grafana_variables(expression.text)
                f.write(f"      - record: check:expr_{index}\n        expr: {json.dumps(text)}\n")
        result = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            reported = False
            for match in re.finditer(r'"check:expr_(\d+)": (.*)', output):
                expression = expressions[int(match.group(1))]
                problems.append(f"{expression.where}: invalid PromQL: {match.group(2)}\n    {expression.text.strip()}")
                reported = True
            if not reported:
                problems.append("promtool check rules failed:\n" + output.strip())
    for expression in expressions:
        unknown = sorted(metric_names(substitute_grafana_variables(expression.text)) - allowed)
        if unknown:
            problems.append(f"{expression.where}: reads metric(s) the service does not export: {', '.join(unknown)}")
    return problems


def self_test():
    """Shows that the checker catches an invalid expression and an unknown metric name, and passes good ones."""
    allowed = {"dedup_events_total", "dedup_retry_delay_seconds_bucket", "up", "service_operation:dedup_attempts:rate5m"}
    cases = [
        ("good", 'sum by (service, operation) (rate(dedup_events_total{outcome=~"hit|in_flight", service=~"$service"}'
                 '[$__rate_interval])) / on (service) group_left () sum without (instance) (up offset 5m)', None),
        ("good histogram", 'histogram_quantile(0.9, sum by (le) (rate(dedup_retry_delay_seconds_bucket[5m])))', None),
        ("good rule", "service_operation:dedup_attempts:rate5m * 300 >= bool 50", None),
        ("bad syntax", "sum(rate(dedup_events_total[5m])", "invalid PromQL"),
        ("bad metric", 'rate(dedup_event_total{outcome="hit"}[5m]) > 0', "dedup_event_total"),
        ("bad metric with a label matcher", 'dedup_attempts{window="5m"}', "dedup_attempts"),
    ]
    failures = 0
    for where, text, expected in cases:
        problems = check([Expression(where, text)], allowed)
        ok = (not problems) if expected is None else any(expected in p for p in problems)
        print(f"self-test: {'ok  ' if ok else 'FAIL'} {where}: {problems or 'no problem'}")
        failures += 0 if ok else 1
    names = metric_names('foo{a="b{c}"} + on (x) bar[5m:1m] offset 1h - sum by (le) (baz) * 1e-3 + topk(3, qux)')
    ok = names == {"foo", "bar", "baz", "qux"}
    print(f"self-test: {'ok  ' if ok else 'FAIL'} metric name extraction: {sorted(names)}")
    failures += 0 if ok else 1
    missing = exemplar_problems("no exemplar", "timeseries", {"expr": "rate(dedup_double_executions_total[5m])"})
    shown = exemplar_problems("exemplar", "timeseries", {"expr": "rate(dedup_double_executions_total[5m])", "exemplar": True})
    ok = len(missing) == 1 and not shown and not exemplar_problems("stat", "stat", {"expr": "dedup_double_executions_total"})
    print(f"self-test: {'ok  ' if ok else 'FAIL'} exemplar display on panels of exemplar families")
    failures += 0 if ok else 1
    query = variable_query_expression("label_values(dedup_events_total{job=~\"$job\"}, service)")
    ok = query == 'dedup_events_total{job=~"$job"}' and variable_query_expression("label_values(service)") is None
    print(f"self-test: {'ok  ' if ok else 'FAIL'} label_values() variable queries")
    failures += 0 if ok else 1
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metrics-url", help="read the exported metric names from this /metrics URL")
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                        help="repository root (default: the parent of .ci)")
    parser.add_argument("--prometheus-url", help="also evaluate every expression on this live Prometheus")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="value of a dashboard variable for --prometheus-url (default x)")
    parser.add_argument("--require-data", metavar="REGEX",
                        help="with --prometheus-url, expressions matching REGEX must return data")
    parser.add_argument("--self-test", action="store_true", help="show that bad expressions and names are caught")
    args = parser.parse_args()
    if args.self_test:
        return self_test()

    root = os.path.abspath(args.root)
    problems = []
    if args.metrics_url:
        try:
            with urllib.request.urlopen(args.metrics_url, timeout=10) as response:
                exported = exported_from_metrics(response.read().decode("utf-8"))
        except OSError as error:
            print(f"check-dashboards: cannot read {args.metrics_url}: {error}", file=sys.stderr)
            return 1
        source = args.metrics_url
    else:
        source = os.path.join(root, "alerts", "prometheus", "exported-metrics.txt")
        exported = exported_from_file(source)

    expressions, records = [], []
    rule_files = sorted(glob.glob(os.path.join(root, "alerts", "prometheus", "*.yml")))
    for path in rule_files:
        found, names = rule_file_entries(path, problems)
        expressions += found
        records += names
    dashboards = sorted(glob.glob(os.path.join(root, "dashboards", "*.json")))
    for path in dashboards:
        expressions += dashboard_expressions(path, problems)
    if not rule_files or not dashboards or not expressions:
        problems.append(f"no rule files or dashboards or expressions found under {root}")

    problems += runbook_problems(root, rule_files)
    problems += alert_test_problems(root, rule_files)
    allowed = exported | set(records) | ALWAYS_ALLOWED
    problems += check(expressions, allowed)
    evaluated = ""
    if args.prometheus_url and not problems:
        values = dict(item.split("=", 1) for item in args.var)
        live, non_empty = query_problems(args.prometheus_url.rstrip("/"), expressions, values, args.require_data)
        problems += live
        evaluated = f"; evaluated on {args.prometheus_url}, {non_empty} with data"
    if problems:
        for problem in problems:
            print(f"check-dashboards: {problem}", file=sys.stderr)
        print(f"check-dashboards: FAILED with {len(problems)} problem(s) (metric names from {source})", file=sys.stderr)
        return 1
    print(f"check-dashboards: OK: {len(expressions)} expressions in {len(dashboards)} dashboards and "
          f"{len(rule_files)} rule files; metric names from {source}{evaluated}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
