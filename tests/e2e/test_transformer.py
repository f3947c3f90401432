"""A transformer block from PyTorch, as a user would try it (issue 11): a ViT-style block — patch embedding plus
positional embedding, LayerNorm, two-head self-attention (Q·Kᵀ and softmax·V: products of two activations),
residual adds, an MLP with exact GELU (Erf), mean pooling and a classifier head — exported with
``torch.onnx.export(..., dynamo=False, opset_version=17)``, compiled, proved and verified through the Python API.
The soundness of the attention product is attacked in ``tests/adversarial/test_matproduct.py``."""

from __future__ import annotations

import numpy as np
import pytest

T, P, D, H = 4, 16, 16, 2


def _vit(torch):
    nn = torch.nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.out = nn.Linear(D, 3 * D), nn.Linear(D, D)

        def forward(self, x):  # (T, D)
            dh = D // H
            q, k, v = (t.reshape(T, H, dh).transpose(0, 1) for t in self.qkv(x).split(D, dim=-1))  # (H, T, dh)
            a = torch.softmax(q @ k.transpose(-1, -2) / dh ** 0.5, dim=-1)
            return self.out((a @ v).transpose(0, 1).reshape(T, D))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.pos = nn.Linear(P, D), nn.Parameter(torch.randn(T, D) * 0.1)
            self.ln1, self.attn, self.ln2 = nn.LayerNorm(D), Attention(), nn.LayerNorm(D)
            self.mlp = nn.Sequential(nn.Linear(D, 2 * D), nn.GELU(), nn.Linear(2 * D, D))
            self.head = nn.Linear(D, 10)

        def forward(self, x):
            h = self.embed(x) + self.pos
            h = h + self.attn(self.ln1(h))
            h = h + self.mlp(self.ln2(h))
            return self.head(h.mean(dim=0, keepdim=True))

    return Block().eval()


def test_a_torch_transformer_block_proves_and_verifies(tmp_path):
    torch = pytest.importorskip("torch")
    import onnx

    import zkchain

    torch.manual_seed(0)
    net = _vit(torch)
    path = tmp_path / "vit.onnx"
    torch.onnx.export(net, (torch.randn(T, P),), str(path), dynamo=False, opset_version=17, input_names=["x"],
                      output_names=["y"])
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"MatMul", "Softmax", "Erf", "Transpose", "ReduceMean"} <= ops, ops
    cal = np.random.default_rng(0).normal(size=(32, T, P)).astype(np.float32)
    res = zkchain.compile(path, tmp_path / "build", calibration=cal)
    assert res.blocks > 0
    zkchain.setup(tmp_path / "build")
    x = cal[5]
    proved = zkchain.prove(tmp_path / "build", x)
    assert zkchain.verify(tmp_path / "build", proved)
    want = net(torch.from_numpy(x)).detach().numpy().reshape(-1)
    got = np.asarray(proved.outputs[0], dtype=float).reshape(-1)
    cos = float(want @ got / np.linalg.norm(want) / np.linalg.norm(got))
    assert cos > 0.99 and int(np.argmax(got)) == int(np.argmax(want)), (cos, want, got)


@pytest.mark.sweep  # the tiny GPT below has the same mask; this one checks the first position's independence
def test_causal_self_attention_with_a_minus_inf_mask(tmp_path):
    """GPT-style masking as torch exports it (``masked_fill(mask == 0, -inf)`` → ``Where`` with a constant
    condition): the masked scores get probability exactly 0, the block proves and verifies."""
    torch = pytest.importorskip("torch")
    import zkchain

    nn = torch.nn

    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.out = nn.Linear(D, 3 * D), nn.Linear(D, 5)
            self.register_buffer("mask", torch.tril(torch.ones(T, T)))

        def forward(self, x):
            q, k, v = self.qkv(x).split(D, dim=-1)
            a = (q @ k.transpose(-1, -2) / D ** 0.5).masked_fill(self.mask == 0, float("-inf"))
            return self.out(torch.softmax(a, dim=-1) @ v)

    torch.manual_seed(1)
    net = Causal().eval()
    path = tmp_path / "causal.onnx"
    torch.onnx.export(net, (torch.randn(T, D),), str(path), dynamo=False, opset_version=17, input_names=["x"],
                      output_names=["y"])
    cal = np.random.default_rng(1).normal(size=(32, T, D)).astype(np.float32)
    zkchain.compile(path, tmp_path / "build", calibration=cal)
    zkchain.setup(tmp_path / "build")
    x = cal[2].copy()
    proved = zkchain.prove(tmp_path / "build", x)
    assert zkchain.verify(tmp_path / "build", proved)
    want = net(torch.from_numpy(x)).detach().numpy().reshape(-1)
    got = np.asarray(proved.outputs[0], dtype=float).reshape(-1)
    assert float(want @ got / np.linalg.norm(want) / np.linalg.norm(got)) > 0.99
    # the first position attends to itself only: changing later positions leaves its output unchanged
    x2 = x.copy()
    x2[1:] = -x2[1:]
    first = np.asarray(zkchain.prove(tmp_path / "build", x2).outputs[0], dtype=float).reshape(T, -1)[0]
    assert np.array_equal(first, got.reshape(T, -1)[0])


def _tiny_gpt(torch, V: int, L: int):
    """Token and position embeddings, LayerNorm, one causal attention head, logits over ``V`` for ``L`` positions."""
    nn = torch.nn

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(V, D), nn.Embedding(L, D)
            self.qkv, self.proj, self.ln, self.head = nn.Linear(D, 3 * D), nn.Linear(D, D), nn.LayerNorm(D), nn.Linear(D, V)
            self.register_buffer("mask", torch.tril(torch.ones(L, L)))
            self.register_buffer("positions", torch.arange(L))

        def forward(self, idx):
            h = self.tok(idx) + self.pos(self.positions)
            q, k, v = self.qkv(self.ln(h)).split(D, dim=-1)
            a = (q @ k.transpose(-1, -2) / D ** 0.5).masked_fill(self.mask == 0, float("-inf"))
            return self.head(h + self.proj(torch.softmax(a, -1) @ v))

    return TinyGPT().eval()


def _gpt_proved(torch, tmp, V: int, L: int, seed: int, ids: list[int], *compile_args):
    """A tiny GPT (seed ``seed``) exported, then through the CLI: compile (``compile_args`` added), setup, prove
    ``ids`` into ``tmp/proof.json`` and verify (accepted). Returns ``(net, build)``."""
    import json

    from clirun import zk

    torch.manual_seed(seed)
    net = _tiny_gpt(torch, V, L)
    path = tmp / "gpt.onnx"
    torch.onnx.export(net, (torch.randint(0, V, (L,)),), str(path), dynamo=False, opset_version=17,
                      input_names=["idx"], output_names=["logits"])
    np.save(tmp / "cal.npy", np.random.default_rng(seed).integers(0, V, size=(32, L)))
    build = tmp / "build"
    zk("compile", path, "-o", build, "--calibration", tmp / "cal.npy", *compile_args, check=0)
    zk("setup", build, check=0)
    (tmp / "in.json").write_text(json.dumps({"input_data": [ids]}))
    zk("prove", build, "--input", tmp / "in.json", "-o", tmp / "proof.json", check=0)
    assert "accepted" in zk("verify", build, tmp / "proof.json", check=0).stdout
    return net, build


def test_a_tiny_gpt_on_token_ids(tmp_path):
    """Token ids in (an int64 input), token and positional embeddings, LayerNorm, causal attention, logits out:
    compile, prove and verify through the CLI; an id outside the vocabulary or a fractional id is a clear error
    (exit 2)."""
    torch = pytest.importorskip("torch")
    import json

    from clirun import zk

    V, L = 12, 6
    ids = [3, 1, 4, 1, 5, 9]
    net, build = _gpt_proved(torch, tmp_path, V, L, 2, ids)
    got = np.asarray(json.loads((tmp_path / "proof.json").read_text())["outputs_float"]["logits"]).reshape(L, V)
    want = net(torch.tensor(ids)).detach().numpy()
    assert (got.argmax(-1) == want.argmax(-1)).all(), (got.argmax(-1), want.argmax(-1))  # next token, every position
    for bad, msg in (([3, 1, 4, 1, 5, 12], "outside the vocabulary"), ([3, 1, 4, 1, 5, 2.5], "must be integers")):
        (tmp_path / "bad.json").write_text(json.dumps({"input_data": [bad]}))
        res = zk("prove", build, "--input", tmp_path / "bad.json", "-o", tmp_path / "bad_proof.json", check=2)
        assert msg in res.stderr and "Traceback" not in res.stderr


@pytest.mark.sweep  # compiles to ops the rest of the suite proves; run with -m sweep
def test_rmsnorm_and_tanh_gelu(tmp_path):
    """RMSNorm as LLaMA-style code writes it (``x·rsqrt(mean(x²) + ε)·w``: Pow, ReduceMean, Add, Sqrt, Div) and
    GELU's tanh form (``approximate="tanh"``) prove and verify."""
    torch = pytest.importorskip("torch")
    import zkchain

    nn = torch.nn

    class RMSNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.w = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.w

    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(8, 16), RMSNorm(16), nn.GELU(approximate="tanh"), nn.Linear(16, 4)).eval()
    path = tmp_path / "rms.onnx"
    torch.onnx.export(net, (torch.randn(3, 8),), str(path), dynamo=False, opset_version=17, input_names=["x"],
                      output_names=["y"])
    cal = np.random.default_rng(3).normal(size=(32, 3, 8)).astype(np.float32)
    zkchain.compile(path, tmp_path / "build", calibration=cal)
    zkchain.setup(tmp_path / "build")
    proved = zkchain.prove(tmp_path / "build", cal[1])
    assert zkchain.verify(tmp_path / "build", proved)
    want = net(torch.from_numpy(cal[1])).detach().numpy().reshape(-1)
    got = np.asarray(proved.outputs[0], dtype=float).reshape(-1)
    assert float(want @ got / np.linalg.norm(want) / np.linalg.norm(got)) > 0.99


def test_a_proved_greedy_generation(tmp_path):
    """``compile --generate 3``: one proof that the model, run greedily on a sliding window, generates these 3 tokens
    (the public output), equal to torch's own greedy loop."""
    torch = pytest.importorskip("torch")
    import json

    V, L = 12, 6
    prompt = [3, 1, 4, 1, 5, 9]
    net, _ = _gpt_proved(torch, tmp_path, V, L, 4, prompt, "--generate", 3)
    (generated,) = json.loads((tmp_path / "proof.json").read_text())["public"].values()
    ids, want = list(prompt), []
    with torch.no_grad():
        for _ in range(3):
            want.append(int(net(torch.tensor(ids))[-1].argmax()))
            ids = ids[1:] + [want[-1]]
    assert [int(t) for t in generated] == want
