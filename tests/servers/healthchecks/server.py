#!/usr/bin/python3
"""A Healthchecks test server: the Pinging API and a Management API v3 subset.

It follows https://healthchecks.io/docs/http_api/ and /docs/api/:

  ping:    HEAD|GET|POST /<uuid>[/start|/fail|/log|/<0-255>]
           HEAD|GET|POST /<ping-key>/<slug>[/start|/fail|/log|/<0-255>][?create=1]
           ?rid=<uuid> pairs a start with its finish
           200 "OK", 201 "Created" (create=1 made the check), 404 "not found",
           409 "ambiguous slug", 400 "invalid url format" / "invalid uuid format";
           every ping response carries Ping-Body-Limit; bodies are cut to it.
  manage:  GET/POST /api/v3/checks/, GET/POST/DELETE /api/v3/checks/<uuid>
           with the X-Api-Key header.

For tests it also:
  - records every request (method, path, query, headers, body, the
    client's port (one per connection), and for
    pings the check, kind, exit status and rid) as one JSON line in
    --record FILE once it is handled, and answers GET /__pings with them;
  - delays every response by --delay seconds, fails a --fail-rate share of
    pings with 503, or the first --fail-first ones;
  - refuses chunked request bodies with 411 (real proxies often do), so a
    client that streams instead of sending Content-Length is caught;
  - serves /redirect307/<path> and /redirect308/<path> as redirects to
    /<path>, to prove that clients follow them with the body;
  - takes settings at run time from POST /__config (a JSON object with
    delay, fail_rate, fail_first, body_limit).

Usage: server.py --port N [--record FILE] [--ping-key KEY] [--api-key KEY]
                 [--body-limit N] [--delay S] [--fail-rate F] [--fail-first N]
                 [--check UUID:SLUG ...]
"""
import argparse
import datetime as dt
import json
import random
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SLUG_RE = re.compile(r"^[a-z0-9_-]+$")
KINDS = ("start", "fail", "log")

lock = threading.RLock()
cfg = {}
checks = {}          # uuid -> check dict (internal form)
pings = []           # every recorded request
counter = {"pings": 0}


def now():
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(t):
    return t.isoformat() if t else None


def new_check(slug, name=None):
    c = {
        "uuid": str(uuid.uuid4()), "name": name if name is not None else slug,
        "slug": slug, "tags": "", "desc": "", "grace": 3600, "timeout": 86400,
        "schedule": None, "tz": "UTC", "kind": "simple", "n_pings": 0,
        "status": "new", "started": None, "last_ping": None,
        "manual_resume": False, "methods": "", "last_rid": None,
    }
    checks[c["uuid"]] = c
    return c


# --- cron: enough of it to compute next_ping for the list ---------------
def cron_field(spec, lo, hi):
    out = set()
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/", 1)
            step = int(s)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
        else:
            a = b = int(part)
            if step != 1:
                b = hi
        if a < lo or b > hi or a > b or step < 1:
            raise ValueError(spec)
        out.update(range(a, b + 1, step))
    return out


def cron_valid(expr):
    f = expr.split()
    if len(f) != 5:
        return False
    try:
        cron_field(f[0], 0, 59); cron_field(f[1], 0, 23)
        cron_field(f[2], 1, 31); cron_field(f[3], 1, 12)
        cron_field(f[4].replace("7", "0"), 0, 6)
    except ValueError:
        return False
    return True


def cron_next(expr, after):
    f = expr.split()
    mins, hours = cron_field(f[0], 0, 59), cron_field(f[1], 0, 23)
    days, months = cron_field(f[2], 1, 31), cron_field(f[3], 1, 12)
    dows = cron_field(f[4].replace("7", "0"), 0, 6)
    t = after.replace(second=0) + dt.timedelta(minutes=1)
    for _ in range(60 * 24 * 400):
        if (t.month in months and t.day in days and t.hour in hours
                and t.minute in mins and (t.weekday() + 1) % 7 in dows):
            return t
        t += dt.timedelta(minutes=1)
    return None


def public(c, base):
    d = {
        "name": c["name"], "slug": c["slug"], "tags": c["tags"],
        "desc": c["desc"], "grace": c["grace"], "n_pings": c["n_pings"],
        "status": c["status"], "started": c["started"] is not None,
        "last_ping": iso(c["last_ping"]), "next_ping": None,
        "manual_resume": c["manual_resume"], "methods": c["methods"],
        "subject": "", "subject_fail": "", "start_kw": "", "success_kw": "",
        "failure_kw": "", "filter_subject": False, "filter_body": False,
        "badge_url": base + "/badge/" + c["uuid"][:8] + ".svg",
        "uuid": c["uuid"],
        "ping_url": cfg["ping_base"] + "/" + c["uuid"],
        "update_url": base + "/api/v3/checks/" + c["uuid"],
        "pause_url": base + "/api/v3/checks/" + c["uuid"] + "/pause",
        "resume_url": base + "/api/v3/checks/" + c["uuid"] + "/resume",
        "channels": "",
    }
    if c["kind"] == "simple":
        d["timeout"] = c["timeout"]
        if c["last_ping"]:
            d["next_ping"] = iso(c["last_ping"] + dt.timedelta(seconds=c["timeout"]))
    else:
        d["schedule"] = c["schedule"]
        d["tz"] = c["tz"]
        if c["last_ping"]:
            d["next_ping"] = iso(cron_next(c["schedule"], c["last_ping"]))
    return d


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "healthchecks-fixture"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle and
        # the client's delayed ACK add 40 ms to every reused connection
        # (nginx in front of the real service sends them together).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="text/plain; charset=utf-8", headers=()):
        # Recorded before the client can see the answer, so a test that
        # reads the record right after its request finds it there.
        self.write_record()
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status, doc):
        self.send(status, json.dumps(doc), "application/json")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self, body, url):
        entry = {
            "method": self.command, "path": url.path, "query": url.query,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace") if body is not None else None,
            "body_len": len(body) if body is not None else None,
            "time": time.time(),
            "client_port": self.client_address[1],
        }
        with lock:
            entry["seq"] = len(pings)
            pings.append(entry)
        self.entry = entry

    def write_record(self):
        # Written once the request is handled (so it has the check, kind
        # and rid), in the order the requests were answered.
        entry = getattr(self, "entry", None)
        if entry is not None and cfg["record"]:
            with lock:
                with open(cfg["record"], "a") as f:
                    f.write(json.dumps(entry) + "\n")
        self.entry = None

    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def handle_any(self):
        try:
            self.dispatch()
        finally:
            self.write_record()

    def dispatch(self):
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/__"):
            return self.admin(url, body)
        m = re.match(r"^/redirect(307|308)(/.*)$", url.path)
        if m:
            if body is None:
                return self.send(411, "chunked bodies are not accepted")
            loc = m.group(2) + ("?" + url.query if url.query else "")
            return self.send(int(m.group(1)), "", headers=[("Location", loc)])
        if url.path.startswith("/api/"):
            return self.api(url, body)
        self.record(body, url)
        if cfg["delay"]:
            time.sleep(cfg["delay"])
        if body is None:
            return self.send(411, "chunked bodies are not accepted")
        with lock:
            counter["pings"] += 1
            n = counter["pings"]
            fail = n <= cfg["fail_first"] or random.random() < cfg["fail_rate"]
        if fail:
            return self.send(503, "service unavailable")
        return self.ping(url, body)

    def admin(self, url, body):
        if url.path == "/__pings":
            with lock:
                return self.send_json(200, pings)
        if url.path == "/__config" and self.command == "POST":
            with lock:
                for k, v in json.loads(body or b"{}").items():
                    if k in ("delay", "fail_rate", "fail_first", "body_limit"):
                        cfg[k] = v
                    if k == "fail_first":
                        counter["pings"] = 0  # the next N pings fail
            return self.send_json(200, {k: cfg[k] for k in ("delay", "fail_rate", "fail_first", "body_limit")})
        return self.send(404, "not found")

    def ping(self, url, body):
        parts = [p for p in url.path.split("/") if p]
        q = parse_qs(url.query)
        limit = [("Ping-Body-Limit", str(cfg["body_limit"])),
                 ("Access-Control-Allow-Origin", "*")]
        action, exitstatus, created = "success", None, False
        if parts and (parts[-1] in KINDS or parts[-1].isdigit()):
            last = parts.pop()
            if last.isdigit():
                exitstatus = int(last)
                if exitstatus > 255:
                    return self.send(400, "invalid url format", headers=limit)
                action = "success" if exitstatus == 0 else "fail"
            else:
                action = last
        with lock:
            if len(parts) == 1 and UUID_RE.match(parts[0]):
                check = checks.get(parts[0])
                if not check:
                    return self.send(404, "not found", headers=limit)
            elif len(parts) == 2:
                key, slug = parts
                if key != cfg["ping_key"] or not SLUG_RE.match(slug):
                    return self.send(404, "not found", headers=limit)
                found = [c for c in checks.values() if c["slug"] == slug]
                if len(found) > 1:
                    return self.send(409, "ambiguous slug", headers=limit)
                if not found:
                    if q.get("create") != ["1"]:
                        return self.send(404, "not found", headers=limit)
                    found = [new_check(slug)]
                    created = True
                check = found[0]
            else:
                return self.send(400, "invalid url format", headers=limit)
            rid = q.get("rid", [None])[0]
            if rid is not None and not UUID_RE.match(rid):
                return self.send(400, "invalid uuid format", headers=limit)
            t = now()
            check["n_pings"] += 1
            if action == "start":
                check["started"] = t
                check["last_rid"] = rid
            elif action in ("success", "fail"):
                check["last_ping"] = t
                check["status"] = "up" if action == "success" else "down"
                if rid is None or rid == check["last_rid"]:
                    check["started"] = None
            entry = self.entry
            entry.update({"check": check["uuid"], "kind": action,
                          "exitstatus": exitstatus, "rid": rid,
                          "stored_body": (body[:cfg["body_limit"]]).decode("utf-8", "replace")})
        if created:
            return self.send(201, "Created", headers=limit)
        return self.send(200, "OK", headers=limit)

    # --- Management API v3 ---------------------------------------------
    def api(self, url, body):
        self.record(body, url)
        if cfg["delay"]:
            time.sleep(cfg["delay"])
        if body is None:
            return self.send(411, "chunked bodies are not accepted")
        key = self.headers.get("X-Api-Key")
        doc = None
        if body and self.command == "POST":
            try:
                doc = json.loads(body)
            except ValueError:
                return self.send_json(400, {"error": "could not parse request body"})
            if not isinstance(doc, dict):
                return self.send_json(400, {"error": "json validation error: body is not an object"})
            key = key or doc.get("api_key")
        if not key:
            return self.send_json(401, {"error": "missing api key"})
        if key != cfg["api_key"]:
            return self.send_json(401, {"error": "wrong api key"})
        base = "http://%s:%d" % self.server.server_address[:2]
        m = re.match(r"^/api/v3/checks/(?:([0-9a-f-]{36})/?)?$", url.path)
        if not m:
            return self.send_json(404, {"error": "not found"})
        code = m.group(1)
        with lock:
            if code is None and self.command == "GET":
                q = parse_qs(url.query)
                out = [public(c, base) for c in checks.values()
                       if "slug" not in q or c["slug"] == q["slug"][0]]
                return self.send_json(200, {"checks": out})
            if code is None and self.command == "POST":
                err = validate(doc or {})
                if err:
                    return self.send_json(400, {"error": err})
                existing = None
                for fld in (doc or {}).get("unique", []):
                    if fld not in ("name", "slug", "tags", "timeout", "grace"):
                        return self.send_json(400, {"error": "json validation error: unique has unexpected value"})
                if doc.get("unique"):
                    for c in checks.values():
                        if all(c.get(f) == doc.get(f) for f in doc["unique"]):
                            existing = c
                            break
                if existing:
                    apply(existing, doc)
                    return self.send_json(200, public(existing, base))
                c = new_check(doc.get("slug", ""), doc.get("name", ""))
                if "slug" not in doc:
                    c["slug"] = re.sub(r"[^a-z0-9_-]+", "-", c["name"].lower()).strip("-")
                apply(c, doc)
                return self.send_json(201, public(c, base))
            c = checks.get(code or "")
            if not c:
                return self.send_json(404, {"error": "not found"})
            if self.command == "GET":
                return self.send_json(200, public(c, base))
            if self.command == "POST":
                err = validate(doc or {})
                if err:
                    return self.send_json(400, {"error": err})
                apply(c, doc or {})
                return self.send_json(200, public(c, base))
            if self.command == "DELETE":
                del checks[code]
                return self.send_json(200, public(c, base))
        return self.send_json(405, {"error": "method not allowed"})


def validate(doc):
    for f in ("name", "slug", "tags", "desc", "schedule", "tz"):
        if f in doc and not isinstance(doc[f], str):
            return "json validation error: %s is not a string" % f
    for f in ("timeout", "grace"):
        if f in doc:
            if not isinstance(doc[f], int) or isinstance(doc[f], bool):
                return "json validation error: %s is not a number" % f
            if doc[f] < 60:
                return "json validation error: %s is too small" % f
            if doc[f] > 31536000:
                return "json validation error: %s is too large" % f
    if "slug" in doc and not SLUG_RE.match(doc["slug"] or "-"):
        return "json validation error: slug does not match pattern"
    if "schedule" in doc and not cron_valid(doc["schedule"]):
        return "json validation error: schedule is not a valid cron or OnCalendar expression"
    return None


def apply(c, doc):
    for f in ("name", "slug", "tags", "desc", "grace", "tz", "manual_resume", "methods"):
        if f in doc:
            c[f] = doc[f]
    if "schedule" in doc:
        c["kind"], c["schedule"] = "cron", doc["schedule"]
    elif "timeout" in doc:
        c["kind"], c["timeout"] = "simple", doc["timeout"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--record")
    ap.add_argument("--ping-key", default="test-ping-key")
    ap.add_argument("--api-key", default="test-api-key")
    ap.add_argument("--body-limit", type=int, default=10000)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--fail-rate", type=float, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--check", action="append", default=[], help="UUID:SLUG")
    a = ap.parse_args()
    cfg.update(record=a.record, ping_key=a.ping_key, api_key=a.api_key,
               body_limit=a.body_limit, delay=a.delay, fail_rate=a.fail_rate,
               fail_first=a.fail_first,
               ping_base="http://127.0.0.1:%d" % a.port)
    for spec in a.check:
        u, _, slug = spec.partition(":")
        c = new_check(slug or u[:8])
        del checks[c["uuid"]]
        c["uuid"] = u
        checks[u] = c
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
