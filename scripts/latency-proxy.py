#!/usr/bin/env python3
"""A loopback HTTP proxy that holds each request back by a fixed delay before passing it to the
target (moto), as a far-away AWS region would: with D ms per call, a command's wall time divided
by D is about the number of round trips on its critical path.

    latency-proxy.py PORT TARGET_URL DELAY_MS
"""
import http.client
import http.server
import sys
import time
import urllib.parse

port, target, delay_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
upstream = urllib.parse.urlsplit(target)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        time.sleep(delay_ms / 1000.0)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # A command opens a connection per concurrent call at once; socketserver's default backlog
    # of 5 drops the rest, and their retried SYNs cost a whole second.
    request_queue_size = 256


Server(("127.0.0.1", port), Handler).serve_forever()
