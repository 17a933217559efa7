#!/usr/bin/env python3
"""A loopback proxy that throttles IAM as a busy account does: IAM requests beyond a token bucket
of RATE per second are answered the way IAM answers them, every other request (and IAM's within
the rate) goes on to UPSTREAM (moto, or the AWS oracle in front of it, so the two chain).

The answer's HTTP status and error code are botocore's own definition of IAM throttling (its
retry config, `_retry.json`, "throttling"), in IAM's query-protocol error body:
`<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>`.

    throttle_proxy.py UPSTREAM RATE [BURST]   # prints the port it listens on, then serves
    GET /throttle-proxy/stats           # {"iam": requests seen, "throttled": answered so,
                                        #  "operations": {IAM action: requests seen},
                                        #  "iamMostInFlight": most IAM requests open at once,
                                        #  "mostThrottlesInARow": the longest run of throttles
                                        #  one request (its body: a retry sends the same) met}
    THROTTLE_PROXY_IAM_DELAY=0.2        # hold each forwarded IAM request that many seconds
"""

import json
import os
import re
import sys
import threading
import time
import urllib.parse

import botocore

from forwarding import Forwarding, Server


def throttling_shape():
    """(HTTP status, error code) of throttling, as botocore's retry config defines it."""
    path = os.path.join(os.path.dirname(botocore.__file__), "data", "_retry.json")
    with open(path) as f:
        when = json.load(f)["definitions"]["throttling"]["applies_when"]["response"]
    return int(when["http_status_code"]), when["service_error_code"]


STATUS, CODE = throttling_shape()
DELAY = float(os.environ.get("THROTTLE_PROXY_IAM_DELAY") or 0)
BODY = (
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    f"<Error><Type>Sender</Type><Code>{CODE}</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>throttle-proxy</RequestId></ErrorResponse>"
).encode()


class Bucket:
    """RATE tokens a second, at most BURST held (default 1: the bucket is the account's, and its
    other tools have spent the burst); a refused request takes no token, as AWS's buckets do."""

    def __init__(self, rate, burst):
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()
        self.lock = threading.Lock()
        self.seen = self.throttled = 0
        self.operations = {}
        self.in_flight = self.most_in_flight = 0
        self.streaks, self.longest_streak = {}, 0

    def opened(self, by):
        with self.lock:
            self.in_flight += by
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def take(self, operation, body):
        with self.lock:
            self.operations[operation] = self.operations.get(operation, 0) + 1
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            self.seen += 1
            if self.tokens >= 1:
                self.tokens -= 1
                self.streaks.pop(body, None)
                return True
            self.throttled += 1
            self.streaks[body] = self.streaks.get(body, 0) + 1
            self.longest_streak = max(self.longest_streak, self.streaks[body])
            return False


def is_iam(headers):
    return re.search(r"Credential=[^/]+/\d{8}/[^/]+/iam/aws4_request", headers.get("Authorization", ""))


class Proxy(Forwarding):
    bucket = None

    def handle_any(self):
        body = self.read_body()
        if self.path == "/throttle-proxy/stats":
            b = Proxy.bucket
            with b.lock:
                data = json.dumps({"iam": b.seen, "throttled": b.throttled,
                                   "operations": b.operations,
                                   "iamMostInFlight": b.most_in_flight,
                                   "mostThrottlesInARow": b.longest_streak}).encode()
            return self.reply(200, {"Content-Type": "application/json"}, data)
        action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", ["?"])[0]
        if not is_iam(self.headers):
            return self.forward(body)
        # Open from its arrival until its answer starts (`reply`): the client may send the next
        # one as soon as it has this answer.
        self.open = True
        Proxy.bucket.opened(1)
        try:
            if not Proxy.bucket.take(action, body):
                return self.reply(STATUS, {"Content-Type": "text/xml"}, BODY)
            time.sleep(DELAY)
            self.forward(body)
        finally:
            self.answered()

    def answered(self):
        if getattr(self, "open", False):
            self.open = False
            Proxy.bucket.opened(-1)

    def reply(self, status, headers, data):
        self.answered()
        super().reply(status, headers, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


if __name__ == "__main__":
    burst = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    Proxy.upstream, Proxy.bucket = sys.argv[1], Bucket(float(sys.argv[2]), burst)
    server = Server(("127.0.0.1", 0), Proxy)
    print(server.server_address[1], flush=True)
    server.serve_forever()
