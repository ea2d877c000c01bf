#!/usr/bin/env python3
"""An HTTP proxy that breaks things on purpose, between saasctl and a real
server (RGW or ClickHouse), for the fault-injection tests. Python stdlib.

  proxy.py --listen PORT --upstream HOST:PORT [--seed N]
           [--error-rate P]     answer 500 InternalError or 503 SlowDown
                                (S3 XML) without forwarding
           [--reset-rate P]     reset the connection (RST): before
                                forwarding, or for a GET, in the middle of
                                the answer's body
           [--cut-gets P]       reset a GET's connection in the middle of
                                its answer's body (S3 GETs resume)
           [--inject-after N]   a 200 answer to a SELECT ... FORMAT Native
                                gets ClickHouse's error text at the first
                                boundary of a compressed frame (or block,
                                without compress=1) after N bytes of its
                                body, as a server failing mid-query sends it
           [--log FILE]         one line a request: METHOD PATH FAULT STATUS

Faults only where a well-behaved client may retry: a request that was
forwarded is never answered with an error of ours, so S3 never applies a
write the client believes failed (a reset after a write's answer would make
the retried complete of a multipart upload fail with NoSuchUpload, which no
client can avoid).
"""
import argparse
import http.client
import http.server
import random
import socket
import socketserver
import struct
import sys
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "expect",
       "proxy-connection", "te", "trailer", "upgrade"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--reset-rate", type=float, default=0.0)
    ap.add_argument("--cut-gets", type=float, default=0.0)
    ap.add_argument("--inject-after", type=int, default=-1)
    ap.add_argument("--log")
    a = ap.parse_args()
    up_host, up_port = a.upstream.rsplit(":", 1)
    rng = random.Random(a.seed)
    lock = threading.Lock()
    logf = open(a.log, "a", buffering=1) if a.log else None

    def log(*words):
        if logf:
            with lock:
                logf.write(" ".join(str(w) for w in words) + "\n")

    def draw():
        with lock:
            return rng.random()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reset(self):
            self.close_connection = True
            try:
                self.wfile.flush()
            except OSError:
                pass
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()

        def read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                out = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(out)
                    out += self.rfile.read(size)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def handle_any(self):
            body = self.read_body()
            r = draw()
            if r < a.error_rate:
                code, name = (503, "SlowDown") if r < a.error_rate / 2 else (500, "InternalError")
                xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
                       "<Message>injected by the fault proxy</Message></Error>" % name).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(xml)))
                self.end_headers()
                self.wfile.write(xml)
                log(self.command, self.path, "error", code)
                return
            mid_reset = self.command == "GET" and draw() < a.cut_gets
            if r < a.error_rate + a.reset_rate:
                if self.command == "GET" and draw() < 0.5:
                    mid_reset = True
                else:
                    log(self.command, self.path, "reset", "-")
                    self.reset()
                    return
            conn = http.client.HTTPConnection(up_host, int(up_port), timeout=600)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            conn.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders(body if body else None)
            res = conn.getresponse()
            native = (a.inject_after >= 0 and res.status == 200 and
                      b"FORMAT Native" in (self.path.encode() + body).replace(b"%20", b" ").replace(b"+", b" "))
            length = res.getheader("Content-Length")
            if native:
                length = None
            self.send_response_only(res.status, res.reason)
            for k, v in res.getheaders():
                if k.lower() not in HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            if length is not None:
                self.send_header("Content-Length", length)
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            sent = 0
            compressed = "compress=1" in self.path
            frame_end = 0      # where the next compressed frame starts
            held = b""
            while True:
                chunk = res.read(65536)
                if not chunk:
                    break
                if native:
                    # hold back bytes until a frame boundary is known
                    held += chunk
                    while compressed:
                        pos = frame_end - sent
                        if len(held) < pos + 21:
                            break
                        size = struct.unpack("<I", held[pos + 17:pos + 21])[0]
                        if len(held) < pos + 16 + size:
                            break
                        frame_end += 16 + size
                    cut = (frame_end - sent) if compressed else len(held)
                    if sent + cut >= a.inject_after:
                        self.wfile.write(held[:cut])
                        self.wfile.write(b"\nCode: 241, e.displayText() = DB::Exception: "
                                         b"Memory limit (total) exceeded (injected by the fault proxy)\n")
                        log(self.command, self.path.split("?")[0], "inject", res.status)
                        conn.close()
                        return
                    self.wfile.write(held[:cut])
                    sent += cut
                    held = held[cut:]
                    continue
                if mid_reset:
                    # part of the body, never all of it: as a dropped
                    # connection looks to a client that knows the length
                    self.wfile.write(chunk[:len(chunk) // 2])
                    log(self.command, self.path, "reset-mid", res.status)
                    conn.close()
                    self.reset()
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
            if held:
                self.wfile.write(held)
            conn.close()
            log(self.command, self.path.split("?")[0], "-", res.status)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except (OSError, ValueError):
                self.close_connection = True

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", a.listen), Handler)
    print("listening", a.listen, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
