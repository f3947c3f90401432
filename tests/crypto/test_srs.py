"""SRS: deterministic dev SRS, snarkjs .ptau import (phase 1 and phase-2 prepared), the cache, bad files."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from zkchain.crypto.backend import get_backend
from zkchain.crypto.srs import SRS
from zkchain.errors import SetupError

SNARKJS = Path(__file__).resolve().parents[2] / "tools" / "node_modules" / ".bin" / "snarkjs"
POWER = 6  # 2^6: tauG1 has 127 points; each snarkjs call takes < 1 s

needs_snarkjs = pytest.mark.skipif(
    shutil.which("node") is None or not SNARKJS.exists(),
    reason="snarkjs .ptau interop needs node and tools/node_modules/.bin/snarkjs (npm install in tools/)")


def test_dev_srs_is_deterministic_and_marked(backend):
    a = SRS.dev(8, seed="s", backend=backend)
    b = SRS.dev(8, seed=b"s", backend=backend)
    c = SRS.dev(8, seed="other", backend=backend)
    assert a.digest() == b.digest() != c.digest()
    assert a.insecure and a.source == "dev:s"
    assert len(a.g1_powers) == 9 and a.check_powers([0, 3, 7])
    g1, g2_one, g2_tau = a.verifier_key()
    assert backend.g1_eq(g1, backend.g1()) and backend.g2_eq(g2_one, backend.g2())


def test_normalize_keeps_the_points(backend):
    a = SRS.dev(6, backend=backend)
    before = [backend.g1_to_bytes(p) for p in a.g1_powers]
    assert [backend.g1_to_bytes(p) for p in a.normalize().g1_powers] == before


def test_dev_srs_digest_is_backend_independent():
    assert SRS.dev(4, backend="fast").digest() == SRS.dev(4, backend="reference").digest()


@pytest.fixture(scope="module")
def ptau_files(tmp_path_factory):
    if shutil.which("node") is None or not SNARKJS.exists():
        pytest.skip("snarkjs .ptau interop needs node and tools/node_modules/.bin/snarkjs")
    d = tmp_path_factory.mktemp("ptau")

    def run(*args):
        subprocess.run([str(SNARKJS), *args], cwd=d, check=True, capture_output=True, timeout=120)

    run("powersoftau", "new", "bn128", str(POWER), "f0.ptau")
    run("powersoftau", "contribute", "f0.ptau", "f1.ptau", "--name=zkchain-test", "-e=zkchain test entropy")
    run("powersoftau", "prepare", "phase2", "f1.ptau", "f2.ptau")
    return d


@pytest.fixture
def cache_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKCHAIN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@needs_snarkjs
def test_ptau_phase1_and_prepared_agree(ptau_files, backend, cache_tmp):
    be = backend
    deg = 2 * (1 << POWER) - 2 if be.name == "fast" else 16
    p1 = SRS.from_ptau(ptau_files / "f1.ptau", degree=deg, backend=be, alpha=True)
    p2 = SRS.from_ptau(ptau_files / "f2.ptau", degree=deg, backend=be, alpha=True)
    assert not p1.insecure and "f1.ptau" in p1.source
    assert p1.degree == deg and len(p1.g1_powers) == deg + 1
    assert [be.g1_to_bytes(x) for x in p1.g1_powers] == [be.g1_to_bytes(x) for x in p2.g1_powers]
    assert be.g2_eq(p1.g2_tau, p2.g2_tau) and p1.digest() == p2.digest()
    # e([τ^(i+1)]₁, [1]₂) = e([τ^i]₁, [τ]₂) for a few i, and τ is not trivial (the contribution happened)
    assert p1.check_powers([0, 1, deg - 1])
    assert not be.g1_eq(p1.g1_powers[1], be.g1())
    # alphaTauG1 holds [α τ^i]₁: the same relation holds along it
    al = p1.g1_alpha_powers
    assert len(al) == min(deg + 1, 1 << POWER)
    assert be.pairing_check([(al[3], p1.g2_one), (be.g1_neg(al[2]), p1.g2_tau)])


@needs_snarkjs
def test_ptau_default_degree_and_fresh_file(ptau_files, cache_tmp):
    s = SRS.from_ptau(ptau_files / "f0.ptau")  # "new" file: τ = 1, every power is the generator
    assert s.degree == 1 << POWER and s.check_powers([0, 10])
    with pytest.raises(SetupError, match="supports degrees 1..126"):
        SRS.from_ptau(ptau_files / "f1.ptau", degree=127)


@needs_snarkjs
def test_ptau_cache_roundtrip(ptau_files, cache_tmp):
    a = SRS.from_ptau(ptau_files / "f1.ptau", degree=40)
    entries = list((cache_tmp / "srs").iterdir())
    assert len(entries) == 1 and not any(p.suffix == ".pkl" for p in entries[0].iterdir())
    g1 = np.load(entries[0] / "g1.npy", allow_pickle=False)
    assert g1.shape == (41, 64) and g1.dtype == np.uint8
    b = SRS.from_ptau(ptau_files / "f1.ptau", degree=40)  # served from the cache
    assert a.digest() == b.digest() and a.backend.g1_eq(a.g1_powers[40], b.g1_powers[40])
    SRS.from_ptau(ptau_files / "f1.ptau", degree=41)  # another degree is another entry
    assert len(list((cache_tmp / "srs").iterdir())) == 2
    # a damaged entry is ignored (hash mismatch) and the file is converted again
    bad = g1.copy()
    bad[7, 63] ^= 1
    np.save(entries[0] / "g1.npy", bad, allow_pickle=False)
    c = SRS.from_ptau(ptau_files / "f1.ptau", degree=40)
    assert c.backend.g1_eq(c.g1_powers[7], a.g1_powers[7])


@needs_snarkjs
def test_ptau_points_are_decoded_lazily(ptau_files, cache_tmp):
    from zkchain.crypto import kzg
    from zkchain.crypto.srs import PointTable

    s = SRS.from_ptau(ptau_files / "f1.ptau", degree=100)
    assert isinstance(s.g1_powers, PointTable) and len(s.g1_powers) == 101
    PointTable.CHUNK, old = 16, PointTable.CHUNK
    try:
        s = SRS.from_ptau(ptau_files / "f1.ptau", degree=100)
        assert s.g1_powers.built == 0  # nothing decoded until used
        y, pi = kzg.open(s, list(range(1, 40)), 5)
        assert s.g1_powers.built == 48
        assert kzg.verify_claim(s.backend, kzg.Claim(kzg.commit(s, list(range(1, 40))), 5, y, pi), s.g2_one, s.g2_tau)
        assert len(s.g1_powers[-3:]) == 3 and s.g1_powers.built == 101
        with pytest.raises(IndexError):
            s.g1_powers[101]
    finally:
        PointTable.CHUNK = old


@needs_snarkjs
def test_truncated_and_corrupt_ptau_refused(ptau_files, tmp_path, cache_tmp):
    data = (ptau_files / "f1.ptau").read_bytes()

    def refused(blob: bytes, match: str):
        p = tmp_path / "bad.ptau"
        p.write_bytes(blob)
        with pytest.raises(SetupError, match=match):
            SRS.from_ptau(p, degree=8, cache=False)

    refused(data[: len(data) // 2], "truncated")
    refused(data[:20], "truncated")
    refused(b"", "not a .ptau|bad magic")
    refused(b"PTAU" + data[4:], "bad magic")
    refused(data[:4] + struct.pack("<I", 2) + data[8:], "version")
    # header: section 1 starts at byte 12 + 12; q follows n8
    q_off = 12 + 12 + 4
    bad_q = bytearray(data)
    bad_q[q_off] ^= 1
    refused(bytes(bad_q), "not for bn128")
    # flip a byte inside tauG1[5] (section 2 follows the 44-byte header section)
    g1_off = 12 + 12 + 44 + 12
    bad_pt = bytearray(data)
    bad_pt[g1_off + 5 * 64 + 7] ^= 0x40
    refused(bytes(bad_pt), "not on the BN254 curve|coordinate")
    g2_off = g1_off + (2 * (1 << POWER) - 1) * 64 + 12
    bad_g2 = bytearray(data)
    bad_g2[g2_off + 128 + 3] ^= 0x01  # [τ]₂ moved off the twist
    refused(bytes(bad_g2), "corrupt tauG2")
    with pytest.raises(SetupError, match="no such"):
        SRS.from_ptau(tmp_path / "missing.ptau")


def test_ptau_refused_without_snarkjs_too(tmp_path):
    p = tmp_path / "x.ptau"
    p.write_bytes(b"ptau" + struct.pack("<II", 1, 1) + struct.pack("<IQ", 1, 1000))
    with pytest.raises(SetupError, match="truncated"):
        SRS.from_ptau(p, backend=get_backend("reference"))


@pytest.mark.parametrize("w", [2, 3])
def test_dev_shards_are_the_strided_powers(w):
    """Worker k of w holds [τ^i]₁ for i ≡ k (mod w): together exactly the dev SRS, each point once."""
    from zkchain.prover.keys import load_srs_shard

    be = get_backend("fast")
    full = [be.g1_to_bytes(p) for p in SRS.dev(10, seed="shard").g1_powers]
    for k in range(w):
        assert [be.g1_to_bytes(p) for p in load_srs_shard("dev:shard", 10, k, w)] == full[k::w]


def test_ptau_shards_are_the_strided_powers(ptau_files, cache_tmp):
    from zkchain.prover.keys import load_srs_shard

    be = get_backend("fast")
    path = str(ptau_files / "f2.ptau")
    full = [be.g1_to_bytes(p) for p in SRS.from_ptau(path, 2 ** POWER - 3).g1_powers]
    shards = [load_srs_shard(path, 2 ** POWER - 3, k, 3) for k in range(3)]
    assert all(not hasattr(s, "built") or s.built == 0 for s in shards)  # still lazy: a shard decodes on use
    for k, s in enumerate(shards):
        assert [be.g1_to_bytes(p) for p in s] == full[k::3]
