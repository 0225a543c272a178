"""Runs a command so that its peak RSS is its own, for tools/bench_tasks.py and tools/bench_peers.py.

Linux keeps, as a process's ru_maxrss, the larger of its own peak and the peak of the memory image it replaced at
exec, and a child forked (or vforked) from a large Python process starts from the parent's image: `bertrun` started
from a script holding a BERT-base ONNX graph would report the script's peak, not its own. Here a fresh small
interpreter (about 10 MB) forks and execs the command instead, waits for it and writes the child's ru_maxrss.
"""
import os
import subprocess
import sys
import tempfile

SPAWN = ("import os, sys\n"
         "pid = os.fork()\n"
         "if pid == 0:\n"
         "    os.execv(sys.argv[2], sys.argv[2:])\n"
         "_, status, usage = os.wait4(pid, 0)\n"
         "with open(sys.argv[1], 'w') as f:\n"
         "    f.write(str(usage.ru_maxrss))\n"
         "sys.exit(os.waitstatus_to_exitcode(status))\n")


def run(cmd, **kwargs):
    """subprocess.run(cmd, **kwargs) through the helper; returns (CompletedProcess, peak RSS bytes or None).
    cmd[0] must be a path (execv does not search PATH)."""
    fd, path = tempfile.mkstemp(prefix="peak-rss.")
    os.close(fd)
    try:
        r = subprocess.run([sys.executable, "-c", SPAWN, path] + list(cmd), **kwargs)
        with open(path) as f:
            text = f.read().strip()
        return r, int(text) * 1024 if text else None  # ru_maxrss is in KiB on Linux
    finally:
        os.remove(path)
