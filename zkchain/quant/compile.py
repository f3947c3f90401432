"""Calibrate, quantize and check an imported model: ONNX file -> :class:`~zkchain.quant.model.QuantizedModel`.

Steps (zkPyTorch §3.3, static post-training quantization):

1. import (:func:`zkchain.onnx.load_onnx`) and check every node is supported (all problems reported at once);
2. run the float semantics on the calibration batch, recording max |value| of every tensor;
3. lower every node to integer primitives with scales derived from those ranges (:mod:`zkchain.quant.ops`);
4. run the integer executor on the calibration batch: records every integer tensor's bound, checks the
   accumulator bound (default 2^40) and the lookup domains, naming the offending tensor;
5. fidelity: float reference (onnxruntime if installed, else the float executor) vs dequantized integer
   outputs — top-1 agreement, max abs error, cosine similarity; and per layer (ONNX node), the float executor
   vs the dequantized integer tensor that stands for the node's output (:func:`layer_report`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from zkchain.errors import InputError, UnsupportedModelError, ZkchainError
from zkchain.onnx import Graph, load_onnx
from zkchain.quant.inputs import read_samples
from zkchain.quant.lowering import DEFAULT_CONFIG, QT, Lowerer
from zkchain.quant.model import IntTensor, QuantizedModel
from zkchain.quant.ops import check_supported, float_execute, lower_graph
from zkchain.quant.primitives import IntOp, max_abs

SYNTHETIC_SAMPLES = 64


class CalibrationError(ZkchainError):
    """The calibration data drives an intermediate value past the configured bound (names the tensor)."""


# ------------------------------------------------------------------------------------------ calibration data


def default_calibration(model_path: Path, input_shape: tuple[int, ...],
                        seed: int = 0, vocab: int | None = None, parts: int = 1) -> tuple[np.ndarray, str, int]:
    """Calibration batch when the user gives none, a sentence saying what it is, and how many of its leading
    samples are real (the rest are synthetic and may be dropped if the model is not finite on them).

    Uses ``calibration.npy`` next to the model (bundled models) as is; otherwise the sample ``input.json`` next
    to the model plus perturbed copies of it; otherwise standard-normal noise.
    """
    rng = np.random.default_rng(seed)
    d = model_path.parent
    if (d / "calibration.npy").is_file():
        real = read_samples(d / "calibration.npy", input_shape)
        return real, f"bundled calibration set {d / 'calibration.npy'}", len(real)
    if vocab is not None:  # token ids: the sample input's ids (if any) and uniform ones, never perturbed copies
        base = None
        if (d / "input.json").is_file():
            try:
                base = read_samples(d / "input.json", input_shape, parts)
            except InputError:
                base = None
        n_real = 0 if base is None else len(base)
        synth = rng.integers(0, vocab, size=(SYNTHETIC_SAMPLES - n_real,) + tuple(input_shape)).astype(np.float64)
        batch = synth if base is None else np.concatenate([base.reshape((-1,) + tuple(input_shape)), synth])
        return batch, (f"{'the sample input ' + str(d / 'input.json') + ' plus ' if n_real else ''}"
                       f"{len(synth)} synthetic samples of token ids uniform in [0, {vocab})"), n_real
    if (d / "input.json").is_file():
        try:
            base = read_samples(d / "input.json", input_shape, parts)
        except InputError:
            base = None
        if base is not None:
            x0 = base.reshape(base.shape[0], -1)
            sigma = float(x0.std()) or float(np.abs(x0).max()) or 1.0
            k = SYNTHETIC_SAMPLES - len(x0)
            picks = x0[rng.integers(0, len(x0), size=k)]
            noise = rng.normal(size=picks.shape) * sigma * rng.choice([0.02, 0.05, 0.1], size=(k, 1))
            gain = rng.uniform(0.9, 1.1, size=(k, 1))
            synth = picks * gain + noise
            batch = np.concatenate([x0, synth]).reshape((-1,) + tuple(input_shape))
            return batch, (f"sample input {d / 'input.json'} ({len(x0)} sample(s)) plus {k} synthetic perturbations "
                           "of it (no --calibration given)"), len(x0)
    batch = rng.normal(size=(SYNTHETIC_SAMPLES,) + tuple(input_shape))
    return (batch, f"{SYNTHETIC_SAMPLES} synthetic standard-normal samples "
            "(no --calibration and no sample input found)", 0)


def _vocab(graph: Graph) -> int | None:
    """For a token-id input: the number of rows of the smallest embedding table it indexes (ids must be below)."""
    inp = graph.inputs[0]
    if not inp.dtype.startswith("int"):
        return None
    return min(int(graph.constants[n.inputs[0]].shape[int(n.attrs.get("axis", 0))])
               for n in graph.nodes if n.op_type == "Gather" and n.inputs[1] == inp.name)


# --------------------------------------------------------------------------------------------- references


def float_reference(model_path: Path, graph: Graph, batch: np.ndarray) -> tuple[np.ndarray, str]:
    """Float outputs (N × total output size) by onnxruntime if available, else by the float executor."""
    try:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        dtype = np.int64 if graph.inputs[0].dtype.startswith("int") else np.float32

        def feed(x):
            if not graph.packed:
                return {name: x.astype(dtype)}
            flat, out, at = x.reshape(-1), {}, 0  # the packed sample cut back into the model's inputs
            for nm, shape in graph.packed:
                size = int(np.prod(shape))
                out[nm] = flat[at:at + size].reshape(shape).astype(np.float32)
                at += size
            return out

        rows = [np.concatenate([np.asarray(o, dtype=np.float64).ravel()
                                for o in sess.run([t.name for t in graph.outputs], feed(x))])
                for x in batch]
        return np.stack(rows), "onnxruntime"
    except Exception:
        rows = [np.concatenate([float_execute(graph, x)[t.name].ravel() for t in graph.outputs]) for x in batch]
        return np.stack(rows), "zkchain float executor"


def fidelity(ref: np.ndarray, quant: np.ndarray, first_output_size: int) -> dict[str, Any]:
    """Top-1 agreement (argmax of the first output; None if it has one entry), max abs error, cosine similarity."""
    err = float(np.abs(ref - quant).max()) if ref.size else 0.0
    a, b = ref.ravel(), quant.ravel()
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    cos = float(a @ b / (na * nb)) if na > 0 and nb > 0 else (1.0 if na == nb else 0.0)
    top1 = None
    if first_output_size > 1:  # the one class rule (ties to the lowest index): zkchain.quant.accuracy
        from zkchain.quant.accuracy import predicted

        top1 = float(np.mean(predicted(ref[:, :first_output_size]) == predicted(quant[:, :first_output_size])))
    return {"samples": int(ref.shape[0]), "top1_agreement": top1, "max_abs_error": err,
            "max_abs_float": float(np.abs(ref).max()) if ref.size else 0.0, "cosine_similarity": cos}


#: calibration samples the per-layer fidelity is measured on (the first ones: a float and an integer run each)
LAYER_SAMPLES = 16


def layer_report(graph: Graph, env: dict[str, QT], model: QuantizedModel, batch: np.ndarray) -> list[dict[str, Any]]:
    """One entry per ONNX node, in graph order: what the integer model made of it and how close it stays.

    Keys: ``name``, ``op`` (ONNX op type), ``inputs`` (runtime input tensors), ``output`` (ONNX tensor), ``tensor``
    (the integer tensor standing for it), ``shape``, ``scale`` (real value ≈ int · scale), ``bound`` (max |int| on
    the calibration set), ``bits`` (signed bits of that bound), ``weight_scale`` (for nodes with a weight
    matrix/kernel: accumulator scale / input scale, else None), ``int_ops`` (integer primitives it became), and
    ``fidelity`` over ``samples`` calibration samples of the float executor against the dequantized integer
    tensor: ``max_abs_error``, ``max_abs_float``, ``rel_error`` (their ratio) and ``cosine_similarity``."""
    by_source: dict[str, list[IntOp]] = {}
    for op in model.ops:
        by_source.setdefault(op.source, []).append(op)
    rows, acc = [], []
    for node in graph.nodes:
        out = node.outputs[0] if node.outputs else ""
        q = env.get(out)
        t = model.tensors.get(q.name) if q is not None else None
        if t is None or t.scale is None:
            continue
        ops = by_source.get(node.name, [])
        w_scale = None
        for op in ops:
            if "W" in op.params and op.inputs and model.tensors[op.inputs[0]].scale:
                w_scale = float(model.tensors[op.outputs[0]].scale) / float(model.tensors[op.inputs[0]].scale)
                break
        rows.append({"name": node.name, "op": node.op_type,
                     "inputs": [i for i in node.inputs if i and not graph.is_const(i)], "output": out,
                     "tensor": t.name, "shape": list(t.shape), "scale": float(t.scale), "bound": int(t.bound),
                     "bits": int(t.bound).bit_length() + 1, "weight_scale": w_scale,
                     "int_ops": [op.kind for op in ops]})
        acc.append([0.0, 0.0, 0.0, 0.0, 0.0])  # max |err|, max |float|, Σ f·q, Σ f², Σ q²
    samples = batch[:LAYER_SAMPLES]
    for x in samples:
        floats = float_execute(graph, x)
        w = model.execute(model.quantize_input(x))
        for row, a in zip(rows, acc):
            f = np.asarray(floats[row["output"]], dtype=np.float64).ravel()
            qv = np.asarray(w[row["tensor"]]).astype(np.float64).ravel() * row["scale"]
            if f.size != qv.size:
                continue
            a[0] = max(a[0], float(np.abs(f - qv).max()) if f.size else 0.0)
            a[1] = max(a[1], float(np.abs(f).max()) if f.size else 0.0)
            a[2] += float(f @ qv)
            a[3] += float(f @ f)
            a[4] += float(qv @ qv)
    for row, (err, mx, fq, ff, qq) in zip(rows, acc):
        cos = fq / (ff * qq) ** 0.5 if ff > 0 and qq > 0 else (1.0 if ff == qq else 0.0)
        row["fidelity"] = {"samples": int(len(samples)), "max_abs_error": err, "max_abs_float": mx,
                           "rel_error": err / mx if mx > 0 else 0.0, "cosine_similarity": cos}
    return rows


# ------------------------------------------------------------------------------------------------- compile


def _group_samples(samples: np.ndarray, batch: int) -> np.ndarray:
    """``(M, 1, *rest)`` single samples as ``(⌈M/batch⌉, batch, *rest)`` batch inputs (the last group wraps
    around to the first samples)."""
    m = samples.shape[0]
    groups = -(-m // batch)
    idx = np.arange(groups * batch) % m
    return samples[idx].reshape((groups, batch) + samples.shape[2:])


def _per_sample(rows: np.ndarray, outputs, batch: int) -> np.ndarray:
    """Rows of concatenated batch outputs ``(G, Σ batch·size_o)`` as one row per sample ``(G·batch, Σ size_o)``."""
    if batch == 1:
        return rows
    parts, at = [], 0
    for o in outputs:
        n = int(np.prod(o.shape))
        parts.append(rows[:, at:at + n].reshape(rows.shape[0] * batch, n // batch))
        at += n
    return np.concatenate(parts, axis=1)


def compile_model(model_path: str | Path, calibration: str | Path | np.ndarray | None = None,
                  config: dict[str, Any] | None = None, batch: int = 1) -> QuantizedModel:
    """Compile an ONNX model to a :class:`QuantizedModel` (see module doc). ``info`` holds the report.

    Args:
        model_path: ``.onnx`` file.
        calibration: ``.npy`` batch / EZKL ``input.json`` path, an array ``(N, *input_shape)``, or None
            (then :func:`default_calibration`).
        config: overrides of :data:`~zkchain.quant.lowering.DEFAULT_CONFIG`.
        batch: samples per proof (issue 12): the input's leading dimension becomes ``batch`` (a symbolic one or a
            fixed 1), calibration samples are grouped ``batch`` at a time, and fidelity is reported per sample.
            Every matmul then runs over ``batch`` rows with its weights opened once (``docs/protocol.md`` §5.1).

    Raises:
        InputError, UnsupportedModelError, CalibrationError (all exit code 2 in the CLI).
    """
    model_path = Path(model_path)
    cfg = dict(DEFAULT_CONFIG, **(config or {}))
    if not 4 <= cfg["act_bits"] < cfg["table_bits"] + 1 or cfg["table_bits"] > 20 or not 2 <= cfg["weight_bits"] <= 24:
        raise InputError(f"bad bit widths: act_bits={cfg['act_bits']} weight_bits={cfg['weight_bits']} "
                         f"table_bits={cfg['table_bits']} (need 4 ≤ act_bits ≤ table_bits ≤ 20)")
    if batch < 1:
        raise InputError(f"--batch must be at least 1, got {batch}")
    graph = load_onnx(model_path, batch_size=batch)
    check_supported(graph)
    inp = graph.inputs[0]
    if batch > 1 and inp.shape[0] != batch:
        raise InputError(f"--batch {batch}: the model's input {inp.name!r} has shape {list(inp.shape)}, whose leading "
                         "dimension is not a batch dimension")
    sample_shape = (1,) + tuple(inp.shape[1:]) if batch > 1 else tuple(inp.shape)

    n_real = None  # samples from index n_real on are synthetic (droppable)
    if calibration is None:
        batch_in, calib_desc, n_real = default_calibration(model_path, sample_shape, vocab=_vocab(graph),
                                                           parts=len(graph.packed) or 1)
    elif isinstance(calibration, np.ndarray):
        from zkchain.quant.inputs import _as_samples

        batch_in, calib_desc = _as_samples(calibration, sample_shape, "calibration array"), "calibration array"
    else:
        try:
            batch_in = read_samples(calibration, sample_shape, len(graph.packed) or 1)
        except InputError as exc:
            raise InputError(f"calibration file does not match the model: {exc}") from None
        calib_desc = f"{calibration} ({batch_in.shape[0]} samples)"
    if batch > 1:  # one calibration input is `batch` samples; synthetic ones are kept (their groups mix)
        calib_desc += f", grouped {batch} per batch input"
        batch_in, n_real = _group_samples(batch_in, batch), None
    samples_per_input = batch
    batch = batch_in

    # 2. float ranges
    stats: dict[str, float] = {}
    keep = []
    # a mask (Where with a −inf fill before a Softmax) is infinite by design: its range is its finite entries'
    masks = {n.outputs[0] for n in graph.nodes if n.op_type == "Where"
             or (n.op_type == "Add" and any(graph.is_const(i) and not np.isfinite(graph.constants[i]).all()
                                            for i in n.inputs))}

    def amax(name, v) -> float:
        if name in masks:
            v = v[np.isfinite(v)]
        return float(np.abs(v).max()) if v.size else 0.0

    for i, x in enumerate(batch):
        sample_stats = {name: amax(name, v) for name, v in float_execute(graph, x).items()}
        bad = next((name for name, m in sample_stats.items() if not np.isfinite(m)), None)
        if bad is not None:
            if n_real is not None and i >= n_real:
                continue  # a synthetic sample outside the model's domain (e.g. log of a negative): drop it
            raise CalibrationError(f"tensor {bad!r} is not finite (NaN/inf) on calibration sample {i}")
        keep.append(i)
        for name, m in sample_stats.items():
            stats[name] = max(stats.get(name, 0.0), m)
    if not keep:
        raise CalibrationError("the model is not finite on any calibration sample")
    if len(keep) < len(batch):
        calib_desc += f"; {len(batch) - len(keep)} synthetic samples dropped (model not finite on them)"
        batch = batch[keep]

    # 3. lowering
    L = Lowerer(graph, stats, cfg)
    s_in = 1.0 if inp.dtype.startswith("int") else L.act_scale(inp.name)  # token ids are integers as they are
    L.fresh(inp.name)
    L.tensors[inp.name] = IntTensor(inp.name, inp.shape, s_in, 0, "input")
    L.env[inp.name] = QT(inp.name, s_in, stats.get(inp.name, 0.0) / s_in, inp.shape)
    lower_graph(L)
    for out in graph.outputs:  # graph outputs carry their ONNX names in the witness
        q = L.env[out.name]
        if q.name != out.name:
            L.env[out.name] = L.emit("reshape", [q], {"shape": list(out.shape)}, out.name, q.scale, q.bound,
                                     out.shape, "output")
        L.tensors[L.env[out.name].name].role = "output"

    model = QuantizedModel(inp.name, inp.shape, s_in, [L.env[o.name].name for o in graph.outputs], L.tensors, L.ops,
                           L.tables, cfg)

    # 4. integer execution on the calibration set: bounds, accumulator bound, table domains
    limit = 1 << cfg["acc_bound_log2"]
    quant_rows = []
    for x in batch:
        w = model.execute(model.quantize_input(x))
        for name, t in model.tensors.items():
            b = max_abs(w[name])
            if b > t.bound:
                t.bound = b
                if tuple(w[name].shape) != t.shape:
                    t.shape = tuple(w[name].shape)
        quant_rows.append(np.concatenate([model.dequantize_output(w[o], o).ravel() for o in model.output_names]))
    for name, t in model.tensors.items():
        if t.bound >= limit:
            src = next((op.source for op in model.ops if name in op.outputs), "?")
            raise CalibrationError(
                f"tensor {name!r} (from node {src!r}) reaches |{t.bound}| ≥ 2^{cfg['acc_bound_log2']} on the "
                "calibration data; lower --weight-bits/--act-bits or raise the accumulator bound"
            )

    # 5. fidelity
    ref, ref_name = float_reference(model_path, graph, batch)
    ref = _per_sample(ref, graph.outputs, samples_per_input)
    quant = _per_sample(np.stack(quant_rows), graph.outputs, samples_per_input)
    report = fidelity(ref, quant, int(np.prod(graph.outputs[0].shape)) // samples_per_input)
    report["reference"] = ref_name
    model.info = {
        "model": model_path.parent.name if model_path.stem in ("model", "network") else model_path.stem,
        "source_model": str(model_path),
        "source_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "calibration": calib_desc,
        "calibration_samples": int(batch.shape[0]) * samples_per_input,
        "batch": samples_per_input,
        "fidelity": report,
        "op_counts": model.op_counts(),
        "layers": layer_report(graph, L.env, model, batch),
        "onnx_ops": graph.op_types(),
    }
    if graph.packed:  # several inputs packed into one: their names and shapes, in the order input_data lists them
        model.info["packed_inputs"] = [[name, list(shape)] for name, shape in graph.packed]
    if inp.dtype.startswith("int"):
        model.info["input_dtype"] = "int64"  # token ids: an input must hold integers
    return model


def write_compiled(model: QuantizedModel, build_dir: str | Path, force: bool = False) -> list[Path]:
    """Save the artifact; refuses a non-empty ``build_dir`` unless ``force`` (raises :class:`InputError`)."""
    d = Path(build_dir)
    if d.exists() and not d.is_dir():
        raise InputError(f"{d} exists and is not a directory")
    if d.is_dir() and any(d.iterdir()) and not force:
        raise InputError(f"{d} is not empty (it may hold a previous build); use --force to overwrite")
    return model.save(d)


__all__ = ["compile_model", "write_compiled", "default_calibration", "fidelity", "CalibrationError",
           "UnsupportedModelError", "IntOp"]
