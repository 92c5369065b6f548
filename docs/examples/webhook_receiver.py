#!/usr/bin/env python3
"""A minimal receiver for `bin/cardiospike notify`, standard library only.

    python3 webhook_receiver.py PORT SECRET_FILE

Verifies X-CardioSpike-Signature (HMAC-SHA256 of the exact body, compared in constant time), acts on each
Idempotency-Key once (notify delivers at least once) and answers 2xx only after the alert was handled: any other
answer makes notify send it again. Keep the seen keys in a database in production, not in memory.
"""
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT, SECRET = int(sys.argv[1]), open(sys.argv[2], "rb").read().strip()
seen = set()  # Idempotency-Key values already handled: "<alert_id>:<status>"


def act(alert):
    """What the care team's system does with an alert: page, open a ticket, ... Here: print it (no patient data)."""
    print("alert", alert["status"], alert["alert_id"], flush=True)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        signature = self.headers.get("X-CardioSpike-Signature", "")
        key = self.headers.get("Idempotency-Key", "")
        if not hmac.compare_digest(("sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()).encode(), signature.encode()):
            return self.answer(401)  # not signed with our secret (or altered on the way): never acted on
        if key not in seen:
            act(json.loads(body))  # if this raises, no answer goes out and notify sends the alert again
            seen.add(key)
        else:
            print("duplicate", key, flush=True)
        self.answer(204)  # 2xx only once handled: at least once end to end

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass  # no request lines (and no patient data) in the log


HTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
