"""Benchmark the cryptographic core: MSM, pairing, batch opening, accumulation, commit overhead, SRS loading.

    python benchmarks/bench_crypto.py            # full table (about 1.5 minutes on 2 cores)
    python benchmarks/bench_crypto.py --quick    # MSM up to 2^14, smaller batch: a smoke run

Reference-backend (py_ecc) MSMs are measured at 2^6 and 2^8 only; larger sizes are extrapolated linearly
(a naive MSM is n scalar multiplications) and marked ``~``. Times are wall-clock seconds, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zkchain.crypto import kzg
from zkchain.crypto import poly as fpoly
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS

ROOT = Path(__file__).resolve().parents[1]
SNARKJS = ROOT / "tools" / "node_modules" / ".bin" / "snarkjs"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def fmt(t: float | None, est: bool = False) -> str:
    if t is None:
        return "-"
    s = f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"
    return ("~" + s) if est else s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--ptau", type=Path, help="also time loading this (large) .ptau: first, cached, 2^16 points")
    args = ap.parse_args()
    rng = random.Random(1)
    fast, ref = get_backend("fast"), get_backend("reference")
    max_log = 14 if args.quick else 18
    rows: list[tuple[str, str, str]] = []

    # -- dev SRS (fast) and its affine copy -----------------------------------------------------------------------
    t = time.perf_counter()
    srs = SRS.dev((1 << max_log) - 1, seed=b"bench", backend=fast)
    t_dev = time.perf_counter() - t
    rows.append((f"dev SRS generation, 2^{max_log} powers", fmt(t_dev), "-"))
    n16 = min(1 << 16, 1 << max_log)
    affine = SRS.dev(n16 - 1, seed=b"bench", backend=fast)
    t = time.perf_counter()
    affine.normalize()
    rows.append((f"SRS.normalize(), 2^{n16.bit_length() - 1} powers (one-off)", fmt(time.perf_counter() - t), "-"))

    # -- MSM per size -----------------------------------------------------------------------------------------------
    ref_pts = SRS.dev(256, seed=b"bench", backend=ref).g1_powers
    ref_t = {}
    for lg in (6, 8):
        sc = [rng.randrange(R) for _ in range(1 << lg)]
        ref_t[lg] = best(lambda: ref.g1_msm(ref_pts, sc), 1)
    per_point = ref_t[8] / 256
    for lg in range(12 if not args.quick else 10, max_log + 1):
        n = 1 << lg
        sc = [rng.randrange(R) for _ in range(n)]
        t_proj = best(lambda: fast.g1_msm(srs.g1_powers[:n], sc), args.repeat)
        t_aff = best(lambda: fast.g1_msm(affine.g1_powers[:n], sc), args.repeat) if n <= n16 else None
        rows.append((f"MSM 2^{lg}: fast projective | affine", f"{fmt(t_proj)} | {fmt(t_aff)}",
                     fmt(per_point * n, est=True)))
    rows.append(("MSM 2^6 / 2^8 (reference, measured)", "-", f"{fmt(ref_t[6])} / {fmt(ref_t[8])}"))

    # -- pairings -------------------------------------------------------------------------------------------------
    for label, pairs_of in (("1 pairing", 1), ("pairing check, 2 pairs (accumulator)", 2)):
        res = []
        for be, rep in ((fast, 5), (ref, 1)):
            pairs = [(be.g1_mul(be.g1(), 3 + i), be.g2_mul(be.g2(), 5 + i)) for i in range(pairs_of)]
            res.append(best(lambda: be.pairing_check(pairs), rep))
        rows.append((label, fmt(res[0]), fmt(res[1])))

    # -- batch opening, accumulation --------------------------------------------------------------------------------
    m, lg = (8, 12) if args.quick else (32, 14)
    polys = [fpoly.poly([rng.randrange(R) for _ in range(1 << lg)]) for _ in range(m)]
    x, nu = rng.randrange(R), rng.randrange(R)
    t_bo = best(lambda: kzg.batch_open(srs, polys, x, nu), 1)
    rows.append((f"batch_open {m} polys of degree 2^{lg} (one proof)", fmt(t_bo), "-"))

    n_claims = 1000
    small = [[rng.randrange(R) for _ in range(16)] for _ in range(n_claims)]
    claims = []
    for f in small:
        xk = rng.randrange(R)
        y, pi = kzg.open(srs, f, xk)
        claims.append(kzg.Claim(kzg.commit(srs, f), xk, y, pi))
    u = rng.randrange(R)
    t_acc = best(lambda: kzg.accumulate(claims, u, backend=fast), args.repeat)
    acc = kzg.accumulate(claims, u, backend=fast)
    t_chk = best(lambda: acc.check(srs.g2_one, srs.g2_tau), args.repeat)
    assert acc.check(srs.g2_one, srs.g2_tau)
    rows.append((f"accumulate {n_claims} claims (2 MSMs) + decide", f"{fmt(t_acc)} + {fmt(t_chk)}", "-"))

    # -- commit vs bare MSM at 2^16 -----------------------------------------------------------------------------
    n = n16
    coeffs = [rng.randrange(R) for _ in range(n)]
    f = fpoly.poly(coeffs)
    for name, s in (("dev SRS, projective", srs), ("normalized SRS, affine", affine)):
        pts = s.g1_powers[:n]
        t_msm = best(lambda: fast.g1_msm(pts, coeffs), args.repeat)
        t_commit = best(lambda: kzg.commit(s, f), args.repeat)
        rows.append((f"commit(flint poly) vs bare MSM 2^{n.bit_length() - 1}, {name}",
                     f"{fmt(t_commit)} / {fmt(t_msm)} = {t_commit / t_msm:.2f}x", "-"))

    # -- .ptau loading ------------------------------------------------------------------------------------------
    if shutil.which("node") and SNARKJS.exists():
        power = 10 if args.quick else 14
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([str(SNARKJS), "powersoftau", "new", "bn128", str(power), "p.ptau"], cwd=d, check=True,
                           capture_output=True)
            import os
            os.environ["ZKCHAIN_CACHE"] = str(Path(d) / "cache")
            deg = 1 << power
            p = Path(d) / "p.ptau"
            t1 = best(lambda: SRS.from_ptau(p, deg, fast), 1)
            t2 = best(lambda: SRS.from_ptau(p, deg, fast), 1)
            t3 = best(lambda: SRS.from_ptau(p, deg, fast).g1_powers.materialize(), 1)
            rows.append((f".ptau 2^{power}: first load | cached load | cached + build all points",
                         f"{fmt(t1)} | {fmt(t2)} | {fmt(t3)}", "-"))
    else:
        rows.append((".ptau loading", "skipped: snarkjs not installed", "-"))

    if args.ptau:
        with tempfile.TemporaryDirectory() as d:
            import os
            os.environ["ZKCHAIN_CACHE"] = d
            t1 = best(lambda: SRS.from_ptau(args.ptau, backend=fast), 1)
            big = SRS.from_ptau(args.ptau, backend=fast)
            t2 = best(lambda: SRS.from_ptau(args.ptau, backend=fast), 1)
            t3 = best(lambda: big.g1_powers[: 1 << 16], 1)
            rows.append((f"{args.ptau.name} (degree {big.degree}): first | cached load | build 2^16 points",
                         f"{fmt(t1)} | {fmt(t2)} | {fmt(t3)}", "-"))

    w = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    print(f"{'operation':<{w}}  {'fast (zksnake/arkworks)':<{w2}}  reference (py_ecc)")
    print("-" * (w + w2 + 24))
    for a, b, c in rows:
        print(f"{a:<{w}}  {b:<{w2}}  {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
