"""The README's measured table is what `benchmarks/results/` says (`benchmarks/readme_table.py`): a new result
file without a regenerated README, or a hand-edited number, fails here."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme_table  # noqa: E402


def test_readme_measured_table_is_generated_from_the_results():
    text = (ROOT / "README.md").read_text()
    section = text[text.index(readme_table.BEGIN): text.index(readme_table.END) + len(readme_table.END)]
    assert section == readme_table.render(), "run python benchmarks/readme_table.py"


def test_the_newest_result_files_are_the_sources(tmp_path):
    import shutil

    for p in (ROOT / "benchmarks" / "results").glob("*.json"):
        shutil.copy(p, tmp_path / p.name)
    rows = readme_table.render(tmp_path)
    assert readme_table.newest("verifier-*.json", tmp_path).name in rows
    newer = tmp_path / "verifier-2999-01-01.json"
    newer.write_text('[{"model": "digits_mlp", "prove_s": 9.99, "proof_bytes": 1, "exec_gas": 7, "tx_gas": 8, '
                     '"runtime_bytes": 9}]')
    assert "| 9.99 s |" in readme_table.render(tmp_path) and readme_table.render(tmp_path) != rows
