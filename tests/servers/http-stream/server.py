#!/usr/bin/python3
"""A small HTTP/1.1 server for the streaming tests of src/http and src/s3.

  PUT  /echo/...            200, JSON about the body it read: length, sha256,
                            chunked (true when sent with chunked encoding)
  PUT  /slow/...            reads the body at 640 KiB/s
  PUT  /fail503-N/...       the first N requests to this path: the body is
                            read, then 503; afterwards as /echo. Every body
                            is recorded (see --record).
  GET  /blob/SIZE           SIZE bytes, byte i = i % 251
  GET  /blob-503/SIZE       first 503 "busy", then as /blob
  GET  /drop/SIZE           Content-Length SIZE, half of it, then closes
  GET  /404                 404 with an S3 error body
  POST /bkt?delete          DeleteObjects: keys starting with "deny" are
                            refused with AccessDenied, the rest deleted
  GET  /bkt/resume-SIZE     an S3 object: the first GET drops after half;
                            a GET with Range: bytes=N- and the right
                            If-Match gets 206 and the rest
Usage: server.py PORT RECORD-FILE (one JSON line per request)"""
import base64
import hashlib
import html
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
lock = threading.Lock()
record = open(sys.argv[2], "a", buffering=1)
ETAG = '"0123456789abcdef0123456789abcdef"'


def blob(start, end):
    return bytes(i % 251 for i in range(start, end))


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data, True
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n), False

    def send(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def count(self):
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            return counts[self.path]

    def do_PUT(self):
        if self.path.startswith("/slow/"):
            # Reads 64 KiB every 0.1 s: a 2 MiB body takes over 3 s.
            left, body = int(self.headers.get("Content-Length", "0")), b""
            while left > 0:
                piece = self.rfile.read(min(65536, left))
                body, left = body + piece, left - len(piece)
                time.sleep(0.1)
            return self.send(200, json.dumps({"length": len(body)}).encode() + b"\n")
        body, chunked = self.read_body()
        n = self.count()
        info = {"method": "PUT", "path": self.path, "length": len(body), "chunked": chunked,
                "sha256": hashlib.sha256(body).hexdigest(), "n": n}
        record.write(json.dumps(info) + "\n")
        first = self.path.split("/")[1]
        if first.startswith("fail503-") and n <= int(first[8:]):
            return self.send(503, b"<Error><Code>SlowDown</Code></Error>")
        self.send(200, json.dumps(info).encode() + b"\n")

    def do_POST(self):
        # DeleteObjects: keys starting with "deny" are refused, one by one.
        body, _ = self.read_body()
        self.count()
        keys = [html.unescape(k) for k in re.findall(r"<Key>(.*?)</Key>", body.decode())]
        record.write(json.dumps({
            "method": "POST", "path": self.path, "keys": keys,
            "quiet": "<Quiet>true</Quiet>" in body.decode(),
            "checksum_ok": self.headers.get("x-amz-checksum-sha256") ==
            base64.b64encode(hashlib.sha256(body).digest()).decode()}) + "\n")
        out = "".join("<Error><Key>%s</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                      % html.escape(k) for k in keys if k.startswith("deny"))
        self.send(200, ("<?xml version=\"1.0\"?><DeleteResult>%s</DeleteResult>" % out).encode())

    def do_GET(self):
        n = self.count()
        parts = self.path.split("/")
        record.write(json.dumps({"method": "GET", "path": self.path, "n": n,
                                 "range": self.headers.get("Range"),
                                 "if_match": self.headers.get("If-Match")}) + "\n")
        if parts[1] == "blob":
            return self.send(200, blob(0, int(parts[2])))
        if parts[1] == "blob-503":
            if n == 1:
                return self.send(503, b"busy")
            return self.send(200, blob(0, int(parts[2])))
        if parts[1] == "drop":
            size = int(parts[2])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(blob(0, size // 2))
            self.wfile.flush()
            self.close_connection = True
            return
        if parts[1] == "bkt" and parts[2].startswith("resume-"):
            size = int(parts[2][7:])
            rng = self.headers.get("Range")
            if not rng:
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.send_header("ETag", ETAG)
                self.end_headers()
                self.wfile.write(blob(0, size // 2))
                self.wfile.flush()
                self.close_connection = True
                return
            if self.headers.get("If-Match") != ETAG:
                return self.send(412, b"<Error><Code>PreconditionFailed</Code></Error>")
            start = int(rng[6:].rstrip("-"))
            return self.send(206, blob(start, size), [("ETag", ETAG),
                             ("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))])
        self.send(404, b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                  b"<Message>The specified key does not exist.</Message></Error>")


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
