#!/usr/bin/python3
"""ClickHouse's HTTP interface in front of libchdb.so (ClickHouse 26.7 as a
library, from npm @chdb/lib-linux-x64-gnu, the package chdb 3.4.0 pins).

SQL, storage, system tables and the Native format are real 26.7; the HTTP
layer is this file, modelled on what Debian's clickhouse-server 18.16
answers (see README.md for the differences that remain).

Usage: server.py --port PORT --path DIR [--user NAME:PASSWORD]... [--log FILE]

Handled: GET/POST, the query in the URL `query` parameter and/or the body
(an INSERT's data follows in the body), database, query_id,
default_format, compress=1 (the answer in ClickHouse's compressed block
framing, made by Debian's clickhouse-compressor: the same LZ4 frames as
the server's), decompress=1 (the INSERT body in that framing),
wait_end_of_query=1, settings given as URL parameters on an INSERT
(insert_allow_materialized_columns=1 ...), users with X-ClickHouse-User/-Key, user/password
parameters or Basic auth, /ping, the X-ClickHouse-* headers and HTTP
status codes derived from the exception code.

A query's error after data was sent is appended to the stream as text
("Code: NNN. DB::Exception: ..."), inside the compressed framing with
compress=1, as 18.16 does: the status is 200 by then.
"""
import argparse
import base64
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "node_modules", "@chdb", "lib-linux-x64-gnu", "libchdb.so")
V = ctypes.c_void_p

# Exception code -> HTTP status, after ClickHouse's exceptionCodeToHTTPStatus.
STATUS = {}
for c in (192, 193, 194, 195, 516):
    STATUS[c] = 401
for c in (164, 497):
    STATUS[c] = 403
for c in (6, 26, 27, 28, 38, 62, 72, 69, 70, 25, 117, 130, 131, 158, 27, 32,
          33, 34, 35, 36, 41, 42, 43, 44, 53, 73, 75, 76, 115):
    STATUS[c] = 400
for c in (46, 47, 48, 50, 56, 60, 73, 81, 86, 107, 115):
    STATUS[c] = 404
STATUS[60] = 404
STATUS[159] = 408


class Chdb:
    """One chdb connection (a session with a path); queries serialised."""

    def __init__(self, path):
        lib = ctypes.CDLL(LIB)
        lib.chdb_connect.restype = V
        lib.chdb_connect.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        for n in ("chdb_query_n", "chdb_stream_query_n"):
            getattr(lib, n).restype = V
            getattr(lib, n).argtypes = [V, ctypes.c_char_p, ctypes.c_size_t,
                                        ctypes.c_char_p, ctypes.c_size_t]
        lib.chdb_stream_fetch_result.restype = V
        lib.chdb_stream_fetch_result.argtypes = [V, V]
        lib.chdb_stream_cancel_query.argtypes = [V, V]
        lib.chdb_result_buffer.restype = V
        lib.chdb_result_length.restype = ctypes.c_size_t
        lib.chdb_result_error.restype = ctypes.c_char_p
        for n in ("chdb_result_rows_read", "chdb_result_bytes_read",
                  "chdb_result_rows_written", "chdb_result_bytes_written"):
            getattr(lib, n).restype = ctypes.c_uint64
            getattr(lib, n).argtypes = [V]
        lib.chdb_result_elapsed.restype = ctypes.c_double
        for n in ("chdb_result_buffer", "chdb_result_length", "chdb_result_error",
                  "chdb_destroy_query_result", "chdb_result_elapsed"):
            getattr(lib, n).argtypes = [V]
        args = [b"clickhouse", ("--path=" + path).encode()]
        argv = (ctypes.c_char_p * len(args))(*args)
        conn = lib.chdb_connect(len(args), argv)
        if not conn:
            sys.exit("chdb: cannot connect")
        self.lib = lib
        self.conn = ctypes.cast(conn, ctypes.POINTER(V))[0]
        self.lock = threading.Lock()

    def _result(self, r):
        lib = self.lib
        err = lib.chdb_result_error(r)
        n = lib.chdb_result_length(r)
        data = ctypes.string_at(lib.chdb_result_buffer(r), n) if n else b""
        stats = {
            "read_rows": lib.chdb_result_rows_read(r),
            "read_bytes": lib.chdb_result_bytes_read(r),
            "elapsed_ns": int(lib.chdb_result_elapsed(r) * 1e9),
        }
        return err, data, stats

    def query(self, sql, fmt):
        """Whole result: (error or None, bytes, stats). Caller holds lock."""
        s, f = sql.encode(), fmt.encode()
        r = self.lib.chdb_query_n(self.conn, s, len(s), f, len(f))
        err, data, stats = self._result(r)
        self.lib.chdb_destroy_query_result(r)
        if err:
            # After a failed query libchdb hands the failed query's partial
            # output to the next one: drain it here.
            d = self.lib.chdb_query_n(self.conn, b"SELECT 1", 8, b"TSV", 3)
            self.lib.chdb_destroy_query_result(d)
        return (err.decode("utf-8", "replace") if err else None), data, stats

    def stream(self, sql, fmt):
        """Yields chunks; raises QueryError. Caller holds lock."""
        s, f = sql.encode(), fmt.encode()
        lib = self.lib
        r = lib.chdb_stream_query_n(self.conn, s, len(s), f, len(f))
        try:
            err = lib.chdb_result_error(r)
            if err:
                raise QueryError(err.decode("utf-8", "replace"))
            while True:
                c = lib.chdb_stream_fetch_result(self.conn, r)
                err, data, _ = self._result(c)
                lib.chdb_destroy_query_result(c)
                if err:
                    raise QueryError(err.decode("utf-8", "replace"))
                if not data:
                    return
                yield data
        finally:
            lib.chdb_destroy_query_result(r)


class QueryError(Exception):
    pass


def error_code(text):
    m = re.match(r"Code: (\d+)", text)
    return int(m.group(1)) if m else 1000


def content_type(fmt):
    f = fmt.lower()
    if f in ("tabseparated", "tsv", "tabseparatedwithnames", "tsvwithnames",
             "tabseparatedwithnamesandtypes", "tsvwithnamesandtypes", "tabseparatedraw", "tsvraw"):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("json"):
        return "application/json; charset=UTF-8"
    if f in ("csv", "csvwithnames"):
        return "text/csv; charset=UTF-8; header=absent" if f == "csv" else "text/csv; charset=UTF-8; header=present"
    if f in ("native", "rowbinary", "rowbinarywithnamesandtypes", "parquet", "arrow"):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


FORMAT_RE = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)
STREAM_RE = re.compile(r"^\s*(\(?\s*SELECT|WITH)\b", re.I)
READ_RE = re.compile(r"^\s*(\(?\s*SELECT|WITH|SHOW|DESC|DESCRIBE|EXISTS|EXPLAIN)\b", re.I)
# URL parameters that are not settings.
NOT_SETTINGS = {"query", "database", "query_id", "default_format", "compress",
                "decompress", "wait_end_of_query", "user", "password",
                "session_id", "session_timeout", "session_check"}
SETTING_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def url_settings(params):
    """The settings among the URL parameters, as a SETTINGS clause."""
    kv = []
    for k, v in params.items():
        if k in NOT_SETTINGS or not SETTING_RE.match(k):
            continue
        kv.append("%s = '%s'" % (k, v.replace("\\", "\\\\").replace("'", "\\'")))
    return (" SETTINGS " + ", ".join(kv)) if kv else ""


INSERT_RE = re.compile(r"^\s*INSERT\s+INTO\s+(.*?)\s+FORMAT\s+(\w+)\s*;?\s*$", re.I | re.S)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb-fixture"

    def log_message(self, fmt, *args):
        if self.server.log:
            self.server.log.write("%s %s\n" % (self.log_date_time_string(), fmt % args))
            self.server.log.flush()

    # -- request parts --
    def read_body_to(self, out):
        """Copies the request body (Content-Length or chunked) into out."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(1024).strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = n
                while left:
                    b = self.rfile.read(min(left, 1 << 20))
                    if not b:
                        raise IOError("short chunk")
                    out.write(b)
                    left -= len(b)
                self.rfile.readline(16)
        else:
            left = int(self.headers.get("Content-Length", "0") or 0)
            while left:
                b = self.rfile.read(min(left, 1 << 20))
                if not b:
                    raise IOError("short body")
                out.write(b)
                left -= len(b)

    def auth(self, params):
        h_user = self.headers.get("X-ClickHouse-User")
        h_key = self.headers.get("X-ClickHouse-Key")
        p_user, p_pass = params.get("user"), params.get("password")
        basic = self.headers.get("Authorization")
        used = sum(x is not None for x in (h_user or h_key, p_user or p_pass, basic))
        if used > 1:
            return None, ("Code: 194. DB::Exception: Invalid authentication: it is not allowed "
                          "to use Authorization HTTP header and authentication via parameters "
                          "simultaneously. (REQUIRED_PASSWORD)")
        if basic:
            try:
                u, _, p = base64.b64decode(basic.split()[1]).decode().partition(":")
            except Exception:
                u, p = "", ""
        elif h_user or h_key:
            u, p = h_user or "default", h_key or ""
        else:
            u, p = p_user or "default", p_pass or ""
        if self.server.users.get(u) != p:
            return None, ("Code: 516. DB::Exception: %s: Authentication failed: password is "
                          "incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)" % u)
        return u, None

    # -- answers --
    def common_headers(self, query_id, fmt):
        self.send_header("X-ClickHouse-Server-Display-Name", "chdb-fixture")
        self.send_header("X-ClickHouse-Query-Id", query_id)
        self.send_header("X-ClickHouse-Format", fmt)
        self.send_header("X-ClickHouse-Timezone", "UTC")
        self.send_header("Keep-Alive", "timeout=10")

    def send_error_text(self, text, query_id, fmt="TabSeparated"):
        code = error_code(text)
        body = (text.rstrip("\n") + "\n").encode()
        self.send_response(STATUS.get(code, 500))
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.common_headers(query_id, fmt)
        self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def summary(self, stats, written=(0, 0), result=(0, 0)):
        return json.dumps({
            "read_rows": str(stats.get("read_rows", 0)),
            "read_bytes": str(stats.get("read_bytes", 0)),
            "written_rows": str(written[0]), "written_bytes": str(written[1]),
            "total_rows_to_read": "0",
            "result_rows": str(result[0]), "result_bytes": str(result[1]),
            "elapsed_ns": str(stats.get("elapsed_ns", 0)),
        }, separators=(",", ":"))

    def chunk(self, b):
        if b:
            self.wfile.write(b"%x\r\n" % len(b) + b + b"\r\n")

    def do_GET(self):
        self.handle_query("GET")

    def do_POST(self):
        self.handle_query("POST")

    # curl -T sends PUT; ClickHouse treats it as POST.
    do_PUT = do_POST

    def handle_query(self, method):
        url = urlsplit(self.path)
        if url.path in ("/ping",) or (url.path == "/" and method == "GET" and not url.query):
            body = b"Ok.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = params.get("query_id") or str(uuid.uuid4())
        tmp = tempfile.mkdtemp(prefix="req-", dir=self.server.tmp)
        try:
            self.run(method, params, query_id, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def run(self, method, params, query_id, tmp):
        bodyfile = os.path.join(tmp, "body")
        with open(bodyfile, "wb") as f:
            self.read_body_to(f)
        user, err = self.auth(params)
        if err:
            self.send_error_text(err, query_id)
            return
        q = params.get("query", "")
        data_file = None
        m = INSERT_RE.match(q) if q else None
        if m and method == "POST":
            data_file = bodyfile
        else:
            with open(bodyfile, "rb") as f:
                body = f.read()
            if params.get("decompress") == "1" and body:
                body = subprocess.run(["clickhouse-compressor", "-d"], input=body,
                                      stdout=subprocess.PIPE, check=False).stdout
            q = q + (" " if q and body else "") + body.decode("utf-8", "replace")
            # An INSERT with its data in the body after the query text.
            mm = re.match(r"^(\s*INSERT\s+INTO\s+.*?\s+FORMAT\s+\w+)[ \t]*\r?\n(.*)$", q, re.I | re.S)
            if mm:
                q = mm.group(1)
                data_file = os.path.join(tmp, "data")
                with open(data_file, "wb") as f:
                    f.write(mm.group(2).encode())
            m = INSERT_RE.match(q)
        if not q.strip():
            self.send_error_text("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)", query_id)
            return
        if method == "GET" and not READ_RE.match(q):
            self.send_error_text("Code: 164. DB::Exception: Cannot execute query in readonly "
                                 "mode. (READONLY)", query_id)
            return
        fmt = params.get("default_format") or "TabSeparated"
        fm = FORMAT_RE.search(q)
        if fm and not m:
            fmt = fm.group(1)
        db = params.get("database") or "default"
        with self.server.chdb.lock:
            ch = self.server.chdb
            err, _, _ = ch.query("USE `%s`" % db.replace("`", "\\`"), "TSV")
            if err:
                self.send_error_text(err, query_id, fmt)
                return
            if m:
                self.insert(ch, m, data_file, params, query_id, fmt, tmp)
            elif params.get("wait_end_of_query") == "1" or not STREAM_RE.match(q):
                self.whole(ch, q, params, query_id, fmt)
            else:
                self.streamed(ch, q, params, query_id, fmt)

    def insert(self, ch, m, data_file, params, query_id, fmt, tmp):
        table, in_fmt = m.group(1), m.group(2)
        if params.get("decompress") == "1" and data_file:
            plain = os.path.join(tmp, "plain")
            with open(data_file, "rb") as i, open(plain, "wb") as o:
                p = subprocess.run(["clickhouse-compressor", "-d"], stdin=i, stdout=o,
                                   stderr=subprocess.PIPE)
            if p.returncode != 0:
                self.send_error_text("Code: 40. DB::Exception: Checksum doesn't match: "
                                     "corrupted data. %s (CHECKSUM_DOESNT_MATCH)"
                                     % p.stderr.decode(errors="replace").strip(), query_id, fmt)
                return
            data_file = plain
        if data_file is None or os.path.getsize(data_file) == 0:
            sql = "INSERT INTO %s FORMAT %s" % (table, in_fmt)
            err, _, stats = ch.query(sql + "\n", "TSV")
        else:
            sql = "INSERT INTO %s FROM INFILE '%s'%s FORMAT %s" % (
                table, data_file, url_settings(params), in_fmt)
            err, _, stats = ch.query(sql, "TSV")
        if err:
            self.send_error_text(err, query_id, fmt)
            return
        w = ch.query("SELECT 1", "TSV")  # keeps the stats of the insert honest
        del w
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.common_headers(query_id, fmt)
        self.send_header("X-ClickHouse-Summary", self.summary(
            stats, (stats.get("read_rows", 0), stats.get("read_bytes", 0))))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def whole(self, ch, q, params, query_id, fmt):
        err, data, stats = ch.query(q, fmt)
        if err:
            self.send_error_text(err, query_id, fmt)
            return
        if params.get("compress") == "1" and data:
            data = compress(data)
        self.send_response(200)
        self.send_header("Content-Type", content_type(fmt))
        self.common_headers(query_id, fmt)
        self.send_header("X-ClickHouse-Summary", self.summary(stats, result=(0, len(data))))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def streamed(self, ch, q, params, query_id, fmt):
        gen = ch.stream(q, fmt)
        try:
            first = next(gen, b"")
        except QueryError as e:
            self.send_error_text(str(e), query_id, fmt)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type(fmt))
        self.common_headers(query_id, fmt)
        self.send_header("X-ClickHouse-Summary", self.summary({}))
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        comp = None
        if params.get("compress") == "1":
            comp = subprocess.Popen(["clickhouse-compressor"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)
            pump = threading.Thread(target=self.pump, args=(comp.stdout,))
            pump.start()
        out = comp.stdin.write if comp else self.chunk
        try:
            out(first)
            for b in gen:
                out(b)
        except QueryError as e:
            out(("%s\n" % e).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        if comp:
            comp.stdin.close()
            pump.join()
            comp.wait()
        try:
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def pump(self, src):
        while True:
            b = src.read1(1 << 20) if hasattr(src, "read1") else src.read(1 << 16)
            if not b:
                return
            try:
                self.chunk(b)
            except (BrokenPipeError, ConnectionResetError):
                pass


def compress(data):
    return subprocess.run(["clickhouse-compressor"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--user", action="append", default=[])
    ap.add_argument("--log")
    a = ap.parse_args()
    os.makedirs(a.path, exist_ok=True)
    t0 = time.time()
    # The engine first: the port accepts only once queries can run.
    engine = Chdb(os.path.join(a.path, "data"))
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.chdb = engine
    srv.tmp = os.path.join(a.path, "tmp")
    os.makedirs(srv.tmp, exist_ok=True)
    srv.users = {"default": ""}
    for u in a.user:
        name, _, pw = u.partition(":")
        srv.users[name] = pw
    srv.log = open(a.log, "a") if a.log else None
    sys.stderr.write("chdb fixture ready in %.2f s\n" % (time.time() - t0))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
