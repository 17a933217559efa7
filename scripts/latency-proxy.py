#!/usr/bin/env python3
"""A loopback HTTP proxy that holds each request back by a fixed delay before passing it to the
target (moto), as a far-away AWS region would: with D ms per call, a command's wall time divided
by D is about the number of round trips on its critical path. The forwarding is the test
proxies' own (tests/support/forwarding.py).

    latency-proxy.py PORT TARGET_URL DELAY_MS
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from forwarding import Forwarding, Server  # noqa: E402

port, target, delay_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])


class Delayed(Forwarding):
    upstream = target

    def handle_any(self):
        body = self.read_body()
        time.sleep(delay_ms / 1000.0)
        self.forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


Server(("127.0.0.1", port), Delayed).serve_forever()
