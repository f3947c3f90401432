"""Verifiable accuracy (issue 12): a circuit proving that a private model classifies exactly ``k`` of the ``N``
samples of a committed test set correctly, ``k`` and ``N`` public (``docs/protocol.md`` §5.10).

The test set is *public data*: three fixed vectors committed plainly in the verifying key (role
:data:`~zkchain.compiler.circuit.PUBLIC_DATA`), so anyone holding the data and the SRS recomputes their
commitments (:func:`data_vectors` says exactly what is committed), and the dataset digest (Keccak-256 of the three
commitments, ``VerifyingKey.dataset_digest``) names the set in the contract and in every accuracy proof:

==================  =========  =================================================================================
vector              entries    value
==================  =========  =================================================================================
``data.x``          ``N·F``    the quantized inputs ``floor(x/s + 1/2)`` (``s`` the model's input scale), row-major
``data.onehot``     ``N·C``    ``[j = y_i]`` at ``i·C + j``
``data.before``     ``N·C``    ``[j < y_i]`` at ``i·C + j`` (the tie rule)
==================  =========  =================================================================================

The gadget after the batch model (its logits ``Z``, ``N × C``, committed and range-checked ``[−h, h)``):

1. ``m_i = max_j (Z_ij + before_ij)`` — the row maximum of :meth:`Lowering.max_along` (Gather taps, ``d_j ≥ 0``
   range-checked to ``[0, 4h)``, ``Π_j d_j = 0``). With the lowest-index tie rule
   (:mod:`zkchain.quant.accuracy`) sample ``i`` is correct iff ``m_i = Z_{i,y_i}``, and always ``m_i ≥ Z_{i,y_i}``;
2. ``ℓ_i = Z_{i,y_i}``: a Hadamard ``t = Z ∘ onehot`` and a Gather summing each row of ``t``;
3. ``e = m − ℓ`` and the indicator ``c_i = [e_i = 0]``: two Hadamards ``e ∘ u = 1 − c`` and ``c ∘ e = 0`` (``u``
   the prover's inverse of ``e``; they force ``c_i = 1`` iff ``e_i = 0``, with no range check);
4. ``k = Σ_i c_i``: a Gather into the one public output ``accuracy`` (bound ``N``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkchain.blocks import Gather, Hadamard
from zkchain.compiler.circuit import PUBLIC_DATA, Expr, Selection, Term
from zkchain.compiler.witness import Inverse, IsZero, Product, RowMax, Selected
from zkchain.crypto.field import R
from zkchain.errors import InputError, UnsupportedModelError
from zkchain.quant.accuracy import TIE_RULE, check_labels

DATASET, ONEHOT, BEFORE = "data.x", "data.onehot", "data.before"
DATA_VECTORS = (DATASET, ONEHOT, BEFORE)  # circuit order: the order the dataset digest hashes their commitments
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


def label_vectors(labels: np.ndarray, classes: int) -> tuple[list[int], list[int]]:
    """``(onehot, before)``: ``[j = y_i]`` and ``[j < y_i]`` at ``i·C + j`` (``N·C`` ints each)."""
    j = np.arange(classes)[None, :]
    y = np.asarray(labels, dtype=np.int64)[:, None]
    return (j == y).astype(np.int64).reshape(-1).tolist(), (j < y).astype(np.int64).reshape(-1).tolist()


def data_vectors(ts: LabelledSet) -> dict[str, list[int]]:
    """The three public-data vectors' entries (signed ints), by name, in :data:`DATA_VECTORS` order: what setup
    commits and what a third party recommits to check the verifying key's test set."""
    onehot, before = label_vectors(ts.labels, ts.classes)
    return {DATASET: [int(v) for v in np.asarray(ts.x_int).reshape(-1).tolist()], ONEHOT: onehot, BEFORE: before}


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


def lower_accuracy(L, ts: LabelledSet) -> None:
    """Append the accuracy gadget (module doc) to lowering ``L`` (``zkchain.compiler.lower.Lowering``), whose input
    is already the public-data vector :data:`DATASET`. Sets ``circuit.meta["accuracy"]``."""
    from zkchain.compiler.lower import _pow2_at_least

    c, model = L.c, L.model
    o = model.output_names[0]
    N, C = ts.samples, ts.classes
    if L.size(o) != N * C:
        raise UnsupportedModelError(f"output {o!r} has {L.size(o)} entries, not {N} samples × {C} classes")
    onehot, before = label_vectors(ts.labels, C)
    oh = c.add_vector(ONEHOT, N * C, "fixed", PUBLIC_DATA)
    bf = c.add_vector(BEFORE, N * C, "fixed", PUBLIC_DATA)
    L.fixed[ONEHOT], L.fixed[BEFORE] = onehot, before
    z = L.committed(o)  # the logits: one committed vector (range-checked [−h, h) by finish)
    L.looked_up.discard(o)  # ... unless committed() called it "equal to bounded terms": the count needs the range
    h = _pow2_at_least(max(1, model.tensors[o].bound) + 1)

    # 1. m_i = max_j (Z_ij + [j < y_i]) ≥ Z_{i,y_i}, with equality iff the label wins under the tie rule
    w = Expr(N * C, z.terms + bf.terms, z.const)
    m = c.add_vector("acc.max", N, "witness")
    L.sources["acc.max"] = RowMax(w, C)
    L.max_along(w, (N, C), 1, m, "acc.max", 4 * h, "accuracy")  # w ∈ [−h, h]: m − w_j ≤ 2h < 4h

    # 2. ℓ_i = Z_{i,y_i} = Σ_j Z_ij·onehot_ij
    t = c.add_vector("acc.picked", N * C, "witness")
    L.sources["acc.picked"] = Product(z, oh)
    c.constraints.append(Hadamard(z, oh, t, "accuracy: label logits"))
    rows = Selection.reduce((N, C), {1})
    ell = c.add_vector("acc.label", N, "witness")
    L.sources["acc.label"] = Selected((t,), (rows,), N)
    c.constraints.append(Gather((t,), (rows,), ell, "accuracy: label logit per sample"))

    # 3. c_i = [m_i = ℓ_i]: e·u = 1 − c and c·e = 0
    e = Expr(N, m.terms + (Term("acc.label", R - 1),))
    ind = c.add_vector("acc.correct", N, "witness")
    L.sources["acc.correct"] = IsZero(e)
    u = c.add_vector("acc.inverse", N, "witness")
    L.sources["acc.inverse"] = Inverse(e)
    c.constraints.append(Hadamard(e, u, Expr(N, (Term("acc.correct", R - 1),), 1), "accuracy: e·u = 1 − c"))
    c.constraints.append(Hadamard(ind, e, Expr(N, ()), "accuracy: c·e = 0"))

    # 4. k = Σ_i c_i, the public output
    total = Selection.reduce((N,), {0})
    k = c.add_vector(COUNT, 1, "public", "output", bound=N)
    L.sources[COUNT] = Selected((ind,), (total,), 1)
    c.constraints.append(Gather((ind,), (total,), k, "accuracy: correct count"))
    c.meta["accuracy"] = {"samples": N, "classes": C, "input_scale": float(model.input_scale),
                          "quantization": "x_int = floor(x / input_scale + 1/2)", "tie_rule": TIE_RULE,
                          "data": list(DATA_VECTORS), "count": COUNT}
