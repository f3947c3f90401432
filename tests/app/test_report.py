"""``zkchain report``: the page rendered in headless Chromium shows the numbers the other commands print.

The digits MLP is compiled and set up once; ``zkchain prove --profile`` prints its stage and block times (and
keeps them in ``proof.profile.json``), ``zkchain submit-proof --rpc-url embedded`` prints the gas used, and the
page must show exactly those numbers, the proof file's proof length, and each layer's scale from
``quantized.json``. The page is read back from Chromium's DOM after rendering (``--dump-dom``) and screenshotted;
the browser test skips only when no Chromium is installed (``scripts/dev.sh setup`` installs Debian's).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from zkchain.models import bundled_model_dir

M = bundled_model_dir("digits_mlp")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def zk(*args, code=0):
    p = subprocess.run([sys.executable, "-m", "zkchain.cli", *map(str, args)], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == code, f"{args}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert "Traceback" not in p.stderr
    return p


class Page(HTMLParser):
    """The visible text of a page: ``ids`` (element id → text) and ``tables`` (class → rows of cell texts)."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._open: list[tuple[str, str | None, list[str]]] = []  # (tag, id, text parts)
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "meta", "img", "link", "input", "rect", "line", "path"):
            return
        self._open.append((tag, a.get("id"), []))
        if tag == "table":
            self._table = a.get("class") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        while self._open:
            t, i, parts = self._open.pop()
            if i:
                self.ids[i] = "".join(parts).strip()
            if t == tag:
                break
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row and self._table is not None:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        for _t, _i, parts in self._open:
            parts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def body_rows(page: Page, cls: str) -> list[list[str]]:
    return page.tables[cls][1:]  # without the header row


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The digits MLP compiled and set up (dev SRS), a proof with its --profile output, and its gas on chain."""
    from zkchain import api

    d = tmp_path_factory.mktemp("report")
    build = d / "build"
    api.compile(M / "model.onnx", build, M / "calibration.npy")
    api.setup(build)
    proof = d / "proof.json"
    prof = zk("prove", build, "--input", M / "input.json", "-o", proof, "--profile").stderr
    stages = dict(re.findall(r"^  (\S.*?)\s+(\d+\.\d{3}) s$", prof, re.M))
    blocks = dict(re.findall(r"^    (\S.*?)\s+(\d+\.\d{3}) s$", prof, re.M))
    assert "SRS load" in stages and any(k.startswith("matmul") for k in blocks), prof
    sub = zk("submit-proof", build, proof, "--rpc-url", "embedded").stdout
    gas = int(re.search(r"gas used ([\d,]+)", sub).group(1).replace(",", ""))
    return {"dir": d, "build": build, "proof": proof, "stages": stages, "blocks": blocks, "gas": gas,
            "prove_s": float(re.search(r"proved in (\d+\.\d+) s", prof).group(1))}


@pytest.fixture(scope="module")
def page_file(built):
    out = built["dir"] / "report.html"
    p = zk("report", built["build"], built["proof"], "-o", out)
    assert f"verify gas {built['gas']:,} (accepted)" in p.stdout
    return out


def check_page(text: str, built: dict) -> Page:
    """The page's numbers against what the commands printed and the files hold."""
    page = Page(text)
    assert {r[0]: r[1] for r in body_rows(page, "stages")} == built["stages"]  # same names, same 3-decimal values
    assert {r[0]: r[1] for r in body_rows(page, "blocks")} == built["blocks"]
    assert round(float(page.ids["prove-s"].removesuffix(" s")), 2) == built["prove_s"]
    proof_len = len(bytes.fromhex(json.loads(built["proof"].read_text())["proof_bytes"][2:]))
    assert page.ids["proof-size"] == f"{proof_len:,} bytes" and page.ids["proof-bytes"] == f"{proof_len:,} B"
    assert page.ids["gas-used"] == f"{built['gas']:,} gas" and page.ids["gas-total"] == f"{built['gas']:,}"
    gas_rows = body_rows(page, "gas")
    parts = {r[0]: (r[1], int(r[2].replace(",", ""))) for r in gas_rows[:-1]}
    assert sum(g for _c, g in parts.values()) == built["gas"] == int(gas_rows[-1][2].replace(",", ""))
    assert parts["transaction base cost"][1] == 21_000
    assert parts["ecPairing (0x08)"] == ("1", 45_000 + 2 * 34_000)  # one two-pair pairing check (EIP-1108)
    calls, g = parts["ecMul (0x07)"]
    assert int(calls) > 10 and g == 6_000 * int(calls)
    layers = json.loads((built["build"] / "quantized.json").read_text())["info"]["layers"]
    rows = body_rows(page, "layers")
    assert [r[0] for r in rows] == ["/0/Gemm", "/1/Relu", "/2/Gemm"] == [x["name"] for x in layers]
    for r, x in zip(rows, layers):
        assert float(r[3]) == pytest.approx(x["scale"], rel=1e-3) and r[4] == str(x["bits"])
        assert r[8] == f"{100 * x['fidelity']['rel_error']:.3f} %"
    assert page.ids["top1"] == "100.00 %"
    assert "INSECURE" in page.ids["insecure"]
    assert not re.search(r"https?://", text), "the page must load nothing from the network"
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)=", text)
    return page


def test_report_file_holds_the_profiled_and_measured_numbers(built, page_file):
    check_page(page_file.read_text(), built)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (scripts/dev.sh setup installs Debian's "
                                              "chromium when it runs as root with apt-get)")
def test_report_renders_in_headless_chromium(built, page_file, tmp_path):
    url = page_file.resolve().as_uri()
    dom = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = check_page(dom.stdout, built)
    assert page.ids["gas-used"]  # read back from the rendered DOM, not the file
    shot = tmp_path / "report.png"
    p = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                        "--window-size=1100,3000", f"--screenshot={shot}", url],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # charts and text, not a blank page (a blank 1100×3000 PNG is ~10 KB)


def test_report_of_a_proof_made_now_and_without_a_proof(built, tmp_path):
    out = tmp_path / "now.html"
    zk("report", built["build"], "--input", M / "input.json", "--no-gas", "-o", out)
    page = Page(out.read_text())
    assert [r[0] for r in body_rows(page, "stages")] == list(built["stages"])
    proof_len = len(bytes.fromhex(json.loads(built["proof"].read_text())["proof_bytes"][2:]))
    assert page.ids["proof-size"] == f"{proof_len:,} bytes"  # the key fixes the length: same as the saved proof's
    assert "measured by this report" in out.read_text()
    assert "verify gas not measured (--no-gas)" in out.read_text()
    bare = zk("report", built["build"], "-o", tmp_path / "bare.html")
    assert "no proof given" in bare.stderr
    assert body_rows(Page((tmp_path / "bare.html").read_text()), "layers")


def test_report_without_profile_says_how_to_get_prove_times(built, tmp_path):
    proof = tmp_path / "other.json"
    shutil.copy(built["proof"], proof)
    out = tmp_path / "r.html"
    p = zk("report", built["build"], proof, "--no-gas", "-o", out)
    assert "zkchain prove --profile" in p.stderr and "stages" not in Page(out.read_text()).tables
    # a profile that belongs to another proof file is not shown as this proof's
    prof = json.loads((built["dir"] / "proof.profile.json").read_text())
    prof["proof_sha256"] = "0" * 64
    (tmp_path / "other.profile.json").write_text(json.dumps(prof))
    p = zk("report", built["build"], proof, "--no-gas", "-o", out, "--force")
    assert "belongs to another proof" in p.stderr


def test_report_bad_input_exits_2_and_overwrites_nothing(built, tmp_path):
    assert "build directory" in zk("report", tmp_path / "missing", "-o", tmp_path / "a.html", code=2).stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "not a JSON proof file" in zk("report", built["build"], bad, "-o", tmp_path / "b.html", code=2).stderr
    assert not (tmp_path / "b.html").exists()
    edited = json.loads(built["proof"].read_text())
    edited["public"]["output"][0] += 1
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    zk("report", built["build"], tmp_path / "edited.json", "-o", tmp_path / "c.html", code=2)
    keep = tmp_path / "keep.html"
    keep.write_text("mine")
    assert "--force" in zk("report", built["build"], "-o", keep, code=2).stderr
    assert keep.read_text() == "mine"
    both = zk("report", built["build"], built["proof"], "--input", M / "input.json", "-o", tmp_path / "d.html", code=2)
    assert "not both" in both.stderr
    # prove --profile refuses to replace an existing profile without --force (and writes no proof then)
    (tmp_path / "p2.profile.json").write_text("{}")
    r = zk("prove", built["build"], "--input", M / "input.json", "-o", tmp_path / "p2.json", "--profile", code=2)
    assert "p2.profile.json exists" in r.stderr and not (tmp_path / "p2.json").exists()


def test_precompile_counting_restores_the_evm():
    from eth.vm.forks.prague.computation import PragueComputation

    from zkchain.app.report import _count_precompiles

    before = dict(PragueComputation.get_precompiles())
    with _count_precompiles():
        assert PragueComputation.get_precompiles() != before
    assert PragueComputation.get_precompiles() == before
