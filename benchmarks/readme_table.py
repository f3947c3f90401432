"""Write the README's "Measured" table from `benchmarks/results/`, so it cannot drift from the measurements.

    python benchmarks/readme_table.py            # rewrite README.md between the measured markers
    python benchmarks/readme_table.py --check    # exit 1 if README.md differs from what the results give

Sources: zkchain's numbers from the newest `verifier-<date>.json` (`bench_verifier.py -o`, which calls this
script with `--readme`); EZKL's, peak RSS and proving-key sizes from the newest `bench_prove-<date>.json`
(`bench_prove.py --save`). "Newest" is the latest date in the file name, then the name. The table says which
files and commits it comes from.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- measured:begin (benchmarks/readme_table.py) -->", "<!-- measured:end -->"
MODELS = (("digits_mlp", "digits MLP 64→32→10"), ("digits_cnn", "digits CNN"), ("lenet5", "LeNet-5 (28×28)"))


def newest(pattern: str, results: Path = RESULTS) -> Path:
    """The file matching ``pattern`` with the latest ``YYYY-MM-DD`` in its name (then the latest name)."""
    found = [(m.group(0), p.name, p) for p in results.glob(pattern) if (m := re.search(r"\d{4}-\d{2}-\d{2}", p.name))]
    if not found:
        raise SystemExit(f"no {pattern} in {results}")
    return max(found)[2]


def _n(v) -> str:
    return f"{v:,}"


def _x(a, b) -> str:
    return f"{a / b:.2f}×" if a and b else ""


def render(results: Path = RESULTS) -> str:
    """The README section (markers included) from the newest result files."""
    vpath, ppath = newest("verifier-*.json", results), newest("bench_prove-*.json", results)
    ver = {r["model"]: r for r in json.loads(vpath.read_text())}
    bp = json.loads(ppath.read_text())
    rows = ["| | zkchain | EZKL | ratio |", "|---|---|---|---|"]
    for key, label in MODELS:
        z = ver.get(key)
        e = bp["results"].get(key, {}).get("ezkl", {})
        zp = bp["results"].get(key, {}).get("zkchain", {})
        if z is None:
            continue
        ep, eg = e.get("prove", {}), e.get("gas", {})
        rows.append(f"| {label}: prove | {z['prove_s']:.2f} s | "
                    f"{ep['prove_wall_s']:.2f} s | {_x(z['prove_s'], ep.get('prove_wall_s'))} |" if ep.get("ok")
                    else f"| {label}: prove | {z['prove_s']:.2f} s | | |")
        rows.append(f"| {label}: proof (calldata) | {_n(z['proof_bytes'])} B | "
                    + (f"{_n(ep['proof_bytes'])} B | {_x(z['proof_bytes'], ep['proof_bytes'])} |" if ep.get("ok") else "| |"))
        rows.append(f"| {label}: verify gas, execution (whole tx) | {_n(z['exec_gas'])} ({_n(z['tx_gas'])}) | "
                    + (f"{_n(eg['verify_exec_gas'])} ({_n(eg['verify_tx_gas'])}) | {_x(z['exec_gas'], eg['verify_exec_gas'])} |"
                       if eg.get("ok") else "| |"))
        rows.append(f"| {label}: verifier runtime code | {_n(z['runtime_bytes'])} B | "
                    + (f"{_n(eg['runtime_bytes'])} B | |" if eg.get("ok") else "| |"))
        zs, es = zp.get("setup", {}), e.get("setup", {})
        zpr = zp.get("prove", {})
        if zpr.get("ok") and ep.get("ok") and es.get("ok"):
            rows.append(f"| {label}: peak RSS of prove / proving key ({bp['date_utc'][:10]}) | "
                        f"{zpr['peak_rss_mb']:.0f} MB / {zs['pk_bytes'] / 1024:.0f} KB | "
                        f"{ep['peak_rss_mb']:.0f} MB / {es['pk_bytes'] / 2**20:.0f} MiB | |")
    rel = lambda p: p.relative_to(ROOT) if p.is_relative_to(ROOT) else p.name  # noqa: E731
    note = (f"zkchain: `{rel(vpath)}` (`bench_verifier.py`: embedded py-evm chain, dev SRS, prove = "
            f"median `api.prove` wall time). EZKL {bp['results'].get('digits_mlp', {}).get('ezkl', {}).get('version', '')}"
            f" and memory: `{rel(ppath)}` (commit {bp.get('git_commit', '?')[:7]}, `bench_prove.py`). "
            "2 cores. Prove times of different runs vary by ±15 %.")
    return "\n".join([BEGIN, *rows, "", note, END])


def update(readme: Path = README, results: Path = RESULTS) -> bool:
    """Rewrite ``readme``'s section; True if it changed."""
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme} has no {BEGIN} … {END} section")
    new = text[:text.index(BEGIN)] + render(results) + text[text.index(END) + len(END):]
    if new != text:
        readme.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if README.md is not what the results give")
    a = ap.parse_args(argv)
    if a.check:
        text = README.read_text()
        current = text[text.index(BEGIN): text.index(END) + len(END)] if BEGIN in text and END in text else ""
        if current != render():
            print("README.md's measured table differs from benchmarks/results: run python benchmarks/readme_table.py")
            return 1
        return 0
    print("README.md updated" if update() else "README.md already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
