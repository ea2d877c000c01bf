#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal, as a user's terminal would, and
keeps every byte it wrote there (stdout and stderr both go to the pty).

  on-pty.py OUT CMD [ARG]...   the raw bytes into OUT; exits as CMD did
"""
import os
import pty
import sys

out_path, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
with open(out_path, "wb") as f:
    f.write(out)
sys.exit(os.waitstatus_to_exitcode(st))
