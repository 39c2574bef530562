"""Verifies the webhook signatures of the real service with the official Standard Webhooks library.

Starts dedup-vitals (binary given as the first argument) with one rule that fires at once and a webhook receiver
with a `whsec_` signing secret; a receiver in this process answers the first delivery 503 (so the service retries it)
and the rest 204. Feeds a duplicate spike, then enough misses to resolve the alert, and checks that every delivery
- the refused attempt, its retry, the firing and the resolved notification - passes
`standardwebhooks.Webhook(secret).verify(body, headers)`, that a retry keeps its `webhook-id`, and, as controls, that
a changed body, another secret and a stale timestamp are refused by the same library.

Usage: python webhook_signatures.py PATH/TO/dedup-vitals   (run by .ci/standardwebhooks.sh, which installs the library)
"""

import base64
import http.server
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

DEADLINE = time.monotonic() + 90


def fail(message, log=None):
    print(f"standardwebhooks: FAIL: {message}", file=sys.stderr)
    if log and os.path.exists(log):
        print("--- last lines of the service log", file=sys.stderr)
        print("".join(open(log).readlines()[-20:]), file=sys.stderr)
    sys.exit(1)


def wait_for(what, predicate, log=None):
    while not predicate():
        if time.monotonic() > DEADLINE:
            fail(f"timed out waiting for {what}", log)
        time.sleep(0.2)


class Receiver(http.server.BaseHTTPRequestHandler):
    deliveries = []  # (headers, body, status answered)
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Receiver.lock:
            status = 503 if not Receiver.deliveries else 204
            Receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

    @classmethod
    def snapshot(cls):
        with cls.lock:
            return list(cls.deliveries)


def post_events(base, outcome, count):
    events = [{"service": "payments", "operation": "refund", "outcome": outcome}] * count
    request = urllib.request.Request(
        base + "/v1/events", data=json.dumps(events).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 202:
            fail(f"POST /v1/events answered {response.status}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: webhook_signatures.py PATH/TO/dedup-vitals")
    binary = sys.argv[1]
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    with tempfile.TemporaryDirectory() as work:
        log = os.path.join(work, "service.log")
        with open(os.path.join(work, "rules.yml"), "w") as f:
            f.write(
                "rules:\n"
                "  - alert: StandardWebhooksSpike\n"
                "    kind: duplicate_ratio\n"
                "    window: 1m\n"
                "    above: 0.10\n"
                "    min_attempts: 10\n"
                "    for: 0s\n"
                "    labels: {severity: warning}\n"
                "    annotations: {summary: \"duplicate spike on {{ $labels.service }}/{{ $labels.operation }}\"}\n")
        with open(os.path.join(work, "config.yml"), "w") as f:
            f.write(
                "listen: 127.0.0.1:0\n"
                f"database: {work}/db.sqlite\n"
                "evaluation_interval: 1s\n"
                f"rule_files: [{work}/rules.yml]\n"
                "receivers:\n"
                f"  - {{name: hook, url: \"http://127.0.0.1:{server.server_port}/hook\", secret_env: DV_HOOK_SECRET,"
                " send_resolved: true}\n")
        environment = dict(os.environ, DV_HOOK_SECRET=secret)
        with open(log, "w") as out:
            service = subprocess.Popen(
                [binary, "serve", "--config", os.path.join(work, "config.yml")], stdout=out, stderr=subprocess.STDOUT,
                env=environment)
        try:
            address = []

            def listening():
                if service.poll() is not None:
                    fail(f"the service exited with {service.returncode}", log)
                address[:] = re.findall(r"address=(127\.0\.0\.1:\d+)", open(log).read())
                return bool(address)

            wait_for("the service to listen", listening, log)
            base = f"http://{address[0]}"
            post_events(base, "miss", 10)
            post_events(base, "hit", 20)

            def notified(status):
                return lambda: any(
                    answered == 204 and json.loads(body).get("status") == status
                    for _, body, answered in Receiver.snapshot())

            wait_for("the firing notification (after a refused first attempt)", notified("firing"), log)
            post_events(base, "miss", 400)
            wait_for("the resolved notification", notified("resolved"), log)
        finally:
            service.terminate()
            service.wait(timeout=30)

    deliveries = Receiver.snapshot()
    webhook = Webhook(secret)
    for headers, body, answered in deliveries:
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            if name not in headers:
                fail(f"a delivery lacks the {name} header: {sorted(headers)}")
        try:
            payload = webhook.verify(body, headers)
        except WebhookVerificationError as error:
            fail(f"standardwebhooks refused delivery {headers['webhook-id']} ({answered}): {error}")
        if payload != json.loads(body):
            fail("verify() returned another payload than the body")

    first_headers, first_body, _ = deliveries[0]
    retries = [h for h, _, _ in deliveries[1:] if h["webhook-id"] == first_headers["webhook-id"]]
    if not retries:
        fail("the delivery refused with 503 was not retried under the same webhook-id")

    # Controls: the same library refuses what is not the service's signed message.
    controls = {
        "a changed body": (first_body.replace(b"firing", b"resolved"), first_headers, webhook),
        "another secret": (first_body, first_headers, Webhook("whsec_" + base64.b64encode(b"x" * 32).decode())),
        "a stale timestamp": (first_body, dict(first_headers, **{"webhook-timestamp": str(int(time.time()) - 3600)}),
                              webhook),
    }
    for name, (body, headers, verifier) in controls.items():
        try:
            verifier.verify(body, headers)
        except WebhookVerificationError:
            continue
        fail(f"standardwebhooks accepted {name}: the check proves nothing")

    statuses = [json.loads(body)["status"] for _, body, _ in deliveries]
    print(f"standardwebhooks: {len(deliveries)} deliveries verified with standardwebhooks "
          f"({', '.join(statuses)}; a 503 retried under the same webhook-id); 3 forged variants refused")


if __name__ == "__main__":
    main()
