#!/usr/bin/python3
"""git fast-import stream of an infra monorepo: FILES files, COMMITS commits.

usage: gen.py COMMITS FILES APPS > stream

The first commit adds every file: APPS apps with a Deployment and a few
more manifests each, the rest terraform, tasks and docs. Each later commit
changes one file; every 10th is a deploy commit with Saasctl-* trailers.
"""
import sys

commits, nfiles, napps = (int(a) for a in sys.argv[1:4])
out = sys.stdout.buffer
t0 = 1700000000


def deployment(app, tag):
    return ("""apiVersion: apps/v1
kind: Deployment
metadata:
  name: %(a)s
  namespace: %(a)s
spec:
  replicas: 2
  selector:
    matchLabels: {app: %(a)s}
  template:
    metadata:
      labels: {app: %(a)s}
    spec:
      containers:
        - name: %(a)s
          image: ghcr.io/acme/%(a)s:%(t)s   # deployed by saasctl
          ports:
            - containerPort: 8000
          resources:
            requests: {cpu: 100m, memory: 256Mi}
""" % {"a": app, "t": tag}).encode()


def service(app, i):
    return ("""apiVersion: v1
kind: ConfigMap
metadata:
  name: %s-config-%d
data:
  LOG_LEVEL: info
  FEATURE_%d: "on"
""" % (app, i, i)).encode()


files = {}
apps = ["app%04d" % i for i in range(napps)]
per_app = 5
for a in apps:
    files["manifests/apps/%s/deployment.yaml" % a] = deployment(a, "v0")
    for i in range(1, per_app):
        files["manifests/apps/%s/config-%d.yaml" % (a, i)] = service(a, i)
i = 0
while len(files) < nfiles - 1:
    kind = i % 3
    if kind == 0:
        files["terraform/aws/res%05d.tf" % i] = b'resource "aws_s3_bucket" "b%d" {\n  bucket = "acme-%d"\n}\n' % (i, i)
    elif kind == 1:
        files["tasks/task%05d.sh" % i] = b"#!/bin/sh\necho task %d\n" % i
    else:
        files["docs/page%05d.md" % i] = b"# Page %d\n\nSome notes.\n" % i
    i += 1
files["saasctl.yaml"] = b"project: acme\n"
names = sorted(files)
others = [n for n in names if not n.startswith("manifests/")]


def blob(data):
    out.write(b"data %d\n" % len(data))
    out.write(data)
    out.write(b"\n")


def commit(n, msg, changes):
    out.write(b"commit refs/heads/main\n")
    out.write(b"author Bench <bench@example.com> %d +0000\n" % (t0 + n))
    out.write(b"committer Bench <bench@example.com> %d +0000\n" % (t0 + n))
    blob(msg.encode())
    for path, data in changes:
        out.write(b"M 100644 inline %s\n" % path.encode())
        blob(data)


commit(0, "monorepo\n", [(n, files[n]) for n in names])
tags = {a: 0 for a in apps}
for n in range(1, commits):
    if n % 10 == 0:
        a = apps[n % len(apps)]
        old = tags[a]
        tags[a] += 1
        msg = ("deploy(%s): ghcr.io/acme/%s:v%d \u2192 ghcr.io/acme/%s:v%d\n\n"
               "Saasctl-App: %s\nSaasctl-Previous-Image: ghcr.io/acme/%s:v%d\n"
               "Saasctl-Image: ghcr.io/acme/%s:v%d\n"
               % (a, a, old, a, tags[a], a, a, old, a, tags[a]))
        commit(n, msg, [("manifests/apps/%s/deployment.yaml" % a, deployment(a, "v%d" % tags[a]))])
    else:
        p = others[n % len(others)]
        files[p] = files[p] + b"# change %d\n" % n
        commit(n, "change %d\n" % n, [(p, files[p])])
