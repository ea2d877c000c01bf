#!/usr/bin/python3
"""Writes a private config for Debian's clickhouse-server 18.16.

Usage: mkconfig.py DIR HTTP_PORT TCP_PORT INTERSERVER_PORT

Copies /etc/clickhouse-server/config.xml and users.xml into DIR/etc with
every path under DIR, the given ports, 127.0.0.1 only (no ::1: the test
machine may have no IPv6) and the server's own logs in DIR/log.
"""
import os
import re
import sys

SRC = os.environ.get("CLICKHOUSE_ETC", "/etc/clickhouse-server")


def top_level(xml, tag, value):
    """Replace the first <tag>...</tag> that is a direct child of <yandex>
    (indented by four spaces), so <path> of distributed_ddl stays."""
    pat = re.compile(r"^(    <%s>)[^<]*(</%s>)" % (tag, tag), re.M)
    new, n = pat.subn(lambda m: m.group(1) + value + m.group(2), xml, count=1)
    if n != 1:
        sys.exit("mkconfig: no top-level <%s> in config.xml" % tag)
    return new


def main():
    d, http, tcp, inter = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    d = os.path.abspath(d)
    for sub in ("etc", "data", "data/tmp", "data/user_files",
                "data/format_schemas", "log"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(SRC, "config.xml")) as f:
        xml = f.read()
    xml = re.sub(r"<log>[^<]*</log>", "<log>%s/log/server.log</log>" % d, xml, count=1)
    xml = re.sub(r"<errorlog>[^<]*</errorlog>",
                 "<errorlog>%s/log/server.err.log</errorlog>" % d, xml, count=1)
    xml = re.sub(r"<level>[^<]*</level>", "<level>information</level>", xml, count=1)
    xml = top_level(xml, "http_port", http)
    xml = top_level(xml, "tcp_port", tcp)
    xml = top_level(xml, "interserver_http_port", inter)
    xml = top_level(xml, "interserver_http_host", "127.0.0.1")
    xml = top_level(xml, "path", d + "/data/")
    xml = top_level(xml, "tmp_path", d + "/data/tmp/")
    xml = top_level(xml, "user_files_path", d + "/data/user_files/")
    xml = top_level(xml, "format_schema_path", d + "/data/format_schemas/")
    xml = re.sub(r"^\s*<listen_host>::1</listen_host>\s*\n", "", xml, flags=re.M)
    # Small caches: several servers may run at once on a small machine.
    xml = top_level(xml, "mark_cache_size", str(64 << 20))
    with open(os.path.join(d, "etc", "config.xml"), "w") as f:
        f.write(xml)
    with open(os.path.join(SRC, "users.xml")) as f:
        users = f.read()
    # A user with a password, to test X-ClickHouse-User/-Key. The password
    # has a space and a '+' so that any URL-encoding slip shows.
    users = users.replace("    </users>", """        <backup>
            <password>s3cret pass+word</password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </backup>
    </users>""", 1)
    with open(os.path.join(d, "etc", "users.xml"), "w") as f:
        f.write(users)


if __name__ == "__main__":
    main()
