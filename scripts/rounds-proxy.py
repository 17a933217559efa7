#!/usr/bin/env python3
"""A loopback proxy that counts round trips instead of timing them. It holds every request until
none has arrived for QUIET ms, then lets the whole batch through to TARGET (moto) at once and
counts one round trip. A request can only be sent after the answers it needs, so a command's
count is the number of times it waited for AWS one answer after another, whatever moto's own
speed: at hundreds of calls moto's time swamps the difference latency-proxy.py measures.
Batches also show the in-flight cap (`--max-in-flight`): 500 reads at a cap of 50 are 10 rounds.
A timer (a settle poll) counts as a round too, so the figure never flatters.

    rounds-proxy.py PORT TARGET_URL [QUIET_MS]       default 50 ms
    GET /rounds-proxy/count   {"rounds": batches let through, "calls": requests, "largest": batch}
    POST /rounds-proxy/reset  zeroes the counts
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
from forwarding import Forwarding, Server  # noqa: E402

port, target = int(sys.argv[1]), sys.argv[2]
QUIET = (float(sys.argv[3]) if len(sys.argv) > 3 else 50.0) / 1000.0


class Batch:
    def __init__(self):
        self.size, self.go, self.what = 0, threading.Event(), {}


class Rounds:
    def __init__(self):
        self.cond = threading.Condition()
        self.batch, self.last = Batch(), 0.0
        self.rounds = self.calls = self.largest = 0

    def join(self, what):
        """The batch a new request waits in."""
        with self.cond:
            self.batch.size += 1
            self.batch.what[what] = self.batch.what.get(what, 0) + 1
            self.calls += 1
            self.last = time.monotonic()
            self.cond.notify()
            return self.batch

    def release_forever(self):
        while True:
            with self.cond:
                while self.batch.size == 0:
                    self.cond.wait()
                # Quiet: nothing arrived for QUIET, so every request of this round is in.
                while (left := self.last + QUIET - time.monotonic()) > 0:
                    self.cond.wait(left)
                batch, self.batch = self.batch, Batch()
                self.rounds += 1
                self.largest = max(self.largest, batch.size)
                if LOG:
                    print(self.rounds, batch.size, sorted(batch.what.items()), file=LOG, flush=True)
            batch.go.set()

    def counts(self, reset=False):
        with self.cond:
            out = {"rounds": self.rounds, "calls": self.calls, "largest": self.largest}
            if reset:
                self.rounds = self.calls = self.largest = 0
            return out


ROUNDS = Rounds()
# ROUNDS_LOG=FILE: each round's size and operations, to see what a command waits for.
LOG = open(os.environ["ROUNDS_LOG"], "a") if os.environ.get("ROUNDS_LOG") else None


def operation(method, path, headers, body):
    """The AWS operation of a request: X-Amz-Target (JSON protocols), Action= (query), else its
    method and path (REST protocols: EKS)."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    for part in body.split(b"&"):
        if part.startswith(b"Action="):
            return part[7:].decode(errors="replace")
    return f"{method} {path.split('?')[0]}"


class Counted(Forwarding):
    upstream = target

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("/rounds-proxy/"):
            data = json.dumps(ROUNDS.counts(reset=self.path.endswith("/reset"))).encode()
            return self.reply(200, {"Content-Type": "application/json"}, data)
        ROUNDS.join(operation(self.command, self.path, self.headers, body)).go.wait()
        self.forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


threading.Thread(target=ROUNDS.release_forever, daemon=True).start()
Server(("127.0.0.1", port), Counted).serve_forever()
