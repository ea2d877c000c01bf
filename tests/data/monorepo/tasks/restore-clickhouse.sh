#!/bin/sh
# Restore the analytics database from the latest good backup.
set -eu
saasctl backup list
saasctl restore clickhouse "${1:-latest}"
