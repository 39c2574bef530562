"""Schemathesis hooks for .ci/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

- An NDJSON serializer: the document describes an `application/x-ndjson` body as the array of its events; on the
  wire each becomes one line.
- Valid (positive) cases are kept valid where JSON Schema cannot say what the service checks; negative cases are
  sent as generated:
  - `ts` is accepted only between now - 1 h and now + 5 min, a bound relative to the clock. A generated `ts` is
    moved into that range (keeping its type, and spreading the values over the range).
  - `key` (1 to 255) and `payload` (1 to 128) are limited in bytes of UTF-8, while `maxLength` counts characters:
    a generated value is cut, at a character boundary, to its limit in bytes.
"""

import datetime
import json
import time
import zlib

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, str):  # the document's example is written as the NDJSON text itself
        return value.encode()
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode()


PAST_S, FUTURE_S = 3600, 300
MARGIN_S = 60  # the request's own travel time


def _in_range(original):
    """A time inside the accepted range, picked from the generated value so that runs differ but replay alike."""
    span = PAST_S + FUTURE_S - 2 * MARGIN_S
    offset = zlib.crc32(repr(original).encode()) % span
    return time.time() - PAST_S + MARGIN_S + offset


BYTE_LIMITS = {"key": 255, "payload": 128}


def _fit_bytes(container, field):
    value = container.get(field)
    if isinstance(value, str):
        limit = BYTE_LIMITS[field]
        while len(value.encode("utf-8", "surrogatepass")) > limit:
            value = value[:-1]
        container[field] = value


def _fix_event(event):
    if not isinstance(event, dict):
        return
    for field in BYTE_LIMITS:
        _fit_bytes(event, field)
    if event.get("ts") is None:
        return
    when = _in_range(event["ts"])
    if isinstance(event["ts"], str):
        event["ts"] = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).isoformat(timespec="milliseconds")
    else:
        event["ts"] = round(when, 3)


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.operation.path == "/v1/keys/lookup" and isinstance(case.query, dict):
        _fit_bytes(case.query, "key")
    if case.operation.path != "/v1/events":
        return
    body = case.body
    events = body.get("events") if isinstance(body, dict) and "events" in body else body
    for event in events if isinstance(events, list) else [events]:
        _fix_event(event)
