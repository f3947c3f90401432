"""Verifiable accuracy (issue 12): a circuit proving that a private model classifies exactly ``k`` of the ``N``
samples of a committed test set correctly, ``k`` and ``N`` public (``docs/protocol.md`` §5.11).

The test set is *public data*: two fixed vectors committed plainly in the verifying key (role
:data:`~zkchain.compiler.circuit.PUBLIC_DATA`), so anyone holding the data and the SRS recomputes their
commitments (:func:`data_vectors` says exactly what is committed), and the dataset digest (Keccak-256 of the two
commitments, ``VerifyingKey.dataset_digest``) names the set in the contract and in every accuracy proof:

==================  =========  =================================================================================
vector              entries    value
==================  =========  =================================================================================
``data.x``          ``N·F``    the quantized inputs ``floor(x/s + 1/2)`` (``s`` the model's input scale), row-major;
                               for images a convolution pads, laid out on that grid (``meta["accuracy"]["input_grid"]``,
                               padding cells ``input_fill``)
``data.onehot``     ``N·C``    ``[j = y_i]`` at ``i·C + j``
==================  =========  =================================================================================

The gadget after the batch model (its logits ``Z``, ``N × C``, committed and range-checked ``[−h, h)``), with the
lowest-index tie rule of :mod:`zkchain.quant.accuracy`:

1. the predicted class as a one-hot ``A`` (``N × C``): ``A ∈ {0, 1}`` by a range lookup, one 1 per row by a Gather
   summing each row into the constant 1;
2. its gaps ``d_ij = m_i − Z_ij − T_ij ∈ [0, 2h)`` (range lookup), ``T_ij = Σ_{j' > j} A_ij' = [j < j*_i]`` (a
   Gather reading ``A`` through ``C − 1`` shifted selections, ``m`` through a broadcast), and ``d ∘ A = 0``
   (Hadamard): then ``m_i = Z_{i,j*}``, ``Z_ij < Z_{i,j*}`` for ``j < j*`` and ``Z_ij ≤ Z_{i,j*}`` for ``j > j*``, so
   ``j*`` is the argmax, ties to the lowest index;
3. ``k = Σ_ij A_ij·onehot_ij``: a Hadamard ``t = A ∘ onehot`` and a Gather summing all of ``t`` into the one public
   output ``accuracy`` (bound ``N``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkchain.blocks import Gather, Hadamard
from zkchain.compiler.circuit import PUBLIC_DATA, Expr, Selection, Term
from zkchain.compiler.witness import Argmax, Product, RowMax, Selected
from zkchain.crypto.field import R
from zkchain.errors import InputError, UnsupportedModelError
from zkchain.quant.accuracy import TIE_RULE, check_labels

DATASET, ONEHOT = "data.x", "data.onehot"
DATA_VECTORS = (DATASET, ONEHOT)  # circuit order: the order the dataset digest hashes their commitments
COUNT = "accuracy"  # the public output: how many samples are classified correctly


@dataclass(frozen=True)
class LabelledSet:
    """A labelled test set for a batch build of ``N`` samples: ``x_int`` the quantized inputs (int64, the model's
    input shape ``(N, ...)``), ``labels`` class indices (int64 ``(N,)``) and ``classes`` (``C``)."""

    x_int: np.ndarray
    labels: np.ndarray
    classes: int

    @property
    def samples(self) -> int:
        return int(self.labels.shape[0])


def classes_of(model) -> int:
    """``C``: the first output's entries per sample of a batch build (``info["batch"]`` samples)."""
    n = int(model.info.get("batch", 1))
    size = int(np.prod(model.tensors[model.output_names[0]].shape))
    return size // n


def labelled_set(model, x_float, labels, source: str = "dataset") -> LabelledSet:
    """Quantize ``x_float`` (``N`` samples) for ``model``, a batch build of exactly ``N`` samples per proof, and check
    ``labels``. Raises :class:`InputError` for another sample count (naming the ``compile --batch`` to run), a
    wrong sample shape, NaN/inf, labels that are not class indices, or a model with fewer than two classes."""
    n = int(model.info.get("batch", 1))
    x = np.asarray(x_float, dtype=np.float64)
    per = int(np.prod(model.input_shape)) // n
    if x.ndim == 0 or x.size % per or x.shape[0] * per != x.size:
        raise InputError(f"{source}: expected N samples of {per} values each (the model input is "
                         f"{list(model.input_shape)}), got shape {list(x.shape)}")
    if x.shape[0] != n:
        raise InputError(f"{source} holds {x.shape[0]} samples but this build proves {n} per proof: compile with "
                         f"`zkchain compile MODEL.onnx -o BUILD --batch {x.shape[0]}` first")
    classes = classes_of(model)
    if classes < 2:
        raise UnsupportedModelError(f"the model's first output has {classes} entry per sample: accuracy needs at "
                                    "least two class scores")
    y = check_labels(labels, n, classes)
    return LabelledSet(model.quantize_input(x), y, classes)


def onehot_vector(labels: np.ndarray, classes: int) -> list[int]:
    """``[j = y_i]`` at ``i·C + j`` (``N·C`` ints)."""
    j = np.arange(classes)[None, :]
    return (j == np.asarray(labels, dtype=np.int64)[:, None]).astype(np.int64).reshape(-1).tolist()


def dataset_vector(x_int: np.ndarray, grid=None, fill: int = 0) -> list[int]:
    """:data:`DATASET`'s entries: the quantized inputs row-major, or placed on ``grid``
    (:class:`zkchain.compiler.circuit.Grid`, the padded grid of a convolution reading the input) with ``fill`` in
    its padding cells."""
    x = np.asarray(x_int)
    return [int(v) for v in (grid.embed(x, fill) if grid is not None else x.reshape(-1)).tolist()]


def dataset_inputs(values, accuracy_meta: dict) -> np.ndarray:
    """The quantized inputs (int64, flat) back from :data:`DATASET`'s entries (field elements, as the proving key
    holds them): the inverse of :func:`dataset_vector` for the layout ``accuracy_meta`` (``meta["accuracy"]``)
    records."""
    from zkchain.crypto.field import R

    x = np.array([v - R if v > R // 2 else v for v in values], dtype=np.int64)
    if "input_grid" in accuracy_meta:
        C, H, W, Hp, Wp, top, left = accuracy_meta["input_grid"]
        x = x.reshape(C, Hp, Wp)[:, top:top + H, left:left + W].reshape(-1)
    return x


def data_vectors(ts: LabelledSet, accuracy_meta: dict | None = None) -> dict[str, list[int]]:
    """The public-data vectors' entries (signed ints), by name, in :data:`DATA_VECTORS` order: what setup commits
    and what a third party recommits to check the verifying key's test set (``accuracy_meta``: the key's
    ``circuit.meta["accuracy"]``, which says where the inputs lie)."""
    from zkchain.compiler.circuit import Grid

    meta = accuracy_meta or {}
    grid = Grid(*meta["input_grid"]) if "input_grid" in meta else None
    return {DATASET: dataset_vector(ts.x_int, grid, int(meta.get("input_fill", 0))),
            ONEHOT: onehot_vector(ts.labels, ts.classes)}


def widen_bounds(model, witness) -> list[str]:
    """Raise every tensor's bound to cover its values in ``witness`` (the test set's run), so the circuit's range
    checks admit the test set; returns the widened tensors. The bounds are calibrated on the calibration set, and a
    test set may go slightly past them (the digits MLP's logits reach 523 on its test split, 500 in calibration).
    Raises :class:`InputError` when a value passes the accumulator bound."""
    from zkchain.quant.primitives import max_abs

    limit = 1 << int(model.config.get("acc_bound_log2", 40))
    out = []
    for name, t in model.tensors.items():
        if name not in witness:
            continue
        b = max_abs(witness[name])
        if b >= limit:
            raise InputError(f"the test set drives tensor {name!r} to |{b}| ≥ 2^{limit.bit_length() - 1}, past the "
                             "accumulator bound; recompile with a calibration set that covers it")
        if b > t.bound:
            t.bound = b
            out.append(name)
    return out


def argmax_onehot(L, z: Expr, N: int, C: int, h: int, prefix: str, label: str,
                  one_per_row: str = "one 1 per row", no_gap: str = "the argmax") -> Expr:
    """Steps 1–2 of the module doc for ``N`` rows of ``C`` committed entries ``z`` (each in ``[−h, h)``): the one-hot
    ``A`` of every row's argmax (the lowest index on a tie), proven by a 0/1 range lookup, a Gather summing each row
    into 1, the gaps ``d = m − Z − T ∈ [0, 2h)`` and ``d ∘ A = 0``. Vectors ``<prefix>.argmax``, ``.max`` and
    ``.gap``; constraints named ``<label>: …``. Returns ``A`` (``N·C`` entries)."""
    c = L.c
    # 1. the predicted class: a 0/1 vector with one 1 per row
    an = f"{prefix}.argmax"
    a = c.add_vector(an, N * C, "witness")
    L.sources[an] = Argmax(z, C)
    L.range_check(an, a, 0, 2)
    c.constraints.append(Gather((a,), (Selection.reduce((N, C), {1}),), Expr(N, (), 1), f"{label}: {one_per_row}"))

    # 2. gaps d = m − Z − T ≥ 0 with T_ij = Σ_{j'>j} A_ij' = [j < j*], and d ∘ A = 0: j* is the argmax (lowest index)
    m = c.add_vector(f"{prefix}.max", N, "witness")
    L.sources[f"{prefix}.max"] = RowMax(z, C)
    neg_a = Expr(N * C, (Term(an, R - 1),))
    later = tuple(Selection(0, s, ((N, C, C), (C - s, 1, 1))) for s in range(1, C))  # out[i, j] += x[i, j + s]
    spread = Selection.broadcast((N, 1), (N, C))
    neg_z = Expr(N * C, tuple(Term(t.vector, -t.coef % R, t.shift) for t in z.terms), -z.const % R)
    gn = f"{prefix}.gap"
    d = c.add_vector(gn, N * C, "witness")
    L.sources[gn] = Selected((m,) + (neg_a,) * (C - 1) + (neg_z,), (spread,) + later + (Selection.identity(N * C),),
                             N * C)
    c.constraints.append(Gather((m,) + (neg_a,) * (C - 1), (spread,) + later,
                                Expr(N * C, d.terms + z.terms, z.const), f"{label}: gaps to the row maximum"))
    L.check_range(gn, N * C, 0, 2 * h)  # honest gaps: m − Z − T ≤ (h − 1) + h
    c.constraints.append(Hadamard(d, a, Expr(N * C, ()), f"{label}: {no_gap} has no gap"))
    return a


def lower_accuracy(L, ts: LabelledSet) -> None:
    """Append the accuracy gadget (module doc) to lowering ``L`` (``zkchain.compiler.lower.Lowering``), whose input
    is already the public-data vector :data:`DATASET`. Sets ``circuit.meta["accuracy"]``."""
    from zkchain.compiler.lower import _pow2_at_least

    c, model = L.c, L.model
    o = model.output_names[0]
    N, C = ts.samples, ts.classes
    if L.size(o) != N * C:
        raise UnsupportedModelError(f"output {o!r} has {L.size(o)} entries, not {N} samples × {C} classes")
    oh = c.add_vector(ONEHOT, N * C, "fixed", PUBLIC_DATA)
    L.fixed[ONEHOT] = onehot_vector(ts.labels, C)
    z = L.committed(o)  # the logits: one committed vector (range-checked [−h, h) by finish)
    L.looked_up.discard(o)  # ... unless committed() called it "equal to bounded terms": the count needs the range
    h = _pow2_at_least(max(1, model.tensors[o].bound) + 1)

    a = argmax_onehot(L, z, N, C, h, "acc", "accuracy", "one predicted class per sample", "the predicted class")

    # 3. k = Σ_ij A_ij·onehot_ij, the public output
    t = c.add_vector("acc.hit", N * C, "witness")
    L.sources["acc.hit"] = Product(a, oh)
    c.constraints.append(Hadamard(a, oh, t, "accuracy: prediction meets label"))
    everything = Selection.reduce((N, C), {0, 1})
    k = c.add_vector(COUNT, 1, "public", "output", bound=N)
    L.sources[COUNT] = Selected((t,), (everything,), 1)
    c.constraints.append(Gather((t,), (everything,), k, "accuracy: correct count"))
    c.meta["accuracy"] = {"samples": N, "classes": C, "input_scale": float(model.input_scale),
                          "quantization": "x_int = floor(x / input_scale + 1/2)", "tie_rule": TIE_RULE,
                          "data": list(DATA_VECTORS), "count": COUNT}
    g = L.grids.get(model.input_name)
    if g is not None and g.padded:  # the inputs lie on a convolution's padded grid: data_vectors needs to know
        c.meta["accuracy"].update(input_grid=[g.C, g.H, g.W, g.Hp, g.Wp, g.top, g.left],
                                  input_fill=int(L.fill.get(model.input_name, 0)))
