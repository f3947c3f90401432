#!/usr/bin/env python3
"""Train and export zkchain's bundled real-data models (scikit-learn's 8x8 digits, no download).

Models (each written to ``<out>/<name>/``)::

    digits_mlp   MLP 64 -> 32 -> 10 (Linear, ReLU, Linear)             input (1, 64)
    digits_cnn   conv(1->4,3x3,p1) relu conv(4->8,3x3,s2,p1) relu fc    input (1, 1, 8, 8)
    lenet5       LeNet-5 on digits upsampled to 28x28 (bilinear, at     input (1, 1, 28, 28)
                 data-preparation time, not inside the model)
    digits_vit   a vision transformer block: four 4x4 patches, patch    input (1, 4, 16)
                 and position embeddings, LayerNorm, two-head
                 self-attention, LayerNorm, GELU MLP, mean pool, head

Files per model: model.onnx (opset 17, static batch 1, legacy TorchScript exporter), calibration.npy
(200 training samples), test_inputs.npy / test_labels.npy (the full held-back test split), input.json
(one test sample in EZKL's format, with the model's float outputs) and meta.json (accuracy, split, seed,
versions, how to retrain).

Data: ``sklearn.datasets.load_digits`` (1,797 images, pixel values 0..16) scaled to [0, 1] by dividing
by 16; split with ``train_test_split(test_size=0.25, random_state=0, stratify=y)`` (1,347 train / 450
test). The split does not depend on ``--seed``; the seed drives weight initialisation, batch order and
the choice of calibration samples.

Training is deterministic: fixed seeds, ``torch.use_deterministic_algorithms(True)`` and one CPU thread
by default, so re-running with the same torch build and seed writes byte-identical model.onnx files.

Torch is an optional extra of zkchain; install it with ``pip install -e '.[torch]'``. ``--help`` works
without it.

    python scripts/train_digits.py                       # all three models into zkchain/models
    python scripts/train_digits.py --models digits_mlp --out /tmp/models --seed 0
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "zkchain" / "models"
MODEL_NAMES = ("digits_mlp", "digits_cnn", "lenet5", "digits_vit")
TORCH_PIN = "2.13.0"
OPSET = 17
SPLIT = dict(test_size=0.25, random_state=0)
SPLIT_DESCRIPTION = (
    "sklearn.datasets.load_digits() (1,797 8x8 images, values 0..16), X / 16 as float32; "
    "sklearn.model_selection.train_test_split(X, y, test_size=0.25, random_state=0, stratify=y) "
    "-> 1,347 train / 450 test; test_inputs.npy / test_labels.npy hold the whole test split in that order"
)
N_CALIBRATION = 200
INPUT_JSON_TEST_INDEX = 0

# Per-model hyper-parameters (Adam, mini-batches, cosine learning-rate decay). The CNN's were picked on a
# validation split carved out of the training split (never on the test split).
HPARAMS = {
    "digits_mlp": dict(epochs=60, batch_size=32, lr=3e-3, weight_decay=1e-4),
    "digits_cnn": dict(epochs=60, batch_size=32, lr=2e-3, weight_decay=1e-4),
    "lenet5": dict(epochs=30, batch_size=32, lr=2e-3, weight_decay=1e-4),
    "digits_vit": dict(epochs=80, batch_size=32, lr=3e-3, weight_decay=1e-4),
}
MIN_ACCURACY = {"digits_mlp": 0.95, "digits_cnn": 0.95, "lenet5": 0.96, "digits_vit": 0.95}
INPUT_SHAPES = {"digits_mlp": (1, 64), "digits_cnn": (1, 1, 8, 8), "lenet5": (1, 1, 28, 28), "digits_vit": (1, 4, 16)}
VIT = dict(tokens=4, patch=16, width=32, heads=2)
ARCHITECTURES = {
    "digits_mlp": "Linear(64,32) - ReLU - Linear(32,10)",
    "digits_cnn": (
        "Conv2d(1,4,3,padding=1) - ReLU - Conv2d(4,8,3,stride=2,padding=1) - ReLU - Flatten - Linear(128,10)"
    ),
    "lenet5": (
        "Conv2d(1,6,5) - ReLU - AvgPool2d(2) - Conv2d(6,16,5) - ReLU - AvgPool2d(2) - Flatten - "
        "Linear(256,120) - ReLU - Linear(120,84) - ReLU - Linear(84,10)"
    ),
    "digits_vit": (
        "Linear(16,32) + position(4,32); x + Attention(LayerNorm(x)) [2 heads: Linear(32,96) -> Q,K,V, "
        "softmax(Q·Kᵀ/4)·V, Linear(32,32)]; x + MLP(LayerNorm(x)) [Linear(32,64) - GELU - Linear(64,32)]; "
        "mean over the 4 tokens; Linear(32,10)"
    ),
}
PREPROCESSING = {
    "digits_mlp": "pixels / 16 (float32 in [0, 1]), flattened row-major to 64 values",
    "digits_cnn": "pixels / 16 (float32 in [0, 1]), shaped (1, 8, 8)",
    "lenet5": (
        "pixels / 16 (float32 in [0, 1]), shaped (1, 8, 8), then upsampled to (1, 28, 28) with "
        "torch.nn.functional.interpolate(mode='bilinear', align_corners=False) at data-preparation time"
    ),
    "digits_vit": (
        "pixels / 16 (float32 in [0, 1]), cut into four 4x4 patches in row-major patch order (top-left, top-right, "
        "bottom-left, bottom-right), each flattened row-major: (4, 16)"
    ),
}


def _import_torch():
    """Import torch lazily so ``--help`` (and the rest of zkchain) never needs it."""
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        sys.stderr.write(
            "error: this script needs PyTorch, an optional extra of zkchain.\n"
            "       Install it with:  pip install -e '.[torch]'   (pins torch==%s)\n" % TORCH_PIN
        )
        raise SystemExit(2) from None
    if torch.__version__.split("+")[0] != TORCH_PIN:
        sys.stderr.write(
            "warning: torch %s is installed but the bundled models were made with torch==%s; "
            "outputs may differ from the committed files.\n" % (torch.__version__, TORCH_PIN)
        )
    return torch


def load_split():
    """The fixed digits split: (x_train, y_train, x_test, y_test), x as float32 (N, 8, 8) in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8)
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, stratify=y, **SPLIT)
    return x_tr, y_tr, x_te, y_te


def prepare(name: str, x: np.ndarray, torch) -> np.ndarray:
    """Turn (N, 8, 8) images in [0, 1] into the model's input layout (N, *input_shape[1:]), float32."""
    if name == "digits_mlp":
        return np.ascontiguousarray(x.reshape(len(x), 64), dtype=np.float32)
    if name == "digits_cnn":
        return np.ascontiguousarray(x.reshape(len(x), 1, 8, 8), dtype=np.float32)
    if name == "lenet5":
        t = torch.from_numpy(np.ascontiguousarray(x.reshape(len(x), 1, 8, 8), dtype=np.float32))
        up = torch.nn.functional.interpolate(t, size=(28, 28), mode="bilinear", align_corners=False)
        return np.ascontiguousarray(up.numpy(), dtype=np.float32)
    if name == "digits_vit":
        n = len(x)
        return np.ascontiguousarray(x.reshape(n, 2, 4, 2, 4).transpose(0, 1, 3, 2, 4).reshape(n, 4, 16), dtype=np.float32)
    raise ValueError(name)


def build_model(name: str, torch):
    nn = torch.nn
    if name == "digits_mlp":
        return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    if name == "digits_cnn":
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(4, 8, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(8 * 4 * 4, 10),
        )
    if name == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )
    if name == "digits_vit":
        return _vit(torch)
    raise ValueError(name)


def _vit(torch):
    """The digits_vit module (``ARCHITECTURES["digits_vit"]``): inputs (B, 4, 16)."""
    nn = torch.nn
    T, P, D, H = VIT["tokens"], VIT["patch"], VIT["width"], VIT["heads"]

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)

        def forward(self, x):
            b, dh = x.shape[0], D // H
            q, k, v = (t.reshape(b, T, H, dh).transpose(1, 2) for t in self.qkv(x).split(D, dim=-1))
            a = torch.softmax(q @ k.transpose(-1, -2) / dh ** 0.5, dim=-1)
            return self.proj((a @ v).transpose(1, 2).reshape(b, T, D))

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.pos = nn.Linear(P, D), nn.Parameter(torch.zeros(1, T, D))
            self.ln1, self.attn, self.ln2 = nn.LayerNorm(D), Attention(), nn.LayerNorm(D)
            self.mlp = nn.Sequential(nn.Linear(D, 2 * D), nn.GELU(), nn.Linear(2 * D, D))
            self.head = nn.Linear(D, 10)

        def forward(self, x):
            h = self.embed(x) + self.pos
            h = h + self.attn(self.ln1(h))
            h = h + self.mlp(self.ln2(h))
            return self.head(h.mean(dim=1))

    return ViT()


def train(name: str, x_tr: np.ndarray, y_tr: np.ndarray, seed: int, torch):
    hp = HPARAMS[name]
    torch.manual_seed(seed)
    model = build_model(name, torch)
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    steps_per_epoch = -(-len(x_tr) // hp["batch_size"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=hp["epochs"] * steps_per_epoch)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(hp["epochs"]):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), hp["batch_size"]):
            idx = perm[i : i + hp["batch_size"]]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model


def export_onnx(model, name: str, path: Path, torch) -> None:
    dummy = torch.zeros(INPUT_SHAPES[name], dtype=torch.float32)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=["input"],
        output_names=["output"],
        do_constant_folding=True,
        export_params=True,
    )


def ort_predict(path: Path, x: np.ndarray) -> np.ndarray:
    """Run the exported model one sample at a time (static batch 1); returns (N, 10) float32 logits."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {inp: x[i : i + 1]})[0] for i in range(len(x))], axis=0)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_model(name: str, out: Path, seed: int, data, torch) -> dict:
    import onnx

    t0 = time.perf_counter()
    x_tr8, y_tr, x_te8, y_te = data
    x_tr, x_te = prepare(name, x_tr8, torch), prepare(name, x_te8, torch)

    model = train(name, x_tr, y_tr, seed, torch)
    train_seconds = time.perf_counter() - t0
    with torch.no_grad():
        torch_acc = float((model(torch.from_numpy(x_te)).argmax(1).numpy() == y_te).mean())

    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    onnx_path = d / "model.onnx"
    export_onnx(model, name, onnx_path, torch)
    onnx_model = onnx.load(str(onnx_path))
    onnx.checker.check_model(onnx_model, full_check=True)

    logits = ort_predict(onnx_path, x_te)
    acc = float((logits.argmax(1) == y_te).mean())
    if acc < MIN_ACCURACY[name]:
        raise SystemExit(f"error: {name} reached {acc:.4f} test accuracy, below {MIN_ACCURACY[name]}")

    rng = np.random.default_rng(seed)
    calib_idx = np.sort(rng.permutation(len(x_tr))[:N_CALIBRATION])
    np.save(d / "calibration.npy", x_tr[calib_idx].astype(np.float32))
    np.save(d / "test_inputs.npy", x_te.astype(np.float32))
    np.save(d / "test_labels.npy", y_te.astype(np.int64))

    k = INPUT_JSON_TEST_INDEX
    input_json = {
        "input_data": [[float(v) for v in x_te[k].reshape(-1)]],
        "input_shapes": [list(INPUT_SHAPES[name])],
        "output_data": [[float(v) for v in logits[k].reshape(-1)]],
    }
    (d / "input.json").write_text(json.dumps(input_json) + "\n")

    n_params = int(sum(p.numel() for p in model.parameters()))
    meta = {
        "name": name,
        "architecture": ARCHITECTURES[name],
        "n_parameters": n_params,
        "input_name": "input",
        "input_shape": list(INPUT_SHAPES[name]),
        "input_dtype": "float32",
        "output_name": "output",
        "output_shape": [1, 10],
        "output_meaning": "logits for digits 0..9 (no softmax); prediction = argmax",
        "preprocessing": PREPROCESSING[name],
        "dataset": "scikit-learn bundled digits (sklearn.datasets.load_digits), no download",
        "split": SPLIT_DESCRIPTION,
        "n_train": int(len(x_tr)),
        "n_test": int(len(x_te)),
        "test_accuracy": round(acc, 6),
        "test_accuracy_source": "onnxruntime (CPU, float32) on model.onnx over test_inputs.npy vs test_labels.npy",
        "test_accuracy_torch": round(torch_acc, 6),
        "min_accuracy": MIN_ACCURACY[name],
        "calibration": (
            f"{N_CALIBRATION} training-split samples, rows numpy.random.default_rng(seed).permutation(n_train)"
            f"[:{N_CALIBRATION}] sorted, same layout as the model input minus the batch dim"
        ),
        "input_json": {
            "test_index": k,
            "label": int(y_te[k]),
            "format": "EZKL: input_data / input_shapes (full model input shape, batch 1) / output_data "
            "(onnxruntime float outputs)",
        },
        "seed": seed,
        "training": dict(
            optimizer="Adam",
            lr_schedule="cosine annealing per step to 0",
            loss="cross-entropy",
            **HPARAMS[name],
            train_seconds=round(train_seconds, 1),
        ),
        "torch_version": torch.__version__,
        "onnx_export": f"torch.onnx.export(dynamo=False, opset_version={OPSET}, do_constant_folding=True)",
        "opset": OPSET,
        "deterministic": "torch.manual_seed(seed), torch.use_deterministic_algorithms(True), 1 CPU thread",
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "retrain": (
            "pip install -e '.[torch]' && python scripts/train_digits.py "
            f"--models {name} --out zkchain/models --seed {seed}"
        ),
        "sha256": {f: _sha256(d / f) for f in ("model.onnx", "calibration.npy", "test_inputs.npy", "test_labels.npy")},
    }
    (d / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    size = sum(p.stat().st_size for p in d.iterdir() if p.is_file())
    print(
        f"{name}: test accuracy {acc:.4f} (onnxruntime), {torch_acc:.4f} (torch); "
        f"{n_params} params; {size / 1024:.0f} KiB in {d}; {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    return meta


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="train_digits.py",
        description=(
            "Train zkchain's bundled digits models (MLP, small CNN, LeNet-5, a small vision transformer) on "
            "scikit-learn's bundled 8x8 "
            "digits and export them to ONNX (opset 17, batch 1) with calibration/test data, input.json and "
            "meta.json. Needs the torch extra: pip install -e '.[torch]'."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory that receives one folder per model")
    p.add_argument("--seed", type=int, default=0, help="seed for weight init, batch order and calibration choice")
    p.add_argument(
        "--models",
        nargs="+",
        choices=MODEL_NAMES,
        default=list(MODEL_NAMES),
        metavar="NAME",
        help="models to build, any of: " + ", ".join(MODEL_NAMES),
    )
    p.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 keeps results bit-identical across machines)"
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch = _import_torch()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    np.random.seed(args.seed)
    data = load_split()
    for name in args.models:
        make_model(name, args.out, args.seed, data, torch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
