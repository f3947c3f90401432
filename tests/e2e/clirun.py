"""``zk(*args, check=None)``: run the ``zkchain`` CLI in a fresh interpreter (what a user's shell runs) and, with
``check``, assert its exit code (0 accepted/success, 1 rejected, 2 usage or input error)."""

from __future__ import annotations

import subprocess
import sys


def zk(*args, check=None) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "zkchain.cli", *map(str, args)], capture_output=True, text=True,
                       timeout=600)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}"
    return p
