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


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        given = self.headers.get("X-CardioSpike-Signature", "")
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            return self.answer(401)  # not from our notify, or altered on the way: never retried
        key = self.headers.get("Idempotency-Key", "")
        if key not in seen:
            alert = json.loads(body)
            print("alert", alert["status"], alert["alert_id"], flush=True)  # act on it here: page, ticket, ...
            seen.add(key)
        else:
            print("duplicate", key, flush=True)
        self.answer(204)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass  # no request lines (and no patient data) in the log


HTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
