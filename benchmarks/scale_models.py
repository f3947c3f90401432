"""The models of issue 14's scale table, written as model folders that ``bench_prove.py --model-dir`` takes.

    python benchmarks/scale_models.py OUT_DIR            # dense_1m, dense_4m, cifar_cnn under OUT_DIR

Each folder holds ``model.onnx`` (opset 17), ``calibration.npy`` (64 samples), ``input.json`` (EZKL style) and
``meta.json``. Weights are He-initialised from a fixed seed (no training: proving cost does not depend on the
values, only on shapes and bit widths); inputs are standard normal. Sizes:

* ``dense_1m``: 1024 → 512 → 1024 → 10 (ReLU), 1,060,362 parameters (the MLP of issue 14's measurement);
* ``dense_4m``: 1024 → 2048 → 1024 → 10 (ReLU), 4,207,626 parameters (DeepProve's "Dense 4M" size);
* ``cifar_cnn``: input 3×32×32, three Conv 3×3 (32, 64, 128 channels, pad 1) + ReLU + MaxPool 2, Gemm
  2048 → 64 → 10, 225,706 parameters (a CIFAR-10-shaped CNN of ~250 k parameters).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _he(rng, shape, fan_in):
    return (rng.normal(size=shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def dense(widths: list[int], seed: int = 0) -> tuple[onnx.ModelProto, tuple[int, ...], int]:
    rng = np.random.default_rng(seed)
    nodes, inits, x, params = [], [], "input", 0
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        W, bias = _he(rng, (b, a), a), np.zeros(b, np.float32)
        params += W.size + bias.size
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(bias, f"b{i}")]
        last = i == len(widths) - 2
        y = "output" if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, f"W{i}", f"b{i}"], [y if last else f"g{i}"], transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [f"g{i}"], [y]))
        x = y
    shape = (1, widths[0])
    g = helper.make_graph(nodes, "dense", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, widths[-1]])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), shape, params


def cifar_cnn(seed: int = 0) -> tuple[onnx.ModelProto, tuple[int, ...], int]:
    rng = np.random.default_rng(seed)
    nodes, inits, x, params, c = [], [], "input", 0, 3
    for i, co in enumerate((32, 64, 128)):
        W, b = _he(rng, (co, c, 3, 3), 9 * c), np.zeros(co, np.float32)
        params += W.size + b.size
        inits += [numpy_helper.from_array(W, f"K{i}"), numpy_helper.from_array(b, f"kb{i}")]
        # strides and dilations spelled out: EZKL 23's gen_settings refuses a Conv without them ("a node is missing
        # required params: stride"), though ONNX defaults them
        nodes += [helper.make_node("Conv", [x, f"K{i}", f"kb{i}"], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                   strides=[1, 1], dilations=[1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"]),
                  helper.make_node("MaxPool", [f"r{i}"], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2])]
        x, c = f"p{i}", co
    nodes.append(helper.make_node("Flatten", [x], ["f"]))
    x = "f"
    for i, (a, b) in enumerate(((2048, 64), (64, 10))):
        W, bias = _he(rng, (b, a), a), np.zeros(b, np.float32)
        params += W.size + bias.size
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(bias, f"b{i}")]
        y = "output" if i == 1 else "g"
        nodes.append(helper.make_node("Gemm", [x, f"W{i}", f"b{i}"], [y if i == 1 else "g0"], transB=1))
        if i == 0:
            nodes.append(helper.make_node("Relu", ["g0"], ["g"]))
        x = y
    shape = (1, 3, 32, 32)
    g = helper.make_graph(nodes, "cifar_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), shape, params


MODELS = {
    "dense_1m": lambda: dense([1024, 512, 1024, 10]),
    "dense_4m": lambda: dense([1024, 2048, 1024, 10]),
    "cifar_cnn": cifar_cnn,
}


def write(name: str, out: Path) -> Path:
    """Write model folder ``out/name``; returns it."""
    model, shape, params = MODELS[name]()
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    onnx.checker.check_model(model)
    onnx.save(model, str(d / "model.onnx"))
    rng = np.random.default_rng(1)
    cal = rng.normal(size=(64, *shape[1:])).astype(np.float32)
    np.save(d / "calibration.npy", cal)
    (d / "input.json").write_text(json.dumps({"input_data": [cal[0].reshape(-1).tolist()]}))
    (d / "meta.json").write_text(json.dumps({"name": name, "parameters": int(params), "input_shape": list(shape),
                                             "source": "benchmarks/scale_models.py (He init, seed 0; untrained)"}))
    return d


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    for name in MODELS:
        d = write(name, Path(argv[0]))
        print(f"{d}: {json.loads((d / 'meta.json').read_text())['parameters']:,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
