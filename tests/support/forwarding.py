"""What the loopback test proxies share (aws_oracle.py, throttle_proxy.py): a handler that
forwards a request to an upstream as it came and relays the answer, and a threaded server with a
listen backlog for the bursts of calls a stack's reads make."""

import http.client
import http.server
import urllib.parse


class Forwarding(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None

    def log_message(self, *_):
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def forward(self, body):
        """The request (with `body`, already read) to `upstream`, and its answer back."""
        up = urllib.parse.urlsplit(type(self).upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = {k: v for k, v in resp.getheaders()
               if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        conn.close()
        self.reply(resp.status, out, data)

    def reply(self, status, headers, data):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Many calls open their connections at once; the default listen backlog of 5 makes the
    # kernel reset the rest, which the SDK then retries (extra round trips, noisy logs).
    request_queue_size = 256
