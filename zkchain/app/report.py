"""``zkchain report``: one static HTML page about a build and (optionally) one of its proofs.

    from zkchain.app import report
    data = report.collect("build/", "proof.json")          # ReportData: model, layers, timings, proof, gas
    report.write("build/report.html", data)                # one self-contained file: inline SVG charts, no script

What the page shows, and where each number comes from:

- **model graph**: the ONNX nodes (``quantized.json`` ``info.layers``, written by ``zkchain compile``), each with
  its output scale (real ≈ int · scale), calibrated bound in bits, the weight scale of matmul/convolution nodes,
  and its fidelity: float executor vs the dequantized integer tensor on the first calibration samples (max abs
  error, relative error, cosine); plus the whole model's fidelity that ``zkchain compile`` prints;
- **prove time** per prover stage and per block, in seconds: the numbers ``zkchain prove --profile`` printed,
  read from the ``PROOF.profile.json`` it wrote next to the proof (:func:`write_profile`), or measured by the
  report itself when it proves ``--input``;
- **proof size** in bytes: the calldata form of the proof (``Proof.proof_bytes``, what ``verifyProof`` receives);
- **verify gas**: one ``submitProof`` transaction on a fresh in-process chain (eth-tester/py-evm, Prague rules),
  the same transaction as ``zkchain submit-proof PROOF --rpc-url embedded``, split into the 21,000 base cost,
  calldata (EIP-2028: 4 gas per zero byte, 16 per other byte), each BN254 precompile (calls and gas, counted by
  wrapping py-evm's precompiles while the transaction runs) and the verifier's own code (everything else). The
  verifier's code is not split further by section: that would need markers in the generated Yul.

The page is written by hand (HTML + inline SVG, no JavaScript, no external resource), so it renders the same
anywhere, offline, and adds no plotting dependency.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkchain.errors import InputError

PROFILE_FORMAT = "zkchain.profile.v1"
#: py-evm precompile address (int) → the name the page uses
PRECOMPILES = {5: "modexp (0x05)", 6: "ecAdd (0x06)", 7: "ecMul (0x07)", 8: "ecPairing (0x08)"}


# ------------------------------------------------------------------------------------------------ profile file


def profile_path(proof_path: str | Path) -> Path:
    """Where ``zkchain prove --profile`` writes the timings of ``proof_path``: ``proof.json`` →
    ``proof.profile.json``."""
    p = Path(proof_path)
    return p.with_name(p.stem + ".profile.json")


def write_profile(proof_path: str | Path, info: dict, force: bool = False) -> Path:
    """Write the timings of one ``api.prove`` (``info``: its summary dict) next to the proof file just written,
    tied to it by the file's SHA-256. Returns the path. Raises :class:`InputError` if the file exists and
    ``force`` is false."""
    path = profile_path(proof_path)
    if path.exists() and not force:
        raise InputError(f"{path} exists; pass --force to overwrite it")
    doc = {"format": PROFILE_FORMAT, "proof_sha256": hashlib.sha256(Path(proof_path).read_bytes()).hexdigest(),
           "prove_s": info["prove_s"], "stages": dict(info["timings"]),
           "blocks": [[str(label), float(s)] for label, s in info.get("block_timings", [])],
           "proof_bytes": info["proof_bytes"]}
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


def read_profile(proof_path: Path) -> tuple[dict | None, str | None]:
    """``(profile, None)`` when ``PROOF.profile.json`` exists and belongs to this proof file, else ``(None, why)``."""
    path = profile_path(proof_path)
    if not path.is_file():
        return None, f"no {path.name} next to the proof: run `zkchain prove --profile` to record prove times"
    try:
        doc = json.loads(path.read_text())
        ok = (doc["format"] == PROFILE_FORMAT and isinstance(doc["stages"], dict) and isinstance(doc["blocks"], list)
              and float(doc["prove_s"]) >= 0)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        ok = False
    if not ok:
        return None, f"{path.name} is not a {PROFILE_FORMAT} file; prove times not shown"
    if doc["proof_sha256"] != hashlib.sha256(proof_path.read_bytes()).hexdigest():
        return None, f"{path.name} belongs to another proof (SHA-256 differs); prove times not shown"
    return doc, None


# ------------------------------------------------------------------------------------------------------ data


@dataclass
class ReportData:
    """Everything the page shows (JSON-able; units in the key names' docs).

    ``model``: name, input name/shape/scale, outputs, calibration, ``fidelity`` (whole model, as compile printed);
    ``layers``: per ONNX node (``zkchain.quant.compile.layer_report``; without ``fidelity`` for builds compiled
    before it was recorded); ``circuit``: blocks by kind, committed vectors, SRS degree and source, insecure flag
    (None before ``setup``); ``timings``: ``prove_s`` (wall s), ``stages`` {name: s}, ``blocks`` [[label, s]],
    ``source``; ``proof``: ``bytes`` (calldata), ``expected_bytes`` (the key's proof length), ``path``,
    ``outputs``; ``gas``: ``total`` (the transaction's gas used), ``parts`` [[name, gas, calls or None]] summing to
    it, ``accepted``, ``runtime_bytes``, ``fork``; ``notes``: why a section is missing."""

    build_dir: str
    model: dict[str, Any]
    layers: list[dict[str, Any]]
    circuit: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    proof: dict[str, Any] | None = None
    gas: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    created: str = ""
    version: str = ""


def _layers_from_ops(model) -> list[dict[str, Any]]:
    """Layer rows for a build compiled before ``info.layers`` existed: one per ONNX node the integer ops came
    from, with the scale of its last op's output; no fidelity, no weight scale."""
    rows: dict[str, dict[str, Any]] = {}
    for op in model.ops:
        t = model.tensors[op.outputs[0]]
        row = rows.setdefault(op.source, {"name": op.source, "op": op.source, "inputs": list(op.inputs[:1]),
                                          "int_ops": [], "weight_scale": None})
        row["int_ops"].append(op.kind)
        if t.scale is not None:
            row.update(output=t.name, tensor=t.name, shape=list(t.shape), scale=float(t.scale), bound=int(t.bound),
                       bits=int(t.bound).bit_length() + 1)
    return [r for r in rows.values() if "scale" in r]


def collect(build_dir, proof_path=None, input_path=None, gas: bool = True, progress=None) -> ReportData:
    """Gather the report's numbers for ``build_dir`` and the proof in ``proof_path`` (its prove times from the
    ``PROOF.profile.json`` beside it), or a proof made now of ``input_path`` (timed here), or neither (model and
    circuit only). ``gas`` measures the verify gas on an in-process chain (needs solc-js; without it the page says
    so). ``progress(str)`` is told what runs.

    Raises :class:`InputError` for a missing build directory or compiled model, a corrupt or foreign proof file,
    a missing input, or both a proof and an input; :class:`SetupError` for a proof without keys."""
    from zkchain import api
    from zkchain.evm import deploy
    from zkchain.protocol.proof import Proof
    from zkchain.quant.model import load_compiled
    from zkchain.version import __version__

    step = progress or (lambda s: None)
    build = Path(build_dir)
    if not build.is_dir():
        raise InputError(f"build directory {build} does not exist")
    if proof_path is not None and input_path is not None:
        raise InputError("give a proof file or --input (a proof made now), not both")
    model = load_compiled(build)
    info = model.info
    data = ReportData(
        build_dir=str(build),
        model={"name": info.get("model") or build.name, "source": info.get("source_model"),
               "input": {"name": model.input_name, "shape": list(model.input_shape), "scale": model.input_scale},
               "outputs": [{"name": o, "shape": list(model.tensors[o].shape), "scale": model.tensors[o].scale}
                           for o in model.output_names],
               "calibration": info.get("calibration"), "fidelity": info.get("fidelity"),
               "op_counts": info.get("op_counts", model.op_counts()), "config": model.config},
        layers=info.get("layers") or _layers_from_ops(model),
        created=time.strftime("%Y-%m-%d %H:%M:%S %Z"), version=__version__)
    if not info.get("layers"):
        data.notes.append("per-layer fidelity was not recorded for this build (compiled by an earlier zkchain): "
                          "run `zkchain compile` again to see it")

    vk = None
    if (build / "vk.json").is_file():
        vk = deploy.load_vk(build)
        c = vk.circuit
        kinds: dict[str, int] = {}
        for con in c.constraints:
            kinds[con.kind] = kinds.get(con.kind, 0) + 1
        data.circuit = {"blocks": len(c.constraints), "by_kind": kinds,
                        "committed_vectors": len(c.of_kind("witness")), "public_vectors": len(c.of_kind("public")),
                        "fixed_vectors": len(c.of_kind("fixed")), "srs_degree": vk.srs_degree,
                        "srs_source": vk.srs_source, "insecure": bool(vk.srs_insecure),
                        "vk_digest": "0x" + vk.digest.hex()}
    elif proof_path is not None or input_path is not None:
        deploy.load_vk(build)  # raises SetupError naming `zkchain setup`
    else:
        data.notes.append("no keys in the build directory: run `zkchain setup` to see the circuit, and give a "
                          "proof to see prove times, proof size and gas")

    proof = None
    if proof_path is not None:
        proof_path = Path(proof_path)
        proof = Proof.load(proof_path, vk)  # InputError for a missing, corrupt, edited or foreign proof
        profile, why = read_profile(proof_path)
        if profile is not None:
            data.timings = {"prove_s": float(profile["prove_s"]), "stages": profile["stages"],
                            "blocks": profile["blocks"], "source": f"{profile_path(proof_path).name} "
                            "(written by `zkchain prove --profile` with this proof)"}
        else:
            data.notes.append(why)
        where = str(proof_path)
    elif input_path is not None:
        x = api.read_input(input_path)
        step(f"proving {input_path}")
        proof, pinfo = api.prove(build, x)
        data.timings = {"prove_s": pinfo["prove_s"], "stages": pinfo["timings"], "blocks": pinfo["block_timings"],
                        "source": f"measured by this report: one prove of {input_path}"}
        where = f"made by this report from {input_path} (not saved)"
    elif vk is not None:
        data.notes.append("no proof given: give PROOF.json (or --input) to see prove times, proof size and gas")

    if proof is not None:
        from zkchain.evm.verifier_gen import proof_length

        pb = proof.proof_bytes(vk.circuit)
        outs = {n: [float(v) for v in vals] for n, vals in proof.public.items()}
        data.proof = {"bytes": len(pb), "expected_bytes": proof_length(vk), "path": where,
                      "public_inputs": len(proof.public_inputs(vk.circuit)), "public": outs}
        if gas:
            step("measuring verify gas on an in-process chain")
            try:
                data.gas = measure_gas(vk, proof)
            except Exception as exc:  # no solc-js, or the chain fails: the rest of the page still stands
                from zkchain.errors import ZkchainError

                if not isinstance(exc, ZkchainError):
                    raise
                data.notes.append(f"verify gas not measured: {exc}")
        else:
            data.notes.append("verify gas not measured (--no-gas)")
    return data


@contextlib.contextmanager
def _count_precompiles():
    """While active, every call of the BN254 / modexp precompiles in py-evm adds ``[calls, gas]`` to the yielded
    dict under its address (int). Wraps the functions in the fork's precompile table and restores them after."""
    from eth.vm.forks.prague.computation import PragueComputation

    table = PragueComputation.get_precompiles()
    counts: dict[int, list[int]] = {}
    saved = {}

    def wrap(addr_int, fn):
        def counted(computation):
            before = computation.get_gas_remaining()
            try:
                return fn(computation)
            finally:
                c = counts.setdefault(addr_int, [0, 0])
                c[0] += 1
                c[1] += before - computation.get_gas_remaining()
        return counted

    for addr, fn in list(table.items()):
        n = int.from_bytes(bytes(addr), "big")
        if n in PRECOMPILES:
            saved[addr] = fn
            table[addr] = wrap(n, fn)
    try:
        yield counts
    finally:
        table.update(saved)


def measure_gas(vk, proof) -> dict[str, Any]:
    """Deploy ``vk``'s verifier on a fresh in-process chain (Prague rules) and send ``submitProof(proof)`` once,
    as ``zkchain submit-proof --rpc-url embedded`` does. Returns ``total`` (gas used by the transaction),
    ``parts`` ``[[name, gas, calls or None], ...]`` summing to ``total``, ``accepted``, ``runtime_bytes``,
    ``deploy_gas``, ``calldata_bytes``. Raises ``SetupError`` without solc-js, ``ChainError`` if the chain fails."""
    from zkchain.evm import deploy
    from zkchain.evm.verifier_gen import calldata

    _source, compiled = deploy.build_verifier(vk)
    chain = deploy.connect(deploy.EMBEDDED)
    dep = deploy.deploy_verifier(chain, vk, compiled)
    pb, pub = calldata(proof, vk)
    with _count_precompiles() as counts:
        tx = chain.transact(dep.address, compiled, "submitProof", pb, pub, gas=deploy.DEFAULT_SUBMIT_GAS,
                            replay=False)
    data = deploy.submit_calldata(pb, pub)
    zero = data.count(0)
    cd_gas = 4 * zero + 16 * (len(data) - zero)
    parts: list[list[Any]] = [["transaction base cost", 21_000, None], ["calldata (4 gas per zero byte, 16 per other)",
                                                                        cd_gas, None]]
    pre = 0
    for addr in sorted(PRECOMPILES, reverse=True):
        calls, g = counts.get(addr, [0, 0])
        if calls:
            parts.append([PRECOMPILES[addr], g, calls])
            pre += g
    parts.append(["verifier code (checks, transcript, field arithmetic, memory, ABI, event)",
                  tx.gas_used - 21_000 - cd_gas - pre, None])
    return {"total": tx.gas_used, "parts": parts, "accepted": tx.receipt["status"] == 1,
            "execution": tx.gas_used - 21_000 - cd_gas, "calldata_bytes": len(data),
            "runtime_bytes": compiled.runtime_size_bytes, "deploy_gas": dep.deploy_gas, "contract": compiled.name,
            "fork": "Prague rules; eth-tester / py-evm"}


# --------------------------------------------------------------------------------------------------- rendering

_E = html.escape
_PALETTE = ["#3b6fb6", "#e08a2e", "#4a9a5b", "#c4453c", "#7d5ba6", "#8c6d31", "#d16ba5", "#5f6b6d", "#2ba3a3"]


def _num(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}"


def _bar_chart(rows: list[tuple[str, float, str]], unit: str, fmt, title: str, width: int = 900) -> str:
    """Horizontal bars: ``rows`` of (label, value, colour); values formatted by ``fmt``. Inline SVG."""
    if not rows:
        return ""
    label_w, value_w, bar_h, gap = 300, 110, 18, 6
    top = 26
    h = top + len(rows) * (bar_h + gap) + 4
    vmax = max(v for _, v, _ in rows) or 1.0
    span = width - label_w - value_w - 10
    out = [f'<svg class="chart" role="img" width="{width}" height="{h}" viewBox="0 0 {width} {h}">'
           f'<title>{_E(title)}</title><text x="0" y="16" class="ct">{_E(title)}</text>']
    for i, (label, v, colour) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(1.0, span * v / vmax) if v > 0 else 0.0
        short = label if len(label) <= 44 else label[:41] + "…"
        out.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" class="cl">{_E(short)}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
                   f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" class="cv">{_E(fmt(v))} {_E(unit)}</text>')
    out.append("</svg>")
    return "".join(out)


def _stacked_bar(parts: list[tuple[str, float, str]], total: float, title: str, width: int = 900) -> str:
    """One stacked horizontal bar of ``parts`` (label, value, colour) with a legend. Inline SVG."""
    h = 40 + 22 * len(parts)
    out = [f'<svg class="chart" role="img" width="{width}" height="{h}" viewBox="0 0 {width} {h}">'
           f'<title>{_E(title)}</title>']
    x = 0.0
    for label, v, colour in parts:
        w = width * v / total if total else 0
        out.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="26" fill="{colour}"><title>{_E(label)}: '
                   f'{int(v):,} gas</title></rect>')
        x += w
    for i, (label, v, colour) in enumerate(parts):
        y = 40 + 22 * i
        out.append(f'<rect x="0" y="{y}" width="14" height="14" fill="{colour}"/>'
                   f'<text x="22" y="{y + 12}" class="cl">{_E(label)}: {int(v):,} gas '
                   f'({100 * v / total:.1f} %)</text>')
    out.append("</svg>")
    return "".join(out)


def _graph_svg(data: ReportData) -> str:
    """The model graph: the input, then one box per layer, laid out by depth (longest path from the input); an
    edge per runtime input. Each box: op, node name, output scale and bits, relative error."""
    layers = data.layers
    producer = {data.model["input"]["name"]: 0}
    for i, r in enumerate(layers, start=1):
        producer[r["output"]] = i
    depth = [0] * (len(layers) + 1)
    edges = []
    for i, r in enumerate(layers, start=1):
        srcs = [producer[s] for s in r.get("inputs", []) if s in producer] or [i - 1]
        depth[i] = max(depth[s] for s in srcs) + 1
        edges += [(s, i) for s in srcs]
    rows: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        rows.setdefault(d, []).append(i)
    box_w, box_h, vgap, hgap = 300, 58, 26, 24
    ncols = max(len(v) for v in rows.values())
    width = max(900, ncols * (box_w + hgap))
    height = len(rows) * (box_h + vgap) + 10
    pos = {}
    for d, ids in rows.items():
        x0 = (width - len(ids) * box_w - (len(ids) - 1) * hgap) / 2
        for k, i in enumerate(ids):
            pos[i] = (x0 + k * (box_w + hgap), 5 + d * (box_h + vgap))
    out = [f'<svg class="graph" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
           '<title>model graph</title><defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#666"/></marker></defs>']
    for s, t in edges:
        (xs, ys), (xt, yt) = pos[s], pos[t]
        out.append(f'<line x1="{xs + box_w / 2:.1f}" y1="{ys + box_h:.1f}" x2="{xt + box_w / 2:.1f}" '
                   f'y2="{yt - 2:.1f}" stroke="#666" stroke-width="1.5" marker-end="url(#arr)"/>')
    inp = data.model["input"]
    x, y = pos[0]
    out.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" fill="#eef2f7" stroke="#5a6b80"/>'
               f'<text x="{x + 10}" y="{y + 22}" class="gt">input {_E(inp["name"])} {_E(str(inp["shape"]))}</text>'
               f'<text x="{x + 10}" y="{y + 42}" class="gs">scale {_num(inp["scale"])}</text>')
    for i, r in enumerate(layers, start=1):
        x, y = pos[i]
        fid = r.get("fidelity")
        rel = f"rel. error {100 * fid['rel_error']:.2f} %" if fid else "fidelity not recorded"
        ws = f" · W scale {_num(r['weight_scale'], 3)}" if r.get("weight_scale") else ""
        fill = "#e8f3ea" if fid and fid["rel_error"] < 0.01 else ("#fdf1e2" if fid else "#f4f4f4")
        out.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" fill="{fill}" stroke="#5a6b80"/>'
                   f'<text x="{x + 10}" y="{y + 20}" class="gt">{_E(r["op"])} <tspan class="gs">{_E(r["name"])}'
                   f'</tspan></text><text x="{x + 10}" y="{y + 37}" class="gs">scale {_num(r["scale"])} · '
                   f'{r["bits"]} bits{ws}</text><text x="{x + 10}" y="{y + 52}" class="gs">{_E(str(r["shape"]))} · '
                   f'{_E(rel)}</text>')
    out.append("</svg>")
    return "".join(out)


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    th = "".join(f"<th>{_E(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1000px;
color:#1d232b;padding:0 16px;line-height:1.4}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;border-bottom:1px solid #d5dbe3;padding-bottom:4px;margin-top:32px}
.sub{color:#5a6470;font-size:13px}.warn{background:#fff4d6;border:1px solid #e0b84c;padding:8px 12px;border-radius:6px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{border:1px solid #d5dbe3;border-radius:8px;
padding:10px 14px;min-width:170px}.card .k{font-size:12px;color:#5a6470}.card .v{font-size:22px;font-weight:600}
table{border-collapse:collapse;font-size:13px;margin:10px 0}th,td{border-bottom:1px solid #e3e7ec;padding:4px 10px;
text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#f3f5f8}
.chart text,.graph text{font-size:12px;fill:#1d232b}.ct{font-weight:600;font-size:13px}.gt{font-weight:600}
.gs{font-weight:400;fill:#47505b}.note{color:#5a6470;font-size:13px}ul.notes li{color:#7a4b00}
"""


def _fmt_s(v: float) -> str:
    return f"{v:.3f}"


def render(data: ReportData) -> str:
    """The page as one HTML string (UTF-8; inline CSS and SVG; no script, no external resource)."""
    m = data.model
    fid = m.get("fidelity") or {}
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>zkchain report: {_E(str(m['name']))}</title><style>{_CSS}</style></head><body>",
           f"<h1>zkchain report: {_E(str(m['name']))}</h1>",
           f'<div class="sub">build <code>{_E(data.build_dir)}</code> · zkchain {_E(data.version)} · '
           f"{_E(data.created)}</div>"]
    c = data.circuit
    if c and c["insecure"]:
        out.append('<p class="warn" id="insecure"><b>INSECURE dev SRS</b>: the keys were made with a seeded SRS '
                   "whose τ is public, so anyone can forge proofs for them. Fine for tests and demos; use "
                   "<code>zkchain setup --srs hermez:K</code> for real use.</p>")
    cards = []
    if data.timings:
        cards.append(("prove time", f"{data.timings['prove_s']:.3f} s", "prove-total"))
    if data.proof:
        cards.append(("proof size (calldata)", f"{data.proof['bytes']:,} B", "proof-bytes"))
    if data.gas:
        cards.append(("verify gas (whole tx)", f"{data.gas['total']:,}", "gas-total"))
    if fid.get("top1_agreement") is not None:
        cards.append(("top-1 agreement float vs quantized", f"{100 * fid['top1_agreement']:.2f} %", "top1"))
    if cards:
        out.append('<div class="cards">' + "".join(
            f'<div class="card"><div class="k">{_E(k)}</div><div class="v" id="{i}">{_E(v)}</div></div>'
            for k, v, i in cards) + "</div>")
    if data.notes:
        out.append('<ul class="notes">' + "".join(f"<li>{_E(n)}</li>" for n in data.notes) + "</ul>")

    # --- model -------------------------------------------------------------------------------------------
    out.append('<h2 id="model">Model graph, quantization scales and fidelity</h2>')
    inp = m["input"]
    out.append(f'<p class="note">Input <code>{_E(inp["name"])}</code> {_E(str(inp["shape"]))}, scale '
               f'{_num(inp["scale"])}. Calibration: {_E(str(m.get("calibration")))}. Each integer tensor stands '
               "for real values ≈ int · scale; <i>bits</i> is the signed width of its largest value on the "
               "calibration set.</p>")
    if fid:
        top1 = "n/a" if fid.get("top1_agreement") is None else f"{100 * fid['top1_agreement']:.2f} %"
        out.append(f'<p id="fidelity">Whole model on {fid.get("samples")} calibration samples vs '
                   f'{_E(str(fid.get("reference")))}: top-1 agreement {top1}, max abs error '
                   f'{_num(fid.get("max_abs_error", 0))} (max |float output| {_num(fid.get("max_abs_float", 0))}), '
                   f'cosine similarity {fid.get("cosine_similarity", 0):.6f}.</p>')
    out.append(_graph_svg(data))
    rows = []
    for r in data.layers:
        f = r.get("fidelity")
        rows.append([_E(r["name"]), _E(r["op"]), _E(str(r["shape"])), f'<span class="n">{_num(r["scale"])}</span>',
                     str(r["bits"]), _num(r["weight_scale"]) if r.get("weight_scale") else "–",
                     _E(", ".join(r.get("int_ops", []))),
                     _num(f["max_abs_error"]) if f else "–", f"{100 * f['rel_error']:.3f} %" if f else "–",
                     f"{f['cosine_similarity']:.6f}" if f else "–"])
    out.append(_table(["layer", "op", "output shape", "scale", "bits", "weight scale", "integer ops",
                       "max abs error", "rel. error", "cosine"], rows, "layers"))
    n_samples = next((r["fidelity"]["samples"] for r in data.layers if r.get("fidelity")), None)
    if n_samples:
        out.append(f'<p class="note">Per layer: float executor vs the dequantized integer tensor on the first '
                   f"{n_samples} calibration samples; relative error = max abs error / max |float value|.</p>")
    if c:
        kinds = ", ".join(f"{k} {v}" for k, v in c["by_kind"].items())
        out.append(f'<p id="circuit">Circuit: {c["blocks"]} blocks ({_E(kinds)}), {c["committed_vectors"]} '
                   f'committed vectors, {c["public_vectors"]} public, {c["fixed_vectors"]} fixed; SRS degree '
                   f'{c["srs_degree"]:,} ({_E(c["srs_source"])}); verifying key <code>{_E(c["vk_digest"])}'
                   "</code>.</p>")

    # --- prove time ----------------------------------------------------------------------------------------
    out.append('<h2 id="prove">Prove time</h2>')
    t = data.timings
    if t:
        out.append(f'<p class="note">Source: {_E(t["source"])}. Wall time of the prove '
                   f'<b id="prove-s">{t["prove_s"]:.3f} s</b>; stages in seconds, as '
                   "<code>zkchain prove --profile</code> prints them.</p>")
        stages = list(t["stages"].items())
        out.append(_bar_chart([(k, v, _PALETTE[0]) for k, v in stages], "s", _fmt_s, "prove time per stage"))
        out.append(_table(["stage", "seconds"], [[_E(k), f'<span class="n">{_fmt_s(v)}</span>'] for k, v in stages],
                          "stages"))
        blocks = t["blocks"]
        if blocks:
            kinds = list(dict.fromkeys(b[0].split(" ")[0] for b in blocks))
            colour = {k: _PALETTE[(i + 1) % len(_PALETTE)] for i, k in enumerate(kinds)}
            out.append(_bar_chart([(b[0], b[1], colour[b[0].split(" ")[0]]) for b in blocks], "s", _fmt_s,
                                  "prove time per block (claims + Laurent products)"))
            out.append(_table(["block", "seconds"], [[_E(b[0]), f'<span class="n">{_fmt_s(b[1])}</span>']
                                                     for b in blocks], "blocks"))
            out.append('<p class="note">A block\'s time is the building of its claims and their Laurent products '
                       "(the stages <i>claims: build</i> and <i>claims: Laurent products</i>). Lookups are proven "
                       "together by the LogUp argument, which has its own row; commitments and opening proofs are "
                       "shared by all blocks (see the stages).</p>")
    else:
        out.append('<p class="note">Not recorded (see the notes above).</p>')

    # --- proof ---------------------------------------------------------------------------------------------
    out.append('<h2 id="proof">Proof</h2>')
    p = data.proof
    if p:
        pub = "; ".join(f"{_E(n)} = [{', '.join(_num(v) for v in vals)}]" for n, vals in p["public"].items())
        out.append(f'<p>Proof size <b id="proof-size">{p["bytes"]:,} bytes</b> (calldata form, what '
                   f'<code>verifyProof</code> receives; the key fixes it at {p["expected_bytes"]:,} bytes), '
                   f'{p["public_inputs"]} public values. Proof: {_E(p["path"])}.</p>'
                   f'<p class="note">Public values (integers; real ≈ int · output scale): {pub}</p>')
    else:
        out.append('<p class="note">No proof given.</p>')

    # --- gas -----------------------------------------------------------------------------------------------
    out.append('<h2 id="gas">Verify gas</h2>')
    g = data.gas
    if g:
        colours = ["#9aa5b1", "#c9b458", "#3b6fb6", "#5b8fd6", "#8fb3e8", "#c4453c", "#4a9a5b"]
        parts = g["parts"]
        out.append(f'<p>One <code>submitProof</code> transaction on a fresh in-process chain ({_E(g["fork"])}): '
                   f'<b id="gas-used">{g["total"]:,} gas</b>, of which {g["execution"]:,} execution; '
                   f'{"accepted" if g["accepted"] else "REJECTED"}. Contract {_E(g["contract"])}, '
                   f'{g["runtime_bytes"]:,} bytes of runtime code, deployed for {g["deploy_gas"]:,} gas.</p>')
        out.append(_stacked_bar([(n, v, colours[i % len(colours)]) for i, (n, v, _c) in enumerate(parts)],
                                g["total"], "verify gas by part"))
        out.append(_table(["part", "calls", "gas", "share"],
                          [[_E(n), str(calls) if calls else "", f'<span class="n">{v:,}</span>',
                            f"{100 * v / g['total']:.1f} %"] for n, v, calls in parts]
                          + [["<b>total (gas used)</b>", "", f'<b class="n">{g["total"]:,}</b>', "100 %"]], "gas"))
        out.append('<p class="note">Precompile gas is what the EVM charged each call (counted while the '
                   "transaction ran); the verifier's own code is the rest of the execution gas and is not split by "
                   "section. The same transaction costs the same on <code>zkchain submit-proof --rpc-url "
                   "embedded</code>; other chains and forks price precompiles and calldata differently.</p>")
    else:
        out.append('<p class="note">Not measured (see the notes above).</p>')
    out.append('<script type="application/json" id="report-data">'
               + json.dumps(asdict(data)).replace("</", "<\\/") + "</script>")
    out.append("</body></html>")
    return "\n".join(out)


def write(out, data: ReportData, force: bool = False) -> Path:
    """Write :func:`render` of ``data`` to ``out`` (UTF-8). Raises :class:`InputError` if ``out`` exists and
    ``force`` is false, or is a directory."""
    out = Path(out)
    check_output(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data), encoding="utf-8")
    return out


def check_output(out: Path, force: bool) -> None:
    """Refuse to overwrite: raises :class:`InputError` if ``out`` is a directory, or exists without ``force``."""
    if out.is_dir():
        raise InputError(f"{out} is a directory; give a file name such as {out / 'report.html'}")
    if out.exists() and not force:
        raise InputError(f"{out} exists; pass --force to overwrite it")
