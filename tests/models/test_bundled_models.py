"""The bundled digits models load, run in onnxruntime and reach the accuracy their meta.json claims.

Fast (a few seconds in all) and torch-free: the models are checked only through onnx/onnxruntime.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from zkchain.errors import InputError
from zkchain.models import BUNDLED_MODELS, bundled_model_dir

ort = pytest.importorskip("onnxruntime")

MIN_ACCURACY = {"digits_mlp": 0.95, "digits_cnn": 0.95, "lenet5": 0.96, "digits_vit": 0.95}
INPUT_SHAPES = {"digits_mlp": [1, 64], "digits_cnn": [1, 1, 8, 8], "lenet5": [1, 1, 28, 28], "digits_vit": [1, 4, 16]}
N_TEST = 450
MAX_FOLDER_BYTES = {"digits_mlp": 1 << 20, "digits_cnn": 1 << 20, "lenet5": 3 << 20, "digits_vit": 1 << 20}
FILES = ("model.onnx", "calibration.npy", "test_inputs.npy", "test_labels.npy", "input.json", "meta.json")


def _session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _run(sess, x):
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))], axis=0)


DIGITS = [n for n in BUNDLED_MODELS if n.startswith(("digits", "lenet"))]  # image classifiers on the digits split


@pytest.fixture(scope="module", params=DIGITS)
def bundled(request):
    name = request.param
    d = bundled_model_dir(name)
    meta = json.loads((d / "meta.json").read_text())
    return name, d, meta


def test_every_model_folder_is_listed():
    root = bundled_model_dir(BUNDLED_MODELS[0]).parent
    on_disk = sorted(p.name for p in root.iterdir() if (p / "meta.json").is_file())
    assert on_disk == sorted(BUNDLED_MODELS)


def test_unknown_name_raises_input_error_listing_names():
    with pytest.raises(InputError) as exc:
        bundled_model_dir("no_such_model")
    for name in BUNDLED_MODELS:
        assert name in str(exc.value)


def test_files_present_and_small(bundled):
    name, d, meta = bundled
    for f in FILES:
        assert (d / f).is_file(), f
    size = sum(p.stat().st_size for p in d.iterdir() if p.is_file())
    assert size < MAX_FOLDER_BYTES[name]
    assert meta["name"] == name
    assert meta["input_shape"] == INPUT_SHAPES[name]


def test_onnx_checker_and_static_shapes(bundled):
    name, d, meta = bundled
    model = onnx.load(str(d / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} == {17}
    (inp,) = model.graph.input
    dims = [dim.dim_value if dim.HasField("dim_value") else None for dim in inp.type.tensor_type.shape.dim]
    assert dims == INPUT_SHAPES[name]
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    (out,) = model.graph.output
    assert [dim.dim_value for dim in out.type.tensor_type.shape.dim] == [1, 10]


def test_data_files_layout(bundled):
    name, d, meta = bundled
    x = np.load(d / "test_inputs.npy")
    y = np.load(d / "test_labels.npy")
    c = np.load(d / "calibration.npy")
    assert x.dtype == np.float32 and c.dtype == np.float32 and y.dtype == np.int64
    assert x.shape == (N_TEST, *INPUT_SHAPES[name][1:])
    assert y.shape == (N_TEST,)
    assert 150 <= c.shape[0] <= 250 and c.shape[1:] == x.shape[1:]
    assert set(np.unique(y)) == set(range(10))
    for arr in (x, c):
        assert np.isfinite(arr).all() and arr.min() >= 0.0 and arr.max() <= 1.0


def test_accuracy_matches_meta(bundled):
    name, d, meta = bundled
    x = np.load(d / "test_inputs.npy")
    y = np.load(d / "test_labels.npy")
    logits = _run(_session(d / "model.onnx"), x)
    acc = float((logits.argmax(axis=1) == y).mean())
    assert acc >= MIN_ACCURACY[name]
    assert meta["test_accuracy"] >= MIN_ACCURACY[name]
    assert abs(acc - meta["test_accuracy"]) <= 0.005


def test_input_json_matches_onnxruntime(bundled):
    name, d, meta = bundled
    data = json.loads((d / "input.json").read_text())
    assert set(data) >= {"input_data", "input_shapes", "output_data"}
    assert data["input_shapes"] == [INPUT_SHAPES[name]]
    x = np.asarray(data["input_data"][0], dtype=np.float32).reshape(INPUT_SHAPES[name])
    k = meta["input_json"]["test_index"]
    np.testing.assert_array_equal(x[0], np.load(d / "test_inputs.npy")[k])
    sess = _session(d / "model.onnx")
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0].reshape(-1)
    want = np.asarray(data["output_data"][0], dtype=np.float32)
    assert want.shape == (10,)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_one_corpus_lookup_with_an_environment_variable(tmp_path, monkeypatch):
    """Tests and benchmarks find the EZKL corpus through one function: $ZKCHAIN_EZKL_CORPUS first; when nothing is
    found the skip reason says how to point at it."""
    import zkchain.models as models

    monkeypatch.setenv(models.CORPUS_ENV, str(tmp_path))
    assert models.ezkl_corpus_dir() == tmp_path
    monkeypatch.setenv(models.CORPUS_ENV, str(tmp_path / "absent"))
    monkeypatch.setattr(models, "_CORPUS_PLACES", ())
    assert models.ezkl_corpus_dir() is None and models.CORPUS_ENV in models.corpus_missing_reason()


def test_char_gpt_files_vocabulary_and_accuracy():
    """The character-level GPT: token ids in (int64, below the vocabulary), logits over the vocabulary out, the
    held-out next-character accuracy in meta.json reproduced by onnxruntime."""
    d = bundled_model_dir("char_gpt")
    meta = json.loads((d / "meta.json").read_text())
    for f in FILES:
        assert (d / f).is_file(), f
    assert sum(p.stat().st_size for p in d.iterdir() if p.is_file()) < 1 << 20
    V, T = len(meta["vocabulary"]), meta["input_shape"][0]
    x, y, c = (np.load(d / f) for f in ("test_inputs.npy", "test_labels.npy", "calibration.npy"))
    assert x.dtype == y.dtype == c.dtype == np.int64 and x.shape[1:] == y.shape[1:] == c.shape[1:] == (T,)
    assert 0 <= min(x.min(), c.min()) and max(x.max(), c.max()) < V
    sess = _session(d / "model.onnx")
    logits = np.stack([sess.run(None, {"idx": w})[0] for w in x])
    assert logits.shape == (len(x), T, V)
    acc = float((logits.argmax(-1) == y).mean())
    assert acc >= 0.45 and abs(acc - meta["test_next_char_accuracy"]) <= 0.005
