#!/bin/sh
# Run on every pull request: the manifests must lint clean.
set -eu
saasctl lint --format github
