#!/usr/bin/env python3
"""A plain HTTP client of the sharding proxy, for .ci/e2e-cluster.sh.

    cluster_client.py send URL SERVICE OPERATION OUTCOME[:KEY] ...
        One request: the events, in order, with `X-Dedup-Shard: SERVICE`; exits 1 unless answered 202.
    cluster_client.py load URL OPERATION SERVICES_FILE STOP_FILE REPORT_FILE [THREADS]
        Until STOP_FILE exists, threads send batches (one service each, services in turn) with `X-Dedup-Shard` and an
        `Idempotency-Key`, retrying 502/503/504 after their Retry-After with the same key, as a client should. Writes
        REPORT_FILE: per service the events acknowledged (202) and the events whose acknowledgement may have been
        lost (a 502/504 or a broken connection before the final answer: the instance may have committed them), and
        every answer's status. Any answer other than 202 or a retryable 502/503/504 with a JSON error and Retry-After
        is recorded under "bad".
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

RETRYABLE = {502, 503, 504}


def post(url, service, events, idempotency_key=None):
    """POSTs events to URL/v1/events; returns (status, lower-cased headers, body) or (None, {}, error text)."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    headers = {"Content-Type": "application/json", "X-Dedup-Shard": service}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        connection.request("POST", "/v1/events", body=json.dumps(events), headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except (OSError, http.client.HTTPException) as error:
        return None, {}, str(error).encode()
    finally:
        connection.close()


def send(url, service, operation, specs):
    events = []
    for spec in specs:
        outcome, _, key = spec.partition(":")
        event = {"service": service, "operation": operation, "outcome": outcome}
        if key:
            event["key"] = key
        events.append(event)
    status, _, body = post(url, service, events)
    if status != 202:
        print(f"cluster_client: {service}/{operation} answered {status}: {body[:300]!r}", file=sys.stderr)
        sys.exit(1)


class Load:
    def __init__(self, url, operation, services, stop_file):
        self.url, self.operation, self.services, self.stop_file = url, operation, services, stop_file
        self.lock = threading.Lock()
        self.next_service = 0
        self.acked = {s: 0 for s in services}
        self.uncertain = {s: 0 for s in services}
        self.statuses = {}
        self.bad = []
        self.batches = 0

    def take_service(self):
        with self.lock:
            service = self.services[self.next_service % len(self.services)]
            self.next_service += 1
            return service

    def count(self, status):
        with self.lock:
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def batch(self, service):
        key = uuid.uuid4().hex
        # Two logical requests: the first executed and completed, the second also retried once (a hit).
        events = []
        for n in range(2):
            events += [
                {"service": service, "operation": self.operation, "outcome": "miss", "key": f"{key}-{n}"},
                {"service": service, "operation": self.operation, "outcome": "completed", "key": f"{key}-{n}"},
            ]
        events.append({"service": service, "operation": self.operation, "outcome": "hit", "key": f"{key}-1", "age_ms": 50})
        return key, events

    def run_thread(self):
        while not os.path.exists(self.stop_file):
            service = self.take_service()
            key, events = self.batch(service)
            maybe_stored = False
            for _ in range(30):
                status, headers, body = post(self.url, service, events, idempotency_key=key)
                self.count(status)
                if status == 202:
                    with self.lock:
                        self.acked[service] += len(events)
                        if maybe_stored:
                            self.uncertain[service] += len(events)
                        self.batches += 1
                    break
                if status in RETRYABLE and "retry-after" in headers and b'"error"' in body:
                    maybe_stored = maybe_stored or status != 503
                    time.sleep(min(2.0, float(headers["retry-after"])))
                    continue
                with self.lock:
                    self.bad.append(f"{service}: {status} {body[:200]!r}")
                if status is None:
                    maybe_stored = True
                    time.sleep(0.5)
                    continue
                break
            else:
                with self.lock:
                    self.bad.append(f"{service}: gave up after 30 attempts")
                    if maybe_stored:
                        self.uncertain[service] += len(events)


def load(url, operation, services_file, stop_file, report_file, threads=4):
    services = [line.strip() for line in open(services_file) if line.strip()]
    run = Load(url, operation, services, stop_file)
    workers = [threading.Thread(target=run.run_thread) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    report = {"acked": run.acked, "uncertain": run.uncertain, "statuses": run.statuses, "bad": run.bad,
              "batches": run.batches}
    with open(report_file + ".tmp", "w") as f:
        json.dump(report, f)
    os.rename(report_file + ".tmp", report_file)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif len(sys.argv) in (7, 8) and sys.argv[1] == "load":
        load(*sys.argv[2:7], *(int(a) for a in sys.argv[7:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
