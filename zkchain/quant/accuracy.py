"""The one classification rule zkchain uses everywhere: the predicted class of a row of logits, and which samples
of a labelled set a model gets right.

**Tie rule: the lowest index wins** (``numpy.argmax``): sample ``i`` with label ``y`` counts as correct iff
``z[y] > z[j]`` for every ``j < y`` and ``z[y] ≥ z[j]`` for every ``j > y``. ``zkchain predict --labels``, the
compile-time fidelity report (``top1_agreement``), ``zkchain setup --dataset`` and the accuracy proof
(``zkchain prove-accuracy``, ``docs/protocol.md`` §5.11) all follow it; the circuit proves the predicted class
``j*`` by ``z[j] < z[j*]`` for ``j < j*`` and ``z[j] ≤ z[j*]`` for ``j > j*``.
"""

from __future__ import annotations

import numpy as np

from zkchain.errors import InputError

TIE_RULE = "lowest index wins (numpy.argmax): a tie with an earlier class counts as wrong, with a later one as right"


def predicted(logits) -> np.ndarray:
    """The predicted class of each row of ``logits`` (``(N, C)`` numbers; ties go to the lowest index), int64."""
    z = np.asarray(logits)
    if z.ndim != 2 or z.shape[1] < 2:
        raise InputError(f"expected one row of at least 2 class scores per sample, got shape {list(z.shape)}")
    return np.argmax(z, axis=1).astype(np.int64)


def correct(logits, labels) -> np.ndarray:
    """Boolean ``(N,)``: whether each sample's predicted class (:func:`predicted`) is its label."""
    y = check_labels(labels, np.asarray(logits).shape[0], np.asarray(logits).shape[1])
    return predicted(logits) == y


def check_labels(labels, n: int, classes: int, source: str = "labels") -> np.ndarray:
    """``labels`` as an int64 ``(n,)`` array of class indices in ``[0, classes)``; raises :class:`InputError`
    naming the first bad entry otherwise."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n:
        raise InputError(f"{source}: expected {n} labels (one per sample), got shape {list(y.shape)}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise InputError(f"{source}: labels must be whole class indices")
    elif y.dtype.kind not in "iub":
        raise InputError(f"{source}: labels must be integers, found dtype {y.dtype}")
    y = y.astype(np.int64)
    bad = np.flatnonzero((y < 0) | (y >= classes))
    if bad.size:
        raise InputError(f"{source}: label {int(y[bad[0]])} of sample {int(bad[0])} is not a class index in "
                         f"[0, {classes})")
    return y
