"""`zkchain srs get` against a server on 127.0.0.1 (tests never reach the internet).

The server serves a snarkjs-made ``.ptau`` under the Hermez file name; its BLAKE2b-512 digest stands in for the
published one. A good download is cached and then used by `zkchain setup --srs hermez:8` (a key labelled secure);
a wrong digest, a truncated body and an unreachable server are exit 2 with one line, and leave nothing in the
cache.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from zkchain.crypto import ceremony

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ptau(tmp_path_factory) -> bytes:
    snarkjs = ROOT / "tools" / "node_modules" / ".bin" / "snarkjs"
    if not snarkjs.exists():
        pytest.skip("snarkjs not installed (bash scripts/dev.sh setup)")
    d = tmp_path_factory.mktemp("ptau")
    subprocess.run([snarkjs, "powersoftau", "new", "bn128", "8", d / "p0.ptau"], check=True, capture_output=True,
                   timeout=300)
    subprocess.run([snarkjs, "powersoftau", "contribute", d / "p0.ptau", d / "p1.ptau", "--name=t", "-e=entropy"],
                   check=True, capture_output=True, timeout=300)
    return (d / "p1.ptau").read_bytes()


class _Server:
    """Serves ``body`` at every path; ``truncate`` announces a longer Content-Length than it sends."""

    def __init__(self, body: bytes, truncate: bool = False):
        outer = self
        self.requests = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (1000 if truncate else 0)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ptau/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch, ptau):
    from zkchain.crypto.srs import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setitem(ceremony.HERMEZ_BLAKE2B, 8, hashlib.blake2b(ptau, digest_size=64).hexdigest())
    return tmp_path / "cache" / "ceremony"


def _cli(capsys, *argv):
    from zkchain.cli import main

    with pytest.raises(SystemExit) as ei:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return ei.value.code, out, err


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_is_verified_cached_and_used_by_setup(cache, ptau, capsys, tmp_path):
    import json
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "adversarial"))
    from unit_models import save_unit_model

    with _Server(ptau) as srv:
        code, out, err = _cli(capsys, "srs", "get", "--power", 8, "--mirror", srv.url)
        assert code == 0 and "downloaded and verified" in out, err
        assert (cache / "hermez-8.ptau").read_bytes() == ptau and _leftovers(cache) == ["hermez-8.ptau"]
        code, out, _ = _cli(capsys, "srs", "get", "--power", 8, "--mirror", srv.url)
        assert code == 0 and "already cached" in out and srv.requests == 1
    path, _, _ = save_unit_model("gemm_relu", tmp_path)
    b = tmp_path / "b"
    from zkchain import api

    api.compile(path, b, tmp_path / "calibration.npy", {"act_bits": 6, "weight_bits": 6, "table_bits": 7})  # ≤ 2^9
    code, _, err = _cli(capsys, "setup", b, "--srs", "hermez:8")
    assert code == 0 and "INSECURE" not in err, err
    assert json.loads((b / "vk.json").read_text())["srs"]["insecure"] is False


def test_wrong_digest_is_exit_2_and_caches_nothing(cache, ptau, capsys):
    with _Server(ptau[:-1] + bytes([ptau[-1] ^ 1])) as srv:
        code, _, err = _cli(capsys, "srs", "get", "--power", 8, "--mirror", srv.url)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is not the published" in err
    assert _leftovers(cache) == []


def test_truncated_download_is_exit_2_and_caches_nothing(cache, ptau, capsys):
    with _Server(ptau, truncate=True) as srv:
        code, _, err = _cli(capsys, "srs", "get", "--power", 8, "--mirror", srv.url)
    assert code == 2 and len(err.strip().splitlines()) == 1 and ("truncated" in err or "cannot download" in err), err
    assert _leftovers(cache) == []


def test_unreachable_server_is_exit_2_and_setup_says_how_to_fetch(cache, capsys, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = _cli(capsys, "srs", "get", "--power", 8, "--mirror", f"http://127.0.0.1:{port}/")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot download" in err
    assert _leftovers(cache) == []
    with pytest.raises(Exception, match=r"zkchain srs get --power 9"):
        ceremony.resolve("hermez:9")


def test_published_digests_are_the_snarkjs_table():
    """One source: the digests in the code are exactly the snarkjs README's table (when snarkjs is installed)."""
    import re

    readme = ROOT / "tools" / "node_modules" / "snarkjs" / "README.md"
    if not readme.exists():
        pytest.skip("snarkjs not installed")
    rows = re.findall(r"\|\s+(\d+)\s+\|\s+\S+\s+\|\s+\[(powersOfTau28_hez_final(?:_\d+)?\.ptau)\]\((\S+)\)\s+\|\s+"
                      r"([0-9a-f]{128})", readme.read_text())
    assert {int(p): h for p, _, _, h in rows} == ceremony.HERMEZ_BLAKE2B
    assert all(url == ceremony.HERMEZ_URL + ceremony.file_name(int(p)) for p, _, url, _ in rows)
