"""scripts/train_digits.py must be usable (``--help``, clear error) on a machine without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_digits.py"

# Run the script with torch made unimportable (None in sys.modules), whether or not torch is installed.
_NO_TORCH = (
    "import runpy, sys; sys.modules['torch'] = None; "
    "sys.argv = [sys.argv[1]] + sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _run_without_torch(*args):
    return subprocess.run(
        [sys.executable, "-c", _NO_TORCH, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_help_works_without_torch():
    r = _run_without_torch("--help")
    assert r.returncode == 0, r.stderr
    for word in ("--out", "--seed", "--models", "digits_mlp", "lenet5"):
        assert word in r.stdout


def test_missing_torch_gives_install_hint(tmp_path):
    r = _run_without_torch("--models", "digits_mlp", "--out", str(tmp_path))
    assert r.returncode == 2
    assert "pip install -e '.[torch]'" in r.stderr
    assert "Traceback" not in r.stderr
    assert not any(tmp_path.iterdir())
