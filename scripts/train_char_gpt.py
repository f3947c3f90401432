#!/usr/bin/env python3
"""Train and export zkchain's bundled character-level GPT (``zkchain/models/char_gpt``), no download.

Text: the Python reference documentation that ships with every CPython (``pydoc_data.topics``: the help text
of ``help('topic')``, ~700 KB of English), so the corpus is on every machine that runs zkchain. Characters
outside printable ASCII map to ``?``; the vocabulary is the characters that occur (sorted), stored in
``meta.json``.

Model: token + position embeddings, one pre-LayerNorm transformer block (two-head causal self-attention,
GELU MLP), LayerNorm, a linear head to the vocabulary; context 16 characters. Input ``idx`` (16,) int64 token
ids, output ``logits`` (16, V): position t predicts character t + 1. Exported with
``torch.onnx.export(dynamo=False, opset_version=17)``; the causal mask exports as ``Where(mask, -inf, scores)``.

Files: model.onnx, calibration.npy (200 training windows of ids), test_inputs.npy / test_labels.npy (held-out
windows and their next characters), input.json (one window), meta.json (vocabulary, split, accuracy,
versions, how to retrain). Deterministic: fixed seeds, one CPU thread.

    python scripts/train_char_gpt.py                  # into zkchain/models/char_gpt
    python scripts/train_char_gpt.py --steps 200 --out /tmp/models
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "zkchain" / "models"
NAME = "char_gpt"
CONTEXT, WIDTH, HEADS = 16, 32, 2
OPSET = 17
N_CALIBRATION, N_TEST = 200, 256


def corpus() -> str:
    """The Python reference documentation shipped with CPython, topics in sorted order, one text."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k] for k in sorted(topics))
    return "".join(ch if 32 <= ord(ch) < 127 or ch == "\n" else "?" for ch in text)


def windows(ids: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: ``x[i] = ids[s:s+C]``, ``y[i] = ids[s+1:s+C+1]`` for each start ``s``."""
    x = np.stack([ids[s:s + CONTEXT] for s in starts])
    y = np.stack([ids[s + 1:s + CONTEXT + 1] for s in starts])
    return x.astype(np.int64), y.astype(np.int64)


def build(torch, vocab: int):
    nn = torch.nn
    T, D, H = CONTEXT, WIDTH, HEADS

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
            self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
            self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))
            self.register_buffer("mask", torch.tril(torch.ones(T, T)))

        def forward(self, h):  # (T, D) at export, (B, T, D) in training
            lead, dh = h.shape[:-2], D // H
            q, k, v = (t.reshape(*lead, T, H, dh).transpose(-3, -2) for t in self.qkv(self.ln1(h)).split(D, dim=-1))
            a = (q @ k.transpose(-1, -2) / dh ** 0.5).masked_fill(self.mask == 0, float("-inf"))
            o = (torch.softmax(a, dim=-1) @ v).transpose(-3, -2).reshape(*lead, T, D)
            h = h + self.proj(o)
            return h + self.mlp(self.ln2(h))

    class CharGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, D), nn.Embedding(T, D)
            self.block, self.ln, self.head = Block(), nn.LayerNorm(D), nn.Linear(D, vocab)
            self.register_buffer("positions", torch.arange(T))

        def forward(self, idx):
            return self.head(self.ln(self.block(self.tok(idx) + self.pos(self.positions))))

    return CharGPT()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="train_char_gpt.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory that receives char_gpt/")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=3000, help="Adam steps of 64 windows")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.stderr.write("error: this script needs PyTorch: pip install -e '.[torch]'\n")
        return 2
    import onnx
    import onnxruntime as ort

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    text = corpus()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int64)
    cut = int(0.9 * len(ids))  # the last 10 % of the text is held out
    rng = np.random.default_rng(args.seed)
    model = build(torch, len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        x, y = windows(ids, rng.integers(0, cut - CONTEXT - 1, size=64))
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)).reshape(-1, len(chars)),
                                                 torch.from_numpy(y).reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    train_s = time.perf_counter() - t0

    d = args.out / NAME
    d.mkdir(parents=True, exist_ok=True)
    onnx_path = d / "model.onnx"
    torch.onnx.export(model, (torch.zeros(CONTEXT, dtype=torch.int64),), str(onnx_path), dynamo=False,
                      opset_version=OPSET, input_names=["idx"], output_names=["logits"], do_constant_folding=True)
    onnx.checker.check_model(onnx.load(str(onnx_path)), full_check=True)
    cal_x, _ = windows(ids, np.sort(rng.integers(0, cut - CONTEXT - 1, size=N_CALIBRATION)))
    test_x, test_y = windows(ids, np.sort(rng.integers(cut, len(ids) - CONTEXT - 1, size=N_TEST)))
    np.save(d / "calibration.npy", cal_x)
    np.save(d / "test_inputs.npy", test_x)
    np.save(d / "test_labels.npy", test_y)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    logits = np.stack([sess.run(None, {"idx": x})[0] for x in test_x])
    acc = float((logits.argmax(-1) == test_y).mean())
    (d / "input.json").write_text(json.dumps({"input_data": [test_x[0].tolist()], "input_shapes": [[CONTEXT]],
                                              "output_data": [logits[0].reshape(-1).tolist()]}) + "\n")
    meta = {
        "name": NAME,
        "architecture": f"token Embedding({len(chars)},{WIDTH}) + position Embedding({CONTEXT},{WIDTH}); one pre-LN "
                        f"block ({HEADS}-head causal attention, GELU MLP {WIDTH}-{4 * WIDTH}-{WIDTH}); LayerNorm; "
                        f"Linear({WIDTH},{len(chars)})",
        "n_parameters": int(sum(q.numel() for q in model.parameters())),
        "input_name": "idx", "input_shape": [CONTEXT], "input_dtype": "int64",
        "output_name": "logits", "output_shape": [CONTEXT, len(chars)],
        "output_meaning": "position t's logits over the vocabulary predict character t + 1 (greedy: argmax)",
        "vocabulary": "".join(chars),
        "dataset": "the Python reference documentation shipped with CPython (pydoc_data.topics), printable ASCII",
        "split": "first 90 % of the text for training windows, last 10 % for test windows",
        "n_test_windows": N_TEST,
        "test_next_char_accuracy": round(acc, 6),
        "test_accuracy_source": "onnxruntime on model.onnx, every position of every test window",
        "seed": args.seed, "steps": args.steps, "train_seconds": round(train_s, 1),
        "torch_version": torch.__version__, "opset": OPSET, "python": platform.python_version(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "retrain": f"pip install -e '.[torch]' && python scripts/train_char_gpt.py --seed {args.seed} --steps {args.steps}",
        "sha256": {f: hashlib.sha256((d / f).read_bytes()).hexdigest()
                   for f in ("model.onnx", "calibration.npy", "test_inputs.npy", "test_labels.npy")},
    }
    (d / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{NAME}: next-character accuracy {acc:.4f} on held-out text; {meta['n_parameters']} params; "
          f"vocabulary {len(chars)}; trained in {train_s:.0f} s -> {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
