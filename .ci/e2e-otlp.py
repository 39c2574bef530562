"""Drives a live dedup-vitals at sys.argv[1] with the OpenTelemetry Python SDK and with OTLP JSON bodies.

Run by .ci/e2e-otlp.sh inside a venv holding opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http.
Every check is exact; the first failure exits non-zero with what differed.
"""
import gzip
import json
import logging
import sys
import time
import urllib.error
import urllib.request

from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import TraceFlags

BASE = sys.argv[1]
EVENT_NAME = "dedup_vitals.decision"
TRACE_FIRST = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_FIRST = 0x00F067AA0BA902B7
TRACE_SECOND = 0x5B8EFFF798038103D269B633813FC60C
SPAN_SECOND = 0xEEE19B7EC3C1B174


def fail(message):
    print(f"e2e-otlp: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def expect(actual, expected, what):
    if actual != expected:
        fail(f"{what}: expected {expected!r}, got {actual!r}")


def get(path):
    with urllib.request.urlopen(BASE + path, timeout=10) as response:
        return response.read().decode()


def openmetrics():
    request = urllib.request.Request(BASE + "/metrics", headers={"Accept": "application/openmetrics-text"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def exemplar(name_and_labels):
    """The exemplar of an OpenMetrics sample: (labels, value), or None."""
    for line in openmetrics().splitlines():
        if line.startswith(name_and_labels + " ") and " # {" in line:
            labels, rest = line.split(" # {", 1)[1].split("} ", 1)
            return dict(part.split("=", 1) for part in labels.split(",")), float(rest.split(" ")[0])
    return None


def trace(trace_id, span_id):
    return {"trace_id": f"{trace_id:032x}", "span_id": f"{span_id:016x}"}


def metric(name_and_labels):
    for line in get("/metrics").splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.split(" ")[1])
    return None


def totals(service, operation):
    for series in json.loads(get("/v1/summary"))["series"]:
        if series["service"] == service and series["operation"] == operation:
            return series["totals"]
    return None


def lookup(service, operation, key):
    return json.loads(get(f"/v1/keys/lookup?service={service}&operation={operation}&key={key}"))


class CountingExporter(OTLPLogExporter):
    """The SDK's exporter, counting export calls and their results (a retry would be inside one call)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.results = []

    def export(self, batch):
        result = super().export(batch)
        self.results.append((len(batch), result))
        return result


def decision(logger, operation, outcome, key=None, trace_id=None, span_id=None, **extra):
    attributes = {"dedup_vitals.operation": operation, "dedup_vitals.outcome": outcome, "http.route": "/refunds"}
    if key is not None:
        attributes["dedup_vitals.key"] = key
    attributes.update(extra)
    logger.emit(LogRecord(
        timestamp=time.time_ns(), event_name=EVENT_NAME, attributes=attributes, body=f"{operation} {outcome}",
        trace_id=trace_id, span_id=span_id, trace_flags=TraceFlags(TraceFlags.SAMPLED) if trace_id else None))


def sdk_protobuf_gzip():
    exporter = CountingExporter(endpoint=BASE + "/v1/logs", compression=Compression.Gzip, timeout=10)
    provider = LoggerProvider(resource=Resource.create({"service.name": "payments", "deployment.environment": "ci"}))
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000))
    logger = provider.get_logger("refund-handler", "1.0.0")

    # Key order-1 ran twice (two misses), order-2 was replayed twice; order-3 is still in flight.
    decision(logger, "refund", "miss", "order-1", TRACE_FIRST, SPAN_FIRST)
    decision(logger, "refund", "completed", "order-1")
    decision(logger, "refund", "miss", "order-1", TRACE_SECOND, SPAN_SECOND, **{"dedup_vitals.age_ms": 1200})
    decision(logger, "refund", "miss", "order-2", **{"dedup_vitals.payload": "sha256:9f2c"})
    decision(logger, "refund", "hit", "order-2", **{"dedup_vitals.age_ms": 40})
    decision(logger, "refund", "hit", "order-2", **{"dedup_vitals.age_ms": 90})
    decision(logger, "refund", "miss", "order-3", **{"dedup_vitals.client": "mobile-app"})
    # Another service, set on the record.
    decision(logger, "charge", "in_flight", "c-1", **{"dedup_vitals.service": "billing"})
    # Not decisions: a plain log line through the logging bridge, and an event of another name.
    handler = LoggingHandler(logger_provider=provider)
    plain = logging.getLogger("e2e-otlp")
    plain.propagate = False
    plain.addHandler(handler)
    plain.warning("a log line that is not a decision")
    logger.emit(LogRecord(timestamp=time.time_ns(), event_name="http.request", attributes={"dedup_vitals.outcome": "miss"}))
    # An invalid decision: rejected alone, in partial_success.
    decision(logger, "refund", "maybe", "order-4")

    provider.force_flush()
    provider.shutdown()
    expect(exporter.results, [(11, LogRecordExportResult.SUCCESS)], "export calls of the SDK (one batch, no retry)")
    expect(metric('dedup_ingest_requests_total{code="200"}'), 1.0, "requests answered 200 (the SDK did not retry)")
    expect(metric("dedup_otlp_ignored_log_records_total"), 2.0, "ignored records")
    expect(metric('dedup_ingest_events_total{result="accepted"}'), 8.0, "accepted events")
    expect(metric('dedup_ingest_events_total{result="rejected"}'), 1.0, "rejected events")
    expect(metric('dedup_events_total{service="payments",operation="refund",outcome="miss"}'), 4.0, "misses")
    expect(metric('dedup_events_total{service="payments",operation="refund",outcome="hit"}'), 2.0, "hits")
    expect(metric('dedup_double_executions_total{service="payments",operation="refund"}'), 1.0, "double executions")
    expect(metric('dedup_events_total{service="billing",operation="charge",outcome="in_flight"}'), 1.0, "billing in_flight")
    refund = totals("payments", "refund")
    expect((refund["miss"], refund["hit"], refund["completed"], refund["attempts"]), (4, 2, 1, 6), "/v1/summary payments/refund")
    first = lookup("payments", "refund", "order-1")
    expect((first["counts"]["miss"], first["counts"]["completed"], first["executions"]), (2, 1, 2), "lookup order-1")
    expect(first.get("traces"), {"first_miss": trace(TRACE_FIRST, SPAN_FIRST), "double_execution": trace(TRACE_SECOND, SPAN_SECOND),
                                 "lock": trace(TRACE_SECOND, SPAN_SECOND)}, "lookup order-1: the traces of both executions")
    expect(exemplar('dedup_double_executions_total{service="payments",operation="refund"}'),
           ({"trace_id": f'"{TRACE_SECOND:032x}"', "span_id": f'"{SPAN_SECOND:016x}"'}, 1.0), "double-execution exemplar")
    second = lookup("payments", "refund", "order-2")
    expect((second["counts"]["miss"], second["counts"]["hit"], second["state"]), (1, 2, "in_flight"), "lookup order-2")
    third = lookup("payments", "refund", "order-3")
    expect(third["state"], "in_flight", "lookup order-3")


def post_json(body, gzipped=False):
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if gzipped:
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    request = urllib.request.Request(BASE + "/v1/logs", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type"), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), json.loads(error.read() or b"{}")


def attribute(key, value):
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def json_record(outcome, key, trace_id=None, span_id=None, event_name=EVENT_NAME, **extra):
    record = {
        "timeUnixNano": str(time.time_ns()), "observedTimeUnixNano": str(time.time_ns()),
        "severityNumber": 10, "severityText": "Information", "body": {"stringValue": "Example log record"},
        "attributes": [attribute("dedup_vitals.operation", "pay"), attribute("dedup_vitals.outcome", outcome),
                       attribute("dedup_vitals.key", key)] + [attribute(k, v) for k, v in extra.items()],
        "droppedAttributesCount": 0, "flags": 1,
    }
    if event_name:
        record["eventName"] = event_name
    if trace_id:
        record["traceId"], record["spanId"] = trace_id, span_id
    return record


def specification_json():
    body = {"resourceLogs": [{
        "resource": {"attributes": [attribute("service.name", "checkout")]},
        "scopeLogs": [{"scope": {"name": "my.library", "version": "1.0.0", "attributes": [attribute("my.scope.attribute", "x")]},
                       "logRecords": [
                           json_record("miss", "cart-1", "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"),
                           json_record("hit", "cart-1", "W47/95gDgQPSabYzgT/GDA==", "7uGbfsPBsXQ=", **{"dedup_vitals.age_ms": 300}),
                           json_record("miss", "cart-2", event_name=None),
                           json_record("completed", "", event_name=EVENT_NAME),
                       ]}],
    }]}
    status, content_type, answer = post_json(body, gzipped=True)
    expect((status, content_type), (200, "application/json"), "JSON export status")
    expect(answer, {"partialSuccess": {"rejectedLogRecords": "1",
                                       "errorMessage": "log record 3: dedup_vitals.key must be 1 to 255 bytes of UTF-8"}},
           "JSON partial success")
    checkout = totals("checkout", "pay")
    expect((checkout["miss"], checkout["hit"], checkout["attempts"]), (1, 1, 2), "/v1/summary checkout/pay")
    cart = lookup("checkout", "pay", "cart-1")
    expect((cart["counts"]["miss"], cart["counts"]["hit"]), (1, 1), "lookup cart-1")
    expect(cart.get("traces"), {"first_miss": trace(TRACE_SECOND, SPAN_SECOND), "lock": trace(TRACE_SECOND, SPAN_SECOND)},
           "lookup cart-1: the trace of its miss (hex ids)")
    # The hit's ids came in base64: its retry delay (0.3 s) is the le="0.5" bucket's exemplar.
    expect(exemplar('dedup_retry_delay_seconds_bucket{service="checkout",operation="pay",le="0.5"}'),
           ({"trace_id": f'"{TRACE_SECOND:032x}"', "span_id": f'"{SPAN_SECOND:016x}"'}, 0.3), "retry-delay exemplar")
    expect(metric("dedup_otlp_ignored_log_records_total"), 3.0, "ignored records after JSON")

    status, content_type, answer = post_json({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "soon"}]}]}]})
    expect((status, content_type, answer.get("code")), (400, "application/json", 3), "undecodable JSON")


sdk_protobuf_gzip()
specification_json()
print("e2e-otlp: OK (Python SDK protobuf+gzip, specification JSON: counts and trace ids exact, exemplars, partial success, no retry)")
